"""The scheduled market jobs: quote polling (real simulated provider) and minute-bar pruning."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.market import ingest, tasks
from apps.market.candle_store import CandleRow, WriteMode, candles_write
from apps.market.models import Candle, DataSource, Instrument, LatestQuote

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def _fresh_ids() -> Any:
    ingest._instrument_ids.clear()
    yield
    ingest._instrument_ids.clear()


def test_fetch_quotes_ingests_every_active_instrument_in_demo_mode(settings: Any) -> None:
    settings.MARKET_DATA_PROVIDER = "simulated"
    settings.MARKET_SIMULATED_ALWAYS_OPEN = True
    active = Instrument.objects.filter(active=True).count()
    assert tasks.fetch_quotes() == active
    assert LatestQuote.objects.count() == active
    assert Candle.objects.filter(timeframe="1m").count() == active
    assert set(LatestQuote.objects.values_list("source", flat=True)) == {DataSource.SIMULATED}


def test_fetch_quotes_does_nothing_when_the_market_is_closed(
    settings: Any, monkeypatch: Any
) -> None:
    settings.MARKET_SIMULATED_ALWAYS_OPEN = False
    sunday = datetime(2026, 3, 1, 11, 0, tzinfo=IST)
    monkeypatch.setattr(timezone, "now", lambda: sunday)
    assert tasks.fetch_quotes() == 0
    assert not LatestQuote.objects.exists()


def test_overlapping_rounds_are_skipped(settings: Any) -> None:
    settings.MARKET_SIMULATED_ALWAYS_OPEN = True
    cache.add(tasks.FETCH_LOCK, "1", timeout=30)
    assert tasks.fetch_quotes() == 0


def test_old_minute_bars_are_pruned_and_other_timeframes_kept(settings: Any) -> None:
    settings.MARKET_MINUTE_RETENTION_DAYS = 30
    tcs = Instrument.objects.get(symbol="TCS", exchange__code="NSE")
    old = timezone.now() - timedelta(days=31)
    recent = timezone.now() - timedelta(days=1)
    price = Decimal("3500")
    candles_write(
        rows=[
            CandleRow(tcs.pk, timeframe, start, price, price, price, price, 1, DataSource.CSV)
            for timeframe in ("1m", "1d")
            for start in (old, recent)
        ],
        mode=WriteMode.REPLACE,
    )
    assert tasks.prune_minute_candles(batch_size=1) == 1
    assert sorted(Candle.objects.values_list("timeframe", flat=True)) == ["1d", "1d", "1m"]


def test_schedules_are_installed_idempotently_with_an_expiry_for_polls() -> None:
    call_command("install_schedules")
    call_command("install_schedules")
    poll = PeriodicTask.objects.get(task="apps.market.tasks.fetch_quotes")
    assert poll.interval is not None
    assert poll.expire_seconds == poll.interval.every
    assert PeriodicTask.objects.filter(task="apps.market.tasks.fetch_quotes").count() == 1


@responses.activate
def test_a_failing_provider_trips_the_breaker_and_nothing_is_ingested(
    settings: Any, monkeypatch: Any
) -> None:
    from apps.market.feed import feed_status

    settings.MARKET_DATA_PROVIDER = "yahoo"
    settings.MARKET_BREAKER_FAILURES = 2
    monday_morning = datetime(2026, 3, 2, 11, 0, tzinfo=IST)
    monkeypatch.setattr(timezone, "now", lambda: monday_morning)
    yahoo = re.compile(r"https://query1\.finance\.yahoo\.com/.*")
    responses.get(yahoo, status=503, body="Service Unavailable")
    for _ in range(4):
        assert tasks.fetch_quotes() == 0
    calls_while_closed = len(responses.calls)
    assert calls_while_closed > 0
    # Open after two failed rounds: later rounds leave the provider alone.
    assert tasks.fetch_quotes() == 0
    assert len(responses.calls) == calls_while_closed
    assert feed_status()["state"] == "open"
    assert not LatestQuote.objects.exists()


def test_live_simulated_quotes_continue_the_loaded_history(settings: Any) -> None:
    """History and live quotes share one calendar, so there is no artificial gap."""
    from apps.market.history import history_load
    from apps.market.providers import get_provider

    settings.MARKET_DATA_PROVIDER = "simulated"
    settings.MARKET_SIMULATED_ALWAYS_OPEN = False
    reliance = Instrument.objects.select_related("exchange").get(
        symbol="RELIANCE", exchange__code="NSE"
    )
    # 2026-01-27 follows the Republic Day holiday (Monday 2026-01-26).
    history_load(provider=get_provider(), instruments=[reliance], timeframe="1d",
                 start=date(2026, 1, 20), end=date(2026, 1, 24))
    last = Candle.objects.filter(instrument=reliance, timeframe="1d").order_by("-start").first()
    assert last is not None
    from apps.market.providers import InstrumentRef

    (quote,) = get_provider().latest_quotes(
        [InstrumentRef.from_instrument(reliance)], at=datetime(2026, 1, 27, 10, 0, tzinfo=IST)
    )
    assert quote.prev_close == last.close
