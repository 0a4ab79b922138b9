"""A signal's levels and strength from the bars up to its (closed) signal bar.

- entry = the signal bar's close;
- stop = entry -/+ ``stop_atr`` x ATR(``atr_period``) (Wilder's, TA-Lib) for a BUY / SELL;
- target = entry +/- ``target_r`` x |entry - stop|;
- risk/reward = |target - entry| / |entry - stop|.

Prices are rounded to the paisa (2 dp). The stop is rounded *away* from the entry (down for
a BUY, up for a SELL) so that the rounded risk is never smaller than the ATR rule says; the
target is then computed from that rounded risk and rounded half-up, and the risk/reward is
that of the rounded levels. No levels (None) while the ATR is still warming up (NaN).

Strength (0..1) is the mean of two capped components: the signal bar's move,
|close - previous close| / ATR capped at 1, and its volume against the average of the 20
bars before it, ratio / 2 capped at 1 (twice the average volume counts fully). Without a
volume average (fewer than 20 earlier bars, or no volume, as for indices) strength is the
move component alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from apps.market.indicators import atr as atr_indicator

FloatArray = npt.NDArray[np.float64]
PAISA = Decimal("0.01")
VOLUME_AVERAGE_BARS = 20


@dataclass(frozen=True)
class Levels:
    entry: Decimal
    stop: Decimal
    target: Decimal
    risk_reward: Decimal
    atr: float


def _decimal(value: float, rounding: str) -> Decimal:
    # Through a 6-dp string first: a float like 2399.9999999997 must round as 2400.00.
    return Decimal(f"{value:.6f}").quantize(PAISA, rounding=rounding)


def price_of(value: float) -> Decimal:
    """A bar price as a Decimal rounded half-up to the paisa."""
    return _decimal(value, ROUND_HALF_UP)


def levels_from(
    *, close: float, atr: float, direction: int, stop_atr: float, target_r: float
) -> Levels | None:
    """Entry, stop, target and risk/reward for a BUY (``direction`` +1) or SELL (-1) at
    ``close`` given the ATR at that bar; None when the ATR is not a positive number."""
    if not np.isfinite(atr) or atr <= 0 or not np.isfinite(close):
        return None
    entry = price_of(close)
    stop = _decimal(
        float(entry) - direction * stop_atr * atr, ROUND_FLOOR if direction > 0 else ROUND_CEILING
    )
    risk = abs(entry - stop)
    if risk == 0:
        return None
    target = _decimal(float(entry) + direction * target_r * float(risk), ROUND_HALF_UP)
    risk_reward = (abs(target - entry) / risk).quantize(PAISA, rounding=ROUND_HALF_UP)
    return Levels(entry=entry, stop=stop, target=target, risk_reward=risk_reward, atr=atr)


def atr_series(bars: pd.DataFrame, period: int) -> FloatArray:
    """Wilder's ATR of ``bars`` (NaN during the first ``period`` bars)."""
    return atr_indicator(
        bars["high"].to_numpy(dtype=np.float64),
        bars["low"].to_numpy(dtype=np.float64),
        bars["close"].to_numpy(dtype=np.float64),
        period,
    )


def volume_ratio(volume: FloatArray) -> float:
    """The last bar's volume over the mean of the 20 bars before it; NaN without them
    (or with a zero average)."""
    if len(volume) <= VOLUME_AVERAGE_BARS:
        return float("nan")
    average = float(np.mean(volume[-VOLUME_AVERAGE_BARS - 1 : -1]))
    if not np.isfinite(average) or average <= 0:
        return float("nan")
    return float(volume[-1]) / average


def strength_from(*, close: float, prev_close: float, atr: float, vol_ratio: float) -> float:
    """The 0..1 strength described in the module docstring."""
    move = min(abs(close - prev_close) / atr, 1.0) if np.isfinite(prev_close) else 0.0
    if not np.isfinite(vol_ratio):
        return round(move, 4)
    return round((move + min(vol_ratio / 2, 1.0)) / 2, 4)


@dataclass(frozen=True)
class BarReading:
    """What a signal on the last bar of a frame needs besides its direction."""

    close: float
    atr: float
    strength: float
    vol_ratio: float


def last_bar_reading(bars: pd.DataFrame, *, atr_period: int) -> BarReading:
    """Close, ATR, strength and volume ratio of the last bar of ``bars`` (oldest first)."""
    close = bars["close"].to_numpy(dtype=np.float64)
    atr_values = atr_series(bars, atr_period)
    atr = float(atr_values[-1]) if len(atr_values) else float("nan")
    ratio = volume_ratio(bars["volume"].to_numpy(dtype=np.float64))
    prev_close = float(close[-2]) if len(close) > 1 else float("nan")
    strength = (
        strength_from(close=float(close[-1]), prev_close=prev_close, atr=atr, vol_ratio=ratio)
        if np.isfinite(atr) and atr > 0
        else 0.0
    )
    return BarReading(close=float(close[-1]), atr=atr, strength=strength, vol_ratio=ratio)
