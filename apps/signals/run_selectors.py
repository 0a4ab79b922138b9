"""Reads of backtest runs: the owner's list and runs, and a run shared by link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from apps.accounts.models import User
from apps.market.models import Instrument
from apps.signals.models import BacktestRun

_INSTRUMENTS = Prefetch("instruments", queryset=Instrument.objects.select_related("exchange"))


def backtest_run_list(*, owner: User) -> QuerySet[BacktestRun]:
    """The owner's runs, newest first, without their reports (which can be large)."""
    return (
        BacktestRun.objects.filter(owner=owner)
        .defer("result")
        .prefetch_related(_INSTRUMENTS)
        .order_by("-created_at", "-id")
    )


def backtest_run_summary_list(*, owner: User) -> QuerySet[BacktestRun]:
    """The owner's runs with their reports (the list page shows headline figures)."""
    return (
        BacktestRun.objects.filter(owner=owner)
        .prefetch_related(_INSTRUMENTS)
        .order_by("-created_at", "-id")
    )


def backtest_run_get(*, owner: User, run_id: int) -> BacktestRun | None:
    """`run_id` if `owner` owns it; None otherwise (the same as a missing id)."""
    if not owner.is_authenticated:
        return None
    return BacktestRun.objects.filter(owner=owner, pk=run_id).prefetch_related(_INSTRUMENTS).first()


def backtest_run_get_shared(*, token: str) -> BacktestRun | None:
    """The run behind a share link, while its owner keeps link sharing on."""
    if not token or len(token) > 32:
        return None
    return (
        BacktestRun.objects.filter(share_token=token, shared=True)
        .prefetch_related(_INSTRUMENTS)
        .first()
    )


def run_summary(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The headline summary of a report (a sweep's: its stitched walk-forward out-of-sample
    one, not the best in-sample fit)."""
    if not result:
        return None
    summary = result.get("summary")
    if summary is None and isinstance(result.get("walk_forward"), Mapping):
        summary = result["walk_forward"].get("summary")
    return dict(summary) if isinstance(summary, Mapping) else None
