"""Celery tasks for live signals: generation on bar close, evidence, the track record."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from apps.market.calendar import OPENS_AT, market_status
from apps.signals.evidence import evidence_refresh_all
from apps.signals.generation import signals_generate
from apps.signals.tracking import signals_track

__all__ = ["signals_bar_close", "signals_evidence_refresh_all"]

logger = logging.getLogger(__name__)
LOCK_SECONDS = 10 * 60


@shared_task(name="apps.signals.tasks.signals_bar_close", ignore_result=True)
def signals_bar_close(timeframe: str, at: str | None = None) -> int:
    """After a ``timeframe`` bar closes: judge the open signals on it, then issue new ones.

    Does nothing on a non-trading day or before the session opens (beat's crontab knows
    no holidays). Runs after the 15:30 close are wanted: they judge the day's last bar.
    Tracking runs first so a bar that reached an open signal's stop or target inside it
    resolves it there, before an EXIT signal at the same bar's close could. Idempotent; a
    run that overlaps a slow previous one is skipped (the next picks up). ``at`` (ISO 8601,
    aware) replays the run of that moment.
    """
    now = datetime.fromisoformat(at) if at else timezone.now()
    status = market_status(now)
    if not status.is_trading_day or status.at.time() < OPENS_AT:
        return 0
    lock = f"signals:bar-close:{timeframe}"
    if not cache.add(lock, "1", timeout=LOCK_SECONDS):
        logger.info("signals_bar_close(%s): previous run still going, skipped", timeframe)
        return 0
    try:
        resolved = signals_track(timeframe=timeframe, now=now)
        created = signals_generate(timeframe=timeframe, now=now)
    finally:
        cache.delete(lock)
    logger.info("signals_bar_close(%s): %d new, %d resolved", timeframe, len(created), resolved)
    return len(created)


@shared_task(name="apps.signals.tasks.signals_evidence_refresh_all", ignore_result=True)
def signals_evidence_refresh_all() -> int:
    """Nightly: recompute every strategy's backtested record on every active equity."""
    return evidence_refresh_all()
