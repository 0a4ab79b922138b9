"""`manage.py load_history` and `history_load`: provider history, holidays, 1m roll-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from apps.market.calendar import trading_days
from apps.market.history import bars_roll_up, history_load
from apps.market.models import Candle, DataSource, Instrument
from apps.market.providers import InstrumentRef, SimulatedProvider

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
OHLCV = ("open", "high", "low", "close", "volume")


def _run(*args: str) -> str:
    out = StringIO()
    call_command("load_history", "--provider", "simulated", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _candles(symbol: str, timeframe: str) -> dict[datetime, tuple[Any, ...]]:
    rows = Candle.objects.filter(instrument__symbol=symbol, timeframe=timeframe).values_list(
        "start", *OHLCV
    )
    return {row[0].astimezone(IST): tuple(row[1:]) for row in rows}


def _aggregate(bars: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """OHLCV of consecutive bars (oldest first), computed without pandas."""
    return (
        bars[0][0],
        max(bar[1] for bar in bars),
        min(bar[2] for bar in bars),
        bars[-1][3],
        sum(bar[4] for bar in bars),
    )


def test_daily_history_fills_trading_days_and_skips_weekends_and_holidays() -> None:
    # 2025-02-26 (Mahashivratri) and 2025-03-14 (Holi) are seeded NSE holidays.
    output = _run(
        "--symbols",
        "RELIANCE,TCS",
        "--timeframe",
        "1d",
        "--start",
        "2025-02-24",
        "--end",
        "2025-03-16",
    )

    expected_days = [
        date(2025, 2, 24),
        date(2025, 2, 25),
        date(2025, 2, 27),
        date(2025, 2, 28),
        *(date(2025, 3, d) for d in (3, 4, 5, 6, 7, 10, 11, 12, 13)),
    ]
    assert "simulated: 2 instrument(s), 1d 2025-02-24..2025-03-16" in output
    for symbol in ("RELIANCE", "TCS"):
        daily = _candles(symbol, "1d")
        assert sorted(daily) == [
            datetime(d.year, d.month, d.day, tzinfo=IST) for d in expected_days
        ]
        for open_, high, low, close, volume in daily.values():
            assert low <= min(open_, close) <= max(open_, close) <= high
            assert volume > 0
    assert set(Candle.objects.values_list("source", flat=True)) == {DataSource.SIMULATED}

    # Weeks fully inside the range are rolled up (Monday 00:00 IST); the week of 03-10 ends on
    # 03-16, inside the range, so it is complete too.
    weekly = _candles("RELIANCE", "1w")
    assert sorted(weekly) == [
        datetime(2025, 2, 24, tzinfo=IST),
        datetime(2025, 3, 3, tzinfo=IST),
        datetime(2025, 3, 10, tzinfo=IST),
    ]
    daily = _candles("RELIANCE", "1d")
    for week_start, bar in weekly.items():
        days = [daily[s] for s in sorted(daily) if week_start <= s < week_start + timedelta(7)]
        assert bar == _aggregate(days)


def test_daily_bars_match_the_providers_and_reloading_changes_nothing() -> None:
    reliance = Instrument.objects.select_related("exchange").get(symbol="RELIANCE")
    provider = SimulatedProvider(trading_days=trading_days)
    args: dict[str, Any] = {
        "instruments": [reliance],
        "timeframe": "1d",
        "start": date(2025, 3, 3),
        "end": date(2025, 3, 9),
    }

    assert history_load(provider=provider, **args) == 5 + 1  # five days and their week
    assert history_load(provider=provider, **args) == 0

    bars = provider.history(
        InstrumentRef.from_instrument(reliance),
        "1d",
        datetime(2025, 3, 3, tzinfo=IST),
        datetime(2025, 3, 10, tzinfo=IST),
    )
    daily = _candles("RELIANCE", "1d")
    assert [daily[bar.start.replace(hour=0, minute=0)] for bar in bars] == [
        (bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in bars
    ]


def test_partial_weeks_at_the_edges_of_the_range_are_not_rolled_up() -> None:
    _run("--symbols", "TCS", "--timeframe", "1d", "--start", "2025-03-05", "--end", "2025-03-19")

    assert sorted(_candles("TCS", "1w")) == [datetime(2025, 3, 10, tzinfo=IST)]


def test_minute_history_lies_in_the_session_and_roll_ups_match_an_independent_computation() -> None:
    _run("--symbols", "INFY", "--timeframe", "1m", "--start", "2025-02-25", "--end", "2025-02-27")

    minutes = _candles("INFY", "1m")
    assert len(minutes) == 2 * 375  # 02-26 is a holiday
    assert {s.date() for s in minutes} == {date(2025, 2, 25), date(2025, 2, 27)}
    assert min(s.time() for s in minutes).isoformat() == "09:15:00"
    assert max(s.time() for s in minutes).isoformat() == "15:29:00"

    sizes = {"3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60}
    for timeframe, size in sizes.items():
        groups: dict[datetime, list[tuple[Any, ...]]] = defaultdict(list)
        for start in sorted(minutes):
            session_open = start.replace(hour=9, minute=15)
            offset = int((start - session_open).total_seconds() // 60)
            groups[session_open + timedelta(minutes=offset // size * size)].append(minutes[start])
        expected = {start: _aggregate(bars) for start, bars in groups.items()}
        assert _candles("INFY", timeframe) == expected, timeframe
    # 375 minutes: the last 30m bar is 15:15-15:30 and the last 1h bar 15:15-15:30.
    assert len(_candles("INFY", "30m")) == 2 * 13
    assert len(_candles("INFY", "1h")) == 2 * 7

    # 1d from 1m equals the provider's own daily bars (the aggregate of its 1m path).
    provider = SimulatedProvider(trading_days=trading_days)
    infy = Instrument.objects.select_related("exchange").get(symbol="INFY")
    daily_bars = provider.history(
        InstrumentRef.from_instrument(infy),
        "1d",
        datetime(2025, 2, 25, tzinfo=IST),
        datetime(2025, 2, 28, tzinfo=IST),
    )
    assert _candles("INFY", "1d") == {
        bar.start.replace(hour=0, minute=0): (bar.open, bar.high, bar.low, bar.close, bar.volume)
        for bar in daily_bars
    }
    assert _candles("INFY", "1w") == {}  # 02-24..03-02 is not inside the range


def test_no_daily_rollup_leaves_daily_and_weekly_bars_alone() -> None:
    _run(
        "--symbols",
        "INFY",
        "--timeframe",
        "1m",
        "--start",
        "2025-02-25",
        "--end",
        "2025-02-25",
        "--no-daily-rollup",
    )

    assert Candle.objects.filter(timeframe__in=["1d", "1w"]).count() == 0
    assert Candle.objects.filter(timeframe="1h").count() == 7


def test_all_loads_every_active_instrument_of_the_exchange() -> None:
    Instrument.objects.filter(symbol="TCS").update(active=False)

    _run("--symbols", "ALL", "--timeframe", "1d", "--start", "2025-03-03", "--end", "2025-03-03")

    loaded = set(Candle.objects.filter(timeframe="1d").values_list("instrument__symbol", flat=True))
    expected = set(
        Instrument.objects.filter(exchange__code="NSE", active=True).values_list(
            "symbol", flat=True
        )
    )
    assert loaded == expected
    assert "TCS" not in loaded
    assert len(loaded) > 40


def test_bad_arguments_are_command_errors() -> None:
    with pytest.raises(CommandError, match="Unknown symbol"):
        _run("--symbols", "RELIANCE,NOPE", "--timeframe", "1d", "--start", "2025-03-03")
    with pytest.raises(CommandError, match="is not a date"):
        _run("--symbols", "RELIANCE", "--timeframe", "1d", "--start", "03/03/2025")
    with pytest.raises(CommandError, match="--end is before --start"):
        _run(
            "--symbols",
            "RELIANCE",
            "--timeframe",
            "1d",
            "--start",
            "2025-03-03",
            "--end",
            "2025-03-01",
        )
    with pytest.raises(CommandError, match="Unknown market data provider"):
        call_command(
            "load_history",
            "--provider",
            "nope",
            "--symbols",
            "RELIANCE",
            "--timeframe",
            "1d",
            "--start",
            "2025-03-03",
            stdout=StringIO(),
        )
    with pytest.raises(CommandError):
        _run("--symbols", "RELIANCE", "--timeframe", "5m", "--start", "2025-03-03")


def test_bars_roll_up_groups_per_instrument_in_any_order() -> None:
    open_at = int(datetime(2025, 3, 3, 9, 15, tzinfo=IST).timestamp())
    frame = pd.DataFrame(
        {
            "instrument_id": [2, 1, 1, 1, 2],
            "start": [open_at, open_at + 120, open_at, open_at + 60, open_at + 180],
            "open": [50, 12, 10, 11, 51],
            "high": [55, 15, 13, 14, 56],
            "low": [45, 8, 9, 10, 46],
            "close": [51, 13, 11, 12, 52],
            "volume": [1, 2, 3, 4, 5],
        }
    )

    rolled = bars_roll_up(frame, "3m")

    assert rolled.to_dict("records") == [
        {
            "instrument_id": 1,
            "start": open_at,
            "open": 10,
            "high": 15,
            "low": 8,
            "close": 13,
            "volume": 9,
        },
        {
            "instrument_id": 2,
            "start": open_at,
            "open": 50,
            "high": 55,
            "low": 45,
            "close": 51,
            "volume": 1,
        },
        {
            "instrument_id": 2,
            "start": open_at + 180,
            "open": 51,
            "high": 56,
            "low": 46,
            "close": 52,
            "volume": 5,
        },
    ]
    assert rolled["start"].dtype == np.int64


def test_prices_keep_their_paise() -> None:
    _run(
        "--symbols", "RELIANCE", "--timeframe", "1d", "--start", "2025-03-03", "--end", "2025-03-03"
    )

    bar = Candle.objects.get(timeframe="1d")
    assert bar.start == datetime(2025, 3, 2, 18, 30, tzinfo=UTC)
    for price in (bar.open, bar.high, bar.low, bar.close):
        assert price % Decimal("0.05") == 0


def test_days_counts_back_from_the_end_day() -> None:
    output = _run("--symbols", "TCS", "--timeframe", "1d", "--days", "7", "--end", "2025-03-09")

    assert "1d 2025-03-03..2025-03-09" in output
    assert len(_candles("TCS", "1d")) == 5
