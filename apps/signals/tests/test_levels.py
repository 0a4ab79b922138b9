"""Signal levels and strength against hand-worked values and a plain-loop Wilder ATR."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from apps.signals.levels import last_bar_reading, levels_from, strength_from, volume_ratio
from apps.signals.tests.conftest import wilder_atr


def _frame(
    close: list[float], high: list[float], low: list[float], volume: list[float]
) -> pd.DataFrame:
    index = pd.date_range("2026-01-01 03:45", periods=len(close), freq="D", tz="UTC")
    return pd.DataFrame(
        {"open": close, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def test_a_buy_with_an_atr_of_ten_has_its_stop_two_atr_below_and_its_target_two_r_above() -> None:
    levels = levels_from(close=100.0, atr=10.0, direction=1, stop_atr=2.0, target_r=2.0)
    assert levels is not None
    assert levels.entry == Decimal("100.00")
    assert levels.stop == Decimal("80.00")
    assert levels.target == Decimal("140.00")
    assert levels.risk_reward == Decimal("2.00")


def test_a_sell_mirrors_the_levels_above_and_below_the_entry() -> None:
    levels = levels_from(close=100.0, atr=10.0, direction=-1, stop_atr=2.0, target_r=2.0)
    assert levels is not None
    assert (levels.stop, levels.target, levels.risk_reward) == (
        Decimal("120.00"),
        Decimal("60.00"),
        Decimal("2.00"),
    )


def test_levels_use_wilders_atr_of_the_bars_and_round_the_stop_away_from_the_entry() -> None:
    close = [100.0, 102.5, 101.25, 104.0, 103.1, 106.7, 105.35, 108.2]
    high = [101.0, 103.9, 102.8, 105.6, 104.4, 107.3, 107.0, 109.45]
    low = [99.2, 100.7, 100.1, 101.9, 102.05, 103.6, 104.8, 106.15]
    bars = _frame(close, high, low, [1000.0] * len(close))
    expected_atr = wilder_atr(high, low, close, 3)

    reading = last_bar_reading(bars, atr_period=3)
    assert reading.atr == pytest.approx(expected_atr, abs=1e-9)

    buy = levels_from(close=reading.close, atr=reading.atr, direction=1, stop_atr=2.0, target_r=2.0)
    sell = levels_from(
        close=reading.close, atr=reading.atr, direction=-1, stop_atr=2.0, target_r=2.0
    )
    assert buy is not None
    assert sell is not None
    # Away from the entry: down to the paisa for a BUY, up for a SELL.
    buy_stop = math.floor((108.2 - 2 * expected_atr) * 100) / 100
    sell_stop = math.ceil((108.2 + 2 * expected_atr) * 100) / 100
    assert buy.stop == Decimal(f"{buy_stop:.2f}")
    assert sell.stop == Decimal(f"{sell_stop:.2f}")
    buy_risk = 108.2 - buy_stop
    assert buy.target == Decimal(f"{108.2 + 2 * buy_risk:.2f}")
    assert sell.target == Decimal(f"{108.2 - 2 * (sell_stop - 108.2):.2f}")
    assert buy.risk_reward == Decimal("2.00")


def test_no_levels_while_the_atr_is_warming_up() -> None:
    assert levels_from(close=100.0, atr=float("nan"), direction=1, stop_atr=2, target_r=2) is None
    bars = _frame([100.0, 101.0, 102.0], [101.0, 102.0, 103.0], [99.0, 100.0, 101.0], [1.0] * 3)
    assert math.isnan(last_bar_reading(bars, atr_period=14).atr)


def test_strength_is_the_mean_of_the_move_and_the_volume_components() -> None:
    # Move 4 on an ATR of 10 -> 0.4; volume 1.5x the average -> 0.75; mean 0.575.
    assert strength_from(close=104.0, prev_close=100.0, atr=10.0, vol_ratio=1.5) == 0.575


def test_each_strength_component_is_capped_at_one() -> None:
    assert strength_from(close=130.0, prev_close=100.0, atr=10.0, vol_ratio=5.0) == 1.0
    assert strength_from(close=95.0, prev_close=100.0, atr=10.0, vol_ratio=4.0) == 0.75


def test_without_a_volume_average_strength_is_the_move_alone() -> None:
    assert strength_from(close=103.0, prev_close=100.0, atr=10.0, vol_ratio=float("nan")) == 0.3


def test_the_volume_ratio_compares_the_last_bar_with_the_twenty_before_it() -> None:
    volume = np.array([5000.0] * 5 + [1000.0, 3000.0] * 10 + [3000.0])
    # The 20 bars before the last average 2000 (the older 5000s are outside the window).
    assert volume_ratio(volume) == pytest.approx(1.5)
    assert math.isnan(volume_ratio(np.array([1000.0] * 20)))  # only 19 earlier bars


def test_the_reading_of_the_last_bar_combines_move_and_volume() -> None:
    n = 25
    close = [100.0] * (n - 1) + [104.0]
    high = [c + 5 for c in close[:-1]] + [106.0]
    low = [c - 5 for c in close[:-1]] + [101.0]
    volume = [1000.0] * (n - 1) + [1500.0]
    bars = _frame(close, high, low, volume)
    expected_atr = wilder_atr(high, low, close, 14)  # 10 for the flat part, then the last TR
    reading = last_bar_reading(bars, atr_period=14)
    assert reading.atr == pytest.approx(expected_atr)
    assert reading.vol_ratio == pytest.approx(1.5)
    assert reading.strength == pytest.approx(round((4 / expected_atr + 0.75) / 2, 4))
