"""The market feed circuit breaker, its shared state, staleness, metrics and /readyz."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client

from apps.core.http import HttpError
from apps.market import feed
from apps.market.feed import CACHE_KEY, FeedGuard, feed_status
from apps.market.providers import InstrumentRef, MarketDataProvider, ProviderError, Quote

IST = ZoneInfo("Asia/Kolkata")
RELIANCE = InstrumentRef("RELIANCE", "NSE")
WEDNESDAY_11_AM = datetime(2026, 11, 25, 11, 0, tzinfo=IST)  # the market is open
WEDNESDAY_6_PM = datetime(2026, 11, 25, 18, 0, tzinfo=IST)
HOLIDAY_11_AM = datetime(2026, 11, 24, 11, 0, tzinfo=IST)  # Guru Nanak Jayanti
SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=IST)

pytestmark = pytest.mark.django_db  # the trading calendar reads exchanges and holidays


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedProvider(MarketDataProvider):
    """Answers with the next scripted outcome: an exception to raise, or a quote."""

    name: ClassVar[str] = "scripted"

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return [
            Quote(
                symbol=ref.symbol,
                exchange=ref.exchange,
                last_price=Decimal("2951.20"),
                open=Decimal("2945.00"),
                high=Decimal("2960.00"),
                low=Decimal("2930.10"),
                prev_close=Decimal("2940.00"),
                volume=1000,
                at=WEDNESDAY_11_AM,
                simulated=False,
            )
            for ref in symbols
        ]

    def history(self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
        return []


def down(message: str = "NSE answered 503") -> ProviderError:
    return ProviderError(message, transient=True)


def guard(provider: MarketDataProvider, clock: Clock) -> FeedGuard:
    return FeedGuard(provider, failure_threshold=3, cooldown=30, clock=clock)


class TestBreaker:
    def test_a_success_records_the_time_in_the_shared_cache(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        quotes = guard(ScriptedProvider(), clock).latest_quotes([RELIANCE])
        assert quotes[0].symbol == "RELIANCE"
        state = cache.get(CACHE_KEY)
        assert state["state"] == "closed"
        assert state["provider"] == "scripted"
        assert state["last_success"] == WEDNESDAY_11_AM.isoformat()

    def test_failures_below_the_threshold_pass_through_and_keep_it_closed(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        provider = ScriptedProvider(down(), down(), None, down(), down())
        breaker = guard(provider, clock)
        for _ in range(2):
            with pytest.raises(ProviderError, match="503"):
                breaker.latest_quotes([RELIANCE])
        breaker.latest_quotes([RELIANCE])  # a success resets the count
        for _ in range(2):
            with pytest.raises(ProviderError, match="503"):
                breaker.latest_quotes([RELIANCE])
        assert cache.get(CACHE_KEY)["state"] == "closed"
        assert provider.calls == 5

    def test_it_opens_after_three_failures_and_refuses_without_calling(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        provider = ScriptedProvider(down(), down(), down())
        breaker = guard(provider, clock)
        for _ in range(3):
            with pytest.raises(ProviderError, match="503"):
                breaker.latest_quotes([RELIANCE])
        clock.advance(29)
        with pytest.raises(ProviderError, match="circuit open") as info:
            breaker.latest_quotes([RELIANCE])
        assert info.value.transient
        assert provider.calls == 3
        assert feed_status(clock())["state"] == "open"

    def test_the_open_state_is_shared_by_every_instance(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        first = guard(ScriptedProvider(down(), down(), down()), clock)
        for _ in range(3):
            with pytest.raises(ProviderError):
                first.latest_quotes([RELIANCE])
        other_process = ScriptedProvider()
        with pytest.raises(ProviderError, match="circuit open"):
            guard(other_process, clock).latest_quotes([RELIANCE])
        assert other_process.calls == 0

    def test_after_the_cooldown_one_trial_call_closes_it_again(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        provider = ScriptedProvider(down(), down(), down(), None)
        breaker = guard(provider, clock)
        for _ in range(3):
            with pytest.raises(ProviderError):
                breaker.latest_quotes([RELIANCE])
        clock.advance(30)
        assert feed_status(clock())["state"] == "half_open"
        assert breaker.latest_quotes([RELIANCE])
        assert provider.calls == 4
        status = feed_status(clock())
        assert status["state"] == "closed"
        assert status["failures"] == 0
        assert status["last_success"] == clock().isoformat()

    def test_a_failed_trial_opens_it_for_another_cooldown(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        provider = ScriptedProvider(down(), down(), down(), down("still down"))
        breaker = guard(provider, clock)
        for _ in range(3):
            with pytest.raises(ProviderError):
                breaker.latest_quotes([RELIANCE])
        clock.advance(31)
        with pytest.raises(ProviderError, match="still down"):
            breaker.latest_quotes([RELIANCE])
        clock.advance(29)
        with pytest.raises(ProviderError, match="circuit open"):
            breaker.latest_quotes([RELIANCE])
        assert provider.calls == 4
        assert "still down" in feed_status(clock())["last_error"]

    def test_only_one_caller_gets_the_trial_while_it_runs(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        breaker = guard(ScriptedProvider(down(), down(), down()), clock)
        for _ in range(3):
            with pytest.raises(ProviderError):
                breaker.latest_quotes([RELIANCE])
        clock.advance(30)
        other = ScriptedProvider()

        class SlowTrial(ScriptedProvider):
            def latest_quotes(
                self, symbols: list[InstrumentRef], at: datetime | None = None
            ) -> list[Quote]:
                # While this trial runs, another process asks: it is refused.
                with pytest.raises(ProviderError, match="circuit open"):
                    guard(other, clock).latest_quotes(symbols)
                return super().latest_quotes(symbols, at)

        guard(SlowTrial(), clock).latest_quotes([RELIANCE])
        assert other.calls == 0
        assert guard(other, clock).latest_quotes([RELIANCE])  # closed again: calls flow

    def test_http_errors_count_and_come_out_as_provider_errors(self) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        provider = ScriptedProvider(
            HttpError("GET x answered 404", permanent=True, status=404),
            HttpError("Timed out: GET x", permanent=False),
        )
        breaker = guard(provider, clock)
        with pytest.raises(ProviderError) as info:
            breaker.latest_quotes([RELIANCE])
        assert not info.value.transient
        with pytest.raises(ProviderError) as info:
            breaker.latest_quotes([RELIANCE])
        assert info.value.transient
        assert cache.get(CACHE_KEY)["failures"] == 2


class TestFeedStatus:
    def test_no_success_while_the_market_is_open_is_stale(self) -> None:
        status = feed_status(WEDNESDAY_11_AM)
        assert status["stale"] is True
        assert status["market_open"] is True
        assert status["as_of"] is None
        assert status["state"] == "closed"

    def test_a_recent_success_is_fresh_and_an_old_one_stale(self, settings: Any) -> None:
        clock = Clock(WEDNESDAY_11_AM)
        guard(ScriptedProvider(), clock).latest_quotes([RELIANCE])
        assert feed_status(WEDNESDAY_11_AM + timedelta(seconds=60))["stale"] is False
        status = feed_status(WEDNESDAY_11_AM + timedelta(seconds=61))
        assert status["stale"] is True
        assert status["as_of"] == WEDNESDAY_11_AM.isoformat()
        settings.MARKET_STALE_AFTER = 300
        assert feed_status(WEDNESDAY_11_AM + timedelta(seconds=120))["stale"] is False

    @pytest.mark.parametrize("now", [WEDNESDAY_6_PM, SUNDAY_NOON, HOLIDAY_11_AM])
    def test_an_old_quote_is_not_stale_while_the_market_is_closed(self, now: datetime) -> None:
        guard(ScriptedProvider(), Clock(WEDNESDAY_11_AM)).latest_quotes([RELIANCE])
        status = feed_status(now)
        assert status["stale"] is False
        assert status["market_open"] is False

    def test_the_provider_defaults_to_the_configured_one(self, settings: Any) -> None:
        settings.MARKET_DATA_PROVIDER = "yahoo"
        assert feed_status(SUNDAY_NOON)["provider"] == "yahoo"


def test_metrics_are_exported_on_the_metrics_endpoint(client: Client) -> None:
    clock = Clock(WEDNESDAY_11_AM)
    breaker = guard(ScriptedProvider(down(), down(), down()), clock)
    for _ in range(3):
        with pytest.raises(ProviderError):
            breaker.latest_quotes([RELIANCE])
    feed_status(WEDNESDAY_11_AM)
    body = client.get("/metrics").content.decode()
    assert 'stocksense_market_provider_failures_total{provider="scripted"}' in body
    assert "stocksense_market_feed_stale 1.0" in body
    assert "stocksense_market_breaker_open 1.0" in body


class TestReadiness:
    def test_a_stale_feed_is_degraded_but_readyz_stays_200(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(feed, "_utcnow", lambda: WEDNESDAY_11_AM)
        response = client.get("/readyz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        market_feed = body["checks"]["market_feed"]
        assert market_feed["status"] == "degraded"
        assert market_feed["stale"] is True
        assert market_feed["as_of"] is None

    def test_an_open_breaker_is_degraded_but_readyz_stays_200(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(feed, "_utcnow", lambda: WEDNESDAY_6_PM)
        clock = Clock(WEDNESDAY_6_PM)
        breaker = guard(ScriptedProvider(down(), down(), down()), clock)
        for _ in range(3):
            with pytest.raises(ProviderError):
                breaker.latest_quotes([RELIANCE])
        response = client.get("/readyz")
        assert response.status_code == 200
        market_feed = response.json()["checks"]["market_feed"]
        assert market_feed["status"] == "degraded"
        assert market_feed["state"] == "open"
        assert market_feed["stale"] is False  # the market is closed
        assert "503" in market_feed["last_error"]

    def test_a_fresh_feed_is_ok(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(feed, "_utcnow", lambda: WEDNESDAY_11_AM + timedelta(seconds=5))
        guard(ScriptedProvider(), Clock(WEDNESDAY_11_AM)).latest_quotes([RELIANCE])
        market_feed = client.get("/readyz").json()["checks"]["market_feed"]
        assert market_feed["status"] == "ok"
        assert market_feed["provider"] == "scripted"
        assert market_feed["last_success"] == WEDNESDAY_11_AM.isoformat()
