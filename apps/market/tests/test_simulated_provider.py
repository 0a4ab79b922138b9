"""Specification of apps.market.providers (simulated feed; pure, no database)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from apps.market.providers import (
    Bar,
    InstrumentRef,
    ProviderError,
    SimulatedProvider,
    get_provider,
)

IST = ZoneInfo("Asia/Kolkata")
INFY = InstrumentRef("INFY", "NSE", "Information Technology", Decimal("0.05"), "equity")
HDFC = InstrumentRef("HDFCBANK", "NSE", "Financial Services", Decimal("0.10"), "equity")
NIFTY = InstrumentRef("NIFTY 50", "NSE", "", Decimal("0.05"), "index")


def ist(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=IST)


def day_bars(provider: SimulatedProvider, ref: InstrumentRef) -> list[Bar]:
    return provider.history(ref, "1d", ist(2024, 1, 1), ist(2025, 1, 1))


def minute_bars(provider: SimulatedProvider, ref: InstrumentRef) -> list[Bar]:
    return provider.history(ref, "1m", ist(2025, 3, 3), ist(2025, 3, 8))


def closes(bars: list[Bar]) -> np.ndarray:
    return np.array([float(bar.close) for bar in bars])


def test_same_seed_gives_the_same_history_and_another_seed_differs() -> None:
    first = minute_bars(SimulatedProvider(seed=7), INFY)
    again = minute_bars(SimulatedProvider(seed=7), INFY)
    other = minute_bars(SimulatedProvider(seed=8), INFY)
    assert first == again
    assert [bar.close for bar in first] != [bar.close for bar in other]


def test_quotes_are_deterministic_and_marked_simulated() -> None:
    at = ist(2025, 3, 4, 11, 0)
    one = SimulatedProvider(seed=3).latest_quotes([INFY, NIFTY], at=at)
    two = SimulatedProvider(seed=3).latest_quotes([INFY, NIFTY], at=at)
    assert one == two
    assert [q.symbol for q in one] == ["INFY", "NIFTY 50"]
    assert all(q.simulated for q in one)


def test_prices_lie_on_the_tick_grid() -> None:
    provider = SimulatedProvider()
    for ref in (INFY, HDFC):
        for bar in minute_bars(provider, ref) + day_bars(provider, ref):
            for price in (bar.open, bar.high, bar.low, bar.close):
                assert price > 0
                assert price % ref.tick_size == 0


def test_every_bar_has_consistent_ohlc() -> None:
    provider = SimulatedProvider()
    for ref in (INFY, HDFC, NIFTY):
        for bar in minute_bars(provider, ref) + day_bars(provider, ref):
            assert bar.low <= min(bar.open, bar.close)
            assert max(bar.open, bar.close) <= bar.high
            assert bar.volume >= 0


def test_daily_bars_aggregate_the_minute_path() -> None:
    provider = SimulatedProvider()
    minutes = provider.history(INFY, "1m", ist(2025, 3, 4), ist(2025, 3, 5))
    (day,) = provider.history(INFY, "1d", ist(2025, 3, 4), ist(2025, 3, 5))
    assert day.open == minutes[0].open
    assert day.close == minutes[-1].close
    assert day.high == max(bar.high for bar in minutes)
    assert day.low == min(bar.low for bar in minutes)
    assert day.volume == sum(bar.volume for bar in minutes)


def test_minute_bars_only_fall_within_the_session() -> None:
    bars = minute_bars(SimulatedProvider(), INFY)
    assert len(bars) == 5 * 375  # Mon 3 - Fri 7 March 2025
    for bar in bars:
        local = bar.start.astimezone(IST)
        assert local.weekday() < 5
        assert time(9, 15) <= local.time() < time(15, 30)


def test_daily_bars_skip_weekends() -> None:
    bars = day_bars(SimulatedProvider(), INFY)
    assert all(bar.start.astimezone(IST).weekday() < 5 for bar in bars)
    assert len(bars) == 262  # weekdays in 2024


def test_injected_trading_days_drive_the_calendar() -> None:
    holiday = ist(2025, 3, 5).date()

    def calendar(start, end, exchange):  # type: ignore[no-untyped-def]
        days = []
        current = start
        while current <= end:
            if current.weekday() < 5 and current != holiday:
                days.append(current)
            current += timedelta(days=1)
        return days

    bars = SimulatedProvider(trading_days=calendar).history(
        INFY, "1d", ist(2025, 3, 3), ist(2025, 3, 8)
    )
    assert [bar.start.date().day for bar in bars] == [3, 4, 6, 7]


def test_stocks_move_with_the_index_over_a_year() -> None:
    provider = SimulatedProvider()
    index_returns = np.diff(np.log(closes(day_bars(provider, NIFTY))))
    for ref in (INFY, HDFC):
        stock_returns = np.diff(np.log(closes(day_bars(provider, ref))))
        assert np.corrcoef(stock_returns, index_returns)[0, 1] > 0.3


def test_intraday_volume_is_higher_near_the_open_and_close() -> None:
    bars = SimulatedProvider().history(INFY, "1m", ist(2025, 3, 3), ist(2025, 3, 29))
    edges, middle = [], []
    for bar in bars:
        clock = bar.start.astimezone(IST).time()
        if clock < time(9, 45) or clock >= time(15, 0):
            edges.append(bar.volume)
        elif time(11, 30) <= clock < time(13, 30):
            middle.append(bar.volume)
    assert np.mean(edges) > np.mean(middle)


def test_quotes_follow_the_minute_path_during_the_session() -> None:
    provider = SimulatedProvider()
    bars = provider.history(INFY, "1m", ist(2025, 3, 4, 9, 15), ist(2025, 3, 4, 10, 31))
    current, done = bars[-1], bars[:-1]
    (at_open,) = provider.latest_quotes([INFY], at=ist(2025, 3, 4, 10, 30))
    assert at_open.last_price == current.open
    (at_close,) = provider.latest_quotes(
        [INFY], at=ist(2025, 3, 4, 10, 31) - timedelta(milliseconds=1)
    )
    assert at_close.last_price == current.close
    assert at_close.high == max(bar.high for bar in bars)
    assert at_close.low == min(bar.low for bar in bars)

    (quote,) = provider.latest_quotes([INFY], at=ist(2025, 3, 4, 10, 30) + timedelta(seconds=20))
    assert current.low <= quote.last_price <= current.high
    assert quote.open == bars[0].open
    assert max(bar.high for bar in done) <= quote.high <= max(bar.high for bar in bars)
    assert min(bar.low for bar in bars) <= quote.low <= min(bar.low for bar in done)
    completed = sum(bar.volume for bar in done)
    assert completed <= quote.volume <= completed + current.volume
    (previous_day,) = provider.history(INFY, "1d", ist(2025, 3, 3), ist(2025, 3, 4))
    assert quote.prev_close == previous_day.close


def test_prices_move_between_polls_within_a_minute() -> None:
    provider = SimulatedProvider()
    refs = [INFY, NIFTY]
    first = provider.latest_quotes(refs, at=ist(2025, 3, 4, 11, 0, 5))
    later = provider.latest_quotes(refs, at=ist(2025, 3, 4, 11, 0, 35))
    assert [q.last_price for q in first] != [q.last_price for q in later]


def test_quotes_stand_still_outside_market_hours() -> None:
    provider = SimulatedProvider()
    moments = [ist(2025, 3, 7, 15, 45), ist(2025, 3, 8, 12, 0), ist(2025, 3, 10, 9, 0)]
    quotes = [provider.latest_quotes([INFY, NIFTY], at=moment) for moment in moments]
    for before, after in zip(quotes, quotes[1:], strict=False):
        for q1, q2 in zip(before, after, strict=True):
            assert (q1.last_price, q1.high, q1.low, q1.volume) == (
                q2.last_price,
                q2.high,
                q2.low,
                q2.volume,
            )
    (friday_close,) = provider.history(INFY, "1d", ist(2025, 3, 7), ist(2025, 3, 8))
    assert quotes[0][0].last_price == friday_close.close


def test_quotes_keep_moving_outside_hours_when_always_open() -> None:
    provider = SimulatedProvider(always_open=True)
    prices = {
        provider.latest_quotes([INFY], at=ist(2025, 3, 8, hour, 0))[0].last_price
        for hour in range(0, 24, 3)
    }
    assert len(prices) > 1


def test_base_prices_set_the_level() -> None:
    provider = SimulatedProvider(base_prices={"INFY": Decimal("1500")})
    (bar,) = provider.history(INFY, "1d", ist(2025, 1, 1), ist(2025, 1, 2))
    assert Decimal("1300") < bar.close < Decimal("1700")


def test_history_never_returns_future_bars() -> None:
    provider = SimulatedProvider(now=lambda: ist(2025, 3, 4, 9, 20))
    bars = provider.history(INFY, "1m", ist(2025, 3, 4), ist(2025, 3, 5))
    assert len(bars) == 6  # 09:15 through 09:20


def test_an_unknown_timeframe_is_a_permanent_error() -> None:
    with pytest.raises(ProviderError) as excinfo:
        SimulatedProvider().history(INFY, "7m", ist(2025, 3, 3), ist(2025, 3, 4))
    assert excinfo.value.transient is False


def test_get_provider_builds_the_configured_provider() -> None:
    with override_settings(MARKET_DATA_PROVIDER="simulated"):
        assert isinstance(get_provider(), SimulatedProvider)


def test_get_provider_rejects_an_unknown_name_listing_the_known_ones() -> None:
    with pytest.raises(ImproperlyConfigured, match="simulated"):
        get_provider("bloomberg")
