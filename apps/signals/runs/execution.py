"""Running a backtest in a worker: claim, load bars, run the engine, store the report."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.market.models import Instrument
from apps.portfolios.serializers import symbol_text
from apps.realtime.events import publish, user_group
from apps.signals.bars import bars_load
from apps.signals.models import BacktestRun, RunKind, RunStatus
from apps.signals.strategies import STRATEGIES

from .requests import DEFAULT_IN_SAMPLE, DEFAULT_WINDOWS

logger = logging.getLogger(__name__)

IST = ZoneInfo("Asia/Kolkata")
MIN_BARS = 60
PROGRESS_STEP = 5


class RunFailed(Exception):
    """A run cannot complete for a reason the user can act on; the message is shown as is."""


# --- execution --------------------------------------------------------------------------------


def _event(run: BacktestRun, kind: str) -> dict[str, Any]:
    event = {"type": kind, "id": run.pk, "status": run.status, "progress": run.progress}
    if kind == "backtest.done" and run.error:
        event["error"] = run.error
    return event


class _Progress:
    """Saves and pushes progress (0..100) at most every PROGRESS_STEP points."""

    def __init__(self, run: BacktestRun) -> None:
        self.run = run
        self.saved = run.progress

    def __call__(self, percent: float) -> None:
        value = max(0, min(99, int(percent)))
        if value - self.saved < PROGRESS_STEP:
            return
        self.saved = value
        self.run.progress = value
        BacktestRun.objects.filter(pk=self.run.pk).update(progress=value)
        publish(user_group(self.run.owner_id), _event(self.run, "backtest.progress"))

    def scaled(self, low: float, high: float) -> Callable[..., None]:
        """An engine callback (a fraction 0..1, or done and total) mapped onto low..high %."""

        def report(done: float, total: float | None = None) -> None:
            fraction = done / total if total else done
            self(low + (high - low) * max(0.0, min(1.0, float(fraction))))

        return report


def _bounds(request: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Dates are Indian calendar days: [start 00:00 IST, the day after end 00:00 IST)."""
    start = request.get("start")
    end = request.get("end")
    return (
        datetime.combine(date.fromisoformat(start), time(), IST) if start else None,
        datetime.combine(date.fromisoformat(end) + timedelta(days=1), time(), IST) if end else None,
    )


def _bars(run: BacktestRun, instrument: Instrument) -> pd.DataFrame:
    start, end = _bounds(run.request)
    bars = bars_load(instrument_id=instrument.pk, timeframe=run.timeframe, start=start, end=end)
    label = symbol_text(instrument)
    if bars.empty:
        raise RunFailed(
            _("No %(tf)s bars for %(s)s in this period.") % {"tf": run.timeframe, "s": label}
        )
    if len(bars) < MIN_BARS:
        raise RunFailed(
            _(
                "Only %(n)d %(tf)s bars for %(s)s in this period: at least %(min)d are needed. "
                "Choose a longer period or a shorter timeframe."
            )
            % {"n": len(bars), "tf": run.timeframe, "s": label, "min": MIN_BARS}
        )
    return bars


def _config(request: Mapping[str, Any]) -> Any:
    from apps.signals.backtest import BacktestConfig, Charges

    fields = dict(request.get("config") or {})
    charges = Charges(**fields.pop("charges", {}))
    for name in ("initial_capital", "fixed_amount"):
        if name in fields:
            fields[name] = float(fields[name])
    return BacktestConfig(**fields, charges=charges)


def jsonable(value: Any) -> Any:
    """The engine's report as JSON PostgreSQL accepts: numpy scalars to Python, NaN and ±inf
    to None (jsonb has no NaN), tuples to lists, timestamps to ISO text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _compute(run: BacktestRun, progress: _Progress) -> dict[str, Any]:
    from apps.signals import backtest as engine

    strategy = STRATEGIES[run.strategy]
    config = _config(run.request)
    instruments = sorted(run.instruments.select_related("exchange"), key=symbol_text)
    if not instruments:
        raise RunFailed(_("This backtest has no instruments."))
    if run.kind == RunKind.PORTFOLIO:
        frames: dict[str, pd.DataFrame] = {}
        signals: dict[str, pd.Series] = {}
        params = run.request.get("params") or strategy.defaults
        short: list[str] = []
        for index, instrument in enumerate(instruments):
            label = symbol_text(instrument)
            try:
                bars = _bars(run, instrument)
            except RunFailed:
                short.append(label)  # a universe member without enough history is left out
                continue
            frames[label] = bars
            signals[label] = strategy.signals(bars, **params)
            progress(30 * (index + 1) / len(instruments))
        if not frames:
            raise RunFailed(
                _("None of these instruments has at least %(min)d %(tf)s bars in this period.")
                % {"min": MIN_BARS, "tf": run.timeframe}
            )
        result = engine.portfolio_backtest(
            frames, signals, config, timeframe=run.timeframe, progress=progress.scaled(30, 99)
        )
        result["skipped"] = short
        return dict(result)
    bars = _bars(run, instruments[0])
    progress(10)
    if run.kind == RunKind.SWEEP:
        return dict(
            engine.sweep(
                bars,
                strategy,
                run.request["grid"],
                config,
                timeframe=run.timeframe,
                windows=int(run.request.get("windows", DEFAULT_WINDOWS)),
                in_sample=float(run.request.get("in_sample", DEFAULT_IN_SAMPLE)),
                progress=progress.scaled(10, 99),
            )
        )
    signals_one = strategy.signals(bars, **(run.request.get("params") or {}))
    progress(40)
    outcome = engine.backtest(bars, signals_one, config)
    return dict(engine.report(outcome, bars, timeframe=run.timeframe))


def _stale_before() -> datetime:
    # A run "running" for longer than a task may live lost its worker: a redelivered task
    # (acks_late) may take it over.
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def backtest_run_execute(*, run_id: int) -> BacktestRun | None:
    """Run a queued backtest: claim it, load its bars, compute signals, call the engine and
    store the report (or a readable error). Idempotent: a run that is done, failed, being
    run by another worker, or deleted is left alone (returns None)."""
    now = timezone.now()
    claimed = (
        BacktestRun.objects.filter(pk=run_id)
        .filter(
            Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, started_at__lt=_stale_before())
        )
        .update(status=RunStatus.RUNNING, started_at=now, progress=0, error="")
    )
    if not claimed:
        return None
    run = BacktestRun.objects.get(pk=run_id)
    publish(user_group(run.owner_id), _event(run, "backtest.progress"))
    progress = _Progress(run)
    try:
        result, error = jsonable(_compute(run, progress)), ""
    except RunFailed as failure:
        result, error = None, str(failure)
    except SoftTimeLimitExceeded:
        result, error = (
            None,
            _(
                "The backtest took too long. Choose a shorter period, fewer instruments or a "
                "smaller grid."
            ),
        )
    except Exception:  # the user gets a sentence; the log keeps the traceback
        logger.exception("backtest run %s failed", run_id)
        result, error = None, _("The backtest failed unexpectedly. Try again or change it.")
    run.status = RunStatus.FAILED if error else RunStatus.DONE
    run.progress = 100
    run.result = result
    run.error = error
    run.finished_at = timezone.now()
    # The row may have been deleted meanwhile: update() then touches nothing.
    BacktestRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=run.status,
        progress=100,
        result=result,
        error=error,
        finished_at=run.finished_at,
    )
    publish(user_group(run.owner_id), _event(run, "backtest.done"))
    return run
