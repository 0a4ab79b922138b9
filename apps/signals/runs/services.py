"""Backtest run writes: create (validate and queue), delete, link sharing, the room card."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.portfolios.serializers import symbol_text
from apps.signals.models import BacktestRun, RunStatus
from apps.signals.run_selectors import run_summary
from apps.signals.strategies import STRATEGIES

from .requests import backtest_request_clean

MAX_ACTIVE_RUNS = 3  # queued + running per user: protects the workers
_ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def backtest_run_create(*, owner: User, data: Any) -> BacktestRun:
    """Validate `data` (the REST / form body: see `BacktestRunInputSerializer`), store a
    queued run and queue its task after commit. ValidationError keyed by field for bad
    input, or `non_field_errors` when the owner already has MAX_ACTIVE_RUNS in progress."""
    request, instruments = backtest_request_clean(data=data)
    with transaction.atomic():
        # Locking the owner's row serialises their creates, so two at once cannot both
        # slip under the limit.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        active = BacktestRun.objects.filter(owner=owner, status__in=_ACTIVE).count()
        if active >= MAX_ACTIVE_RUNS:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "You already have %(n)d backtests queued or running. Wait for one "
                            "to finish before starting another."
                        )
                        % {"n": active}
                    ]
                }
            )
        run = BacktestRun.objects.create(
            owner=owner,
            name=request.pop("name"),
            kind=request.pop("kind"),
            strategy=request.pop("strategy"),
            timeframe=request.pop("timeframe"),
            request=request,
        )
        run.instruments.set(instruments)
        from apps.signals.tasks.backtests import backtest_run

        transaction.on_commit(partial(backtest_run.delay, run.pk))
    return run


def backtest_run_delete(*, run: BacktestRun) -> None:
    """Delete a run and its report (a worker still running it finds it gone and stops)."""
    run.delete()


def backtest_run_share_link(*, run: BacktestRun, shared: bool) -> BacktestRun:
    """Turn the public link on or off. Turning it off and on again keeps the same token, so
    a link posted in a room works again once re-enabled."""
    if run.shared != shared:
        run.shared = shared
        run.save(update_fields=["shared"])
    return run


def share_urls(run: BacktestRun) -> dict[str, str | None]:
    """The public report page and its JSON (null while link sharing is off)."""
    if not run.shared:
        return {"url": None, "api_url": None}
    return {
        "url": reverse("signals:backtest_shared", args=[run.share_token]),
        "api_url": reverse("api-backtest-shared", args=[run.share_token]),
    }


CARD_METRICS = ("net_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate")


def backtest_run_card(*, run: BacktestRun) -> dict[str, Any]:
    """What a room card shows of a run: what was tested and its headline metrics, plus the
    path of its shared report (only meaningful while link sharing is on)."""
    summary = run_summary(run.result) or {}
    strategy = STRATEGIES.get(run.strategy)
    return {
        "backtest_id": run.pk,
        "name": run.name,
        "kind": run.kind,
        "strategy": run.strategy,
        "strategy_name": str(strategy.name) if strategy else run.strategy,
        "params": run.request.get("params") or {},
        "grid": run.request.get("grid") or {},
        "instruments": sorted(symbol_text(i) for i in run.instruments.all()),
        "timeframe": run.timeframe,
        "start": summary.get("start") or run.request.get("start"),
        "end": summary.get("end") or run.request.get("end"),
        "metrics": {name: summary.get(name) for name in CARD_METRICS},
        "url": reverse("signals:backtest_shared", args=[run.share_token]),
    }
