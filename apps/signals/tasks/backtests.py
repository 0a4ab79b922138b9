"""Celery tasks for backtest runs."""

from __future__ import annotations

from celery import shared_task

from apps.signals.runs import backtest_run_execute

__all__ = ["backtest_run"]


@shared_task(name="apps.signals.tasks.backtest_run", ignore_result=True)
def backtest_run(run_id: int) -> str | None:
    """Run one queued backtest (see `backtest_run_execute`). Idempotent: a run already done,
    failed or taken by another worker is left alone, so a redelivery is harmless."""
    run = backtest_run_execute(run_id=run_id)
    return run.status if run is not None else None
