"""The live track record: open signals judged bar by bar with the backtest's fill rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from apps.market.models import Instrument
from apps.realtime.events import signals_all_group, signals_instrument_group
from apps.signals.models import Action, Outcome, Signal
from apps.signals.tests.conftest import candles_insert
from apps.signals.tests.factories import SignalFactory
from apps.signals.tracking import signals_track
from tests.events import published

pytestmark = pytest.mark.django_db

# Daily bars start at 00:00 IST (18:30 UTC the day before) and close at 15:30 IST.
DAY0 = datetime(2026, 1, 4, 18, 30, tzinfo=UTC)  # Monday 5 January 2026, IST


def _day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def _after_close_of(n: int) -> datetime:
    """A moment after bar ``n`` closed (16:00 IST that day), before bar ``n + 1`` did."""
    return _day(n) + timedelta(hours=16)


def _store(instrument: Instrument, rows: list[tuple[float, float, float, float]]) -> None:
    """Bars 1.. (after the signal bar, which is bar 0) as (open, high, low, close)."""
    index = pd.DatetimeIndex([_day(i + 1) for i in range(len(rows))], name="start")
    frame = pd.DataFrame(rows, index=index, columns=["open", "high", "low", "close"])
    frame["volume"] = 1000.0
    candles_insert(instrument, "1d", frame)


def _buy(instrument: Instrument, **overrides: Any) -> Signal:
    fields: dict[str, Any] = {
        "instrument": instrument,
        "bar_time": DAY0,
        "action": Action.BUY,
        "entry_price": Decimal("100.00"),
        "stop_loss": Decimal("90.00"),
        "target_price": Decimal("120.00"),
    }
    fields.update(overrides)
    signal: Any = SignalFactory(**fields)
    return signal


def _sell(instrument: Instrument, **overrides: Any) -> Signal:
    return _buy(
        instrument,
        **overrides,
        action=Action.SELL,
        stop_loss=Decimal("110.00"),
        target_price=Decimal("80.00"),
    )


def test_a_buy_that_reaches_its_target_first_is_resolved_at_the_target(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(100, 105, 95, 104), (104, 121, 101, 118), (118, 119, 85, 88)])

    assert signals_track(timeframe="1d", now=_after_close_of(3)) == 1

    signal.refresh_from_db()
    assert signal.outcome == Outcome.TARGET
    assert signal.exit_price == Decimal("120.0000")
    assert signal.r_multiple == Decimal("2.0000")  # (120 - 100) / (100 - 90)
    assert signal.resolved_at == _day(2)
    assert (signal.bars_held, signal.days_held) == (2, 2)
    assert signal.checked_until == _day(2)


def test_a_buy_that_reaches_its_stop_first_loses_one_r(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(98, 101, 89, 92), (92, 130, 91, 125)])

    signals_track(timeframe="1d", now=_after_close_of(2))

    signal.refresh_from_db()
    assert (signal.outcome, signal.exit_price, signal.r_multiple) == (
        Outcome.STOP,
        Decimal("90.0000"),
        Decimal("-1.0000"),
    )
    assert (signal.bars_held, signal.days_held) == (1, 1)


def test_a_bar_that_reaches_both_levels_counts_as_stopped(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(100, 125, 85, 110)])

    signals_track(timeframe="1d", now=_after_close_of(1))

    signal.refresh_from_db()
    assert (signal.outcome, signal.exit_price) == (Outcome.STOP, Decimal("90.0000"))


def test_a_gap_through_the_stop_fills_at_the_open(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(85, 87, 80, 86)])

    signals_track(timeframe="1d", now=_after_close_of(1))

    signal.refresh_from_db()
    assert (signal.outcome, signal.exit_price) == (Outcome.STOP, Decimal("85.0000"))
    assert signal.r_multiple == Decimal("-1.5000")  # (85 - 100) / 10


def test_a_sell_is_judged_the_other_way_round(reliance: Any) -> None:
    signal = _sell(reliance)
    _store(reliance, [(99, 104, 93, 95), (95, 96, 79, 81)])

    signals_track(timeframe="1d", now=_after_close_of(2))

    signal.refresh_from_db()
    assert (signal.outcome, signal.exit_price, signal.r_multiple) == (
        Outcome.TARGET,
        Decimal("80.0000"),
        Decimal("2.0000"),  # -1 x (80 - 100) / |100 - 110|
    )


def test_a_signal_that_reaches_neither_level_in_twenty_bars_expires_at_the_close(
    reliance: Any,
) -> None:
    signal = _buy(reliance)
    rows = [(100.0, 104.0, 96.0, 101.0)] * 19 + [(101.0, 104.0, 96.0, 103.5)]
    _store(reliance, [*rows, (103.5, 130.0, 101.0, 128.0)])  # bar 21 would reach the target

    signals_track(timeframe="1d", now=_after_close_of(21))

    signal.refresh_from_db()
    assert signal.outcome == Outcome.EXPIRED
    assert signal.exit_price == Decimal("103.5000")
    assert signal.r_multiple == Decimal("0.3500")
    assert signal.resolved_at == _day(20)
    assert (signal.bars_held, signal.days_held) == (20, 20)


def test_checked_until_advances_and_a_later_run_judges_only_the_new_bars(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(100, 105, 95, 101), (101, 106, 94, 102), (102, 107, 96, 103)])

    assert signals_track(timeframe="1d", now=_after_close_of(3)) == 0
    signal.refresh_from_db()
    assert (signal.outcome, signal.checked_until) == (Outcome.OPEN, _day(3))

    candles_insert(
        reliance,
        "1d",
        pd.DataFrame(
            [(103.0, 122.0, 102.0, 121.0, 1000.0)],
            index=pd.DatetimeIndex([_day(4)], name="start"),
            columns=["open", "high", "low", "close", "volume"],
        ),
    )
    assert signals_track(timeframe="1d", now=_after_close_of(4)) == 1
    signal.refresh_from_db()
    assert (signal.outcome, signal.bars_held, signal.checked_until) == (
        Outcome.TARGET,
        4,
        _day(4),
    )


def test_with_no_new_bar_nothing_changes(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(100, 105, 95, 101)])
    signals_track(timeframe="1d", now=_after_close_of(1))
    signal.refresh_from_db()
    before = (signal.outcome, signal.checked_until, signal.exit_price)

    assert signals_track(timeframe="1d", now=_after_close_of(1) + timedelta(hours=1)) == 0

    signal.refresh_from_db()
    assert (signal.outcome, signal.checked_until, signal.exit_price) == before
    assert before == (Outcome.OPEN, _day(1), None)


def test_a_bar_still_forming_is_not_judged(reliance: Any) -> None:
    signal = _buy(reliance)
    _store(reliance, [(100, 105, 95, 101), (101, 130, 100, 125)])

    # 12:00 IST on bar 2's day: that bar (which reaches the target) has not closed yet.
    signals_track(timeframe="1d", now=_day(2) + timedelta(hours=12))

    signal.refresh_from_db()
    assert (signal.outcome, signal.checked_until) == (Outcome.OPEN, _day(1))


def test_resolved_signals_are_published_to_their_groups_and_exits_are_not_tracked(
    reliance: Any, tcs: Any, django_capture_on_commit_callbacks: Any
) -> None:
    signal = _buy(reliance)
    other = _buy(tcs)
    exit_signal = _buy(reliance, action=Action.EXIT, bar_time=_day(-1), stop_loss=None)
    _store(reliance, [(100, 121, 99, 120)])
    _store(tcs, [(100, 101, 99, 100)])

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return signals_track(timeframe="1d", now=_after_close_of(1))

    resolved, events = published([signals_all_group(), signals_instrument_group(reliance.pk)], run)

    assert resolved == 1
    for group in (signals_all_group(), signals_instrument_group(reliance.pk)):
        assert events[group] == [
            {
                "type": "signal.resolved",
                "id": signal.pk,
                "stock": "RELIANCE",
                "exchange": "NSE",
                "strategy": "sma_crossover",
                "timeframe": "1d",
                "outcome": "target",
                "exit_price": "120.00",
                "r_multiple": "2.00",
                "bars_held": 1,
                "days_held": 1,
                "resolved_at": "2026-01-06T00:00:00+05:30",
            }
        ]
    other.refresh_from_db()
    exit_signal.refresh_from_db()
    assert other.outcome == Outcome.OPEN
    assert (exit_signal.outcome, exit_signal.checked_until) == (Outcome.OPEN, None)


def test_open_signals_of_one_instrument_share_one_bars_query(
    reliance: Any, django_assert_max_num_queries: Any
) -> None:
    signals = [_buy(reliance, strategy=key) for key in ("sma_crossover", "ema_crossover")]
    signals.append(_sell(reliance, strategy="macd_crossover"))
    _store(reliance, [(100, 121, 99, 120)])

    # Open signals; one candle query and one corporate-action query; a savepoint pair,
    # the bulk update and one claim per resolved signal.
    with django_assert_max_num_queries(8):
        assert signals_track(timeframe="1d", now=_after_close_of(1)) == 3
