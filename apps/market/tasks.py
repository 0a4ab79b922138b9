"""Periodic market data jobs: fetch quotes in market hours, prune old minute bars."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.market.calendar import market_status
from apps.market.feed import FeedGuard
from apps.market.ingest import quotes_ingest
from apps.market.models import Candle, DataSource, Instrument
from apps.market.providers import InstrumentRef, ProviderError, get_provider

logger = logging.getLogger(__name__)

SOURCES = {
    "simulated": DataSource.SIMULATED,
    "csv": DataSource.CSV,
    "yahoo": DataSource.YAHOO,
    "nse": DataSource.NSE,
}
FETCH_LOCK = "market:fetch-quotes:lock"


def _active_refs() -> list[InstrumentRef]:
    return [
        InstrumentRef.from_instrument(instrument)
        for instrument in Instrument.objects.filter(active=True).select_related("exchange")
    ]


@shared_task(name="apps.market.tasks.fetch_quotes", ignore_result=True)
def fetch_quotes() -> int:
    """One polling round: the configured provider's quotes for every active instrument."""
    provider = get_provider()
    now = timezone.now()
    always_open = getattr(provider, "always_open", False)
    if not always_open and market_status(now).status != "open":
        return 0
    # Beat fires every few seconds; a slow round must not overlap the next one.
    if not cache.add(FETCH_LOCK, "1", timeout=max(5, settings.MARKET_FETCH_INTERVAL * 3)):
        logger.info("fetch_quotes: previous round still running, skipped")
        return 0
    try:
        # A failing provider trips the breaker; the feed then reads as stale (feed_status)
        # instead of old prices being served as new.
        guard = FeedGuard(provider, failure_threshold=settings.MARKET_BREAKER_FAILURES,
                          cooldown=settings.MARKET_BREAKER_COOLDOWN)
        try:
            quotes = guard.latest_quotes(_active_refs())
        except ProviderError as exc:
            logger.warning("fetch_quotes: %s failed: %s", provider.name, exc)
            return 0
        result = quotes_ingest(batch=quotes, source=SOURCES.get(provider.name, DataSource.CSV))
        return result.ticks
    finally:
        cache.delete(FETCH_LOCK)


@shared_task(name="apps.market.tasks.prune_minute_candles", ignore_result=True)
def prune_minute_candles(batch_size: int = 50_000) -> int:
    """Delete 1-minute bars older than MARKET_MINUTE_RETENTION_DAYS, in small batches."""
    cutoff = timezone.now() - timedelta(days=settings.MARKET_MINUTE_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            Candle.objects.filter(timeframe="1m", start__lt=cutoff).values_list("id", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return deleted
        deleted += Candle.objects.filter(id__in=ids).delete()[0]
