"""The signal functions, one per strategy, plus the indicator readings that explain them.

Every function takes closed bars and returns an int Series aligned to them, built only
from causal operations: TA-Lib indicators, ``_prev`` (one bar back) and trailing
rolling windows.  See :mod:`.lookahead` for the proof.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from apps.market.indicators import bollinger, ema, macd, rsi, sma, supertrend

from .base import BUY, NONE, SELL

# --- building blocks --------------------------------------------------------------


def _events(bars: pd.DataFrame, buy: np.ndarray, sell: np.ndarray) -> pd.Series:
    """+1 where ``buy``, else -1 where ``sell``, else 0 (two masked writes: this runs for every
    combination of a parameter sweep)."""
    out = np.full(len(buy), NONE, dtype=np.int8)
    out[sell] = SELL
    out[buy] = BUY
    return pd.Series(out, index=bars.index)


def _prev(values: np.ndarray) -> np.ndarray:
    """``values`` shifted one bar later (NaN first): the previous bar's value."""
    out = np.empty_like(values, dtype=np.float64)
    if len(values):
        out[0] = np.nan
        out[1:] = values[:-1]
    return out


def _crosses(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a crosses above b, a crosses below b) on each bar; NaN never crosses."""
    d = a - b
    p = _prev(d)
    with np.errstate(invalid="ignore"):
        return (d > 0) & (p <= 0), (d < 0) & (p >= 0)


def _rising_edge(cond: np.ndarray) -> np.ndarray:
    """True on the first bar of each run of ``cond`` (so a breakout fires once)."""
    before = np.zeros_like(cond)
    before[1:] = cond[:-1]
    return cond & ~before


def _prev_rolling(values: np.ndarray, period: int, how: str) -> np.ndarray:
    """Rolling ``how`` of the ``period`` bars *before* each bar (the bar itself excluded)."""
    rolled = getattr(pd.Series(values).rolling(period, min_periods=period), how)()
    return _prev(rolled.to_numpy(dtype=np.float64))


def _col(bars: pd.DataFrame, name: str) -> np.ndarray:
    return bars[name].to_numpy(dtype=np.float64)


# --- strategies ------------------------------------------------------------------


def sma_crossover(bars: pd.DataFrame, *, fast: int, slow: int) -> pd.Series:
    close = _col(bars, "close")
    return _events(bars, *_crosses(sma(close, fast), sma(close, slow)))


def ema_crossover(bars: pd.DataFrame, *, fast: int, slow: int) -> pd.Series:
    close = _col(bars, "close")
    return _events(bars, *_crosses(ema(close, fast), ema(close, slow)))


def rsi_reversion(
    bars: pd.DataFrame, *, period: int, oversold: float, overbought: float
) -> pd.Series:
    value = rsi(_col(bars, "close"), period)
    up, _down = _crosses(value, np.full_like(value, oversold))
    _up, down = _crosses(value, np.full_like(value, overbought))
    return _events(bars, up, down)


def macd_crossover(bars: pd.DataFrame, *, fast: int, slow: int, signal: int) -> pd.Series:
    line, sig, _hist = macd(_col(bars, "close"), fast, slow, signal)
    return _events(bars, *_crosses(line, sig))


def bollinger_breakout(bars: pd.DataFrame, *, period: int, nbdev: float) -> pd.Series:
    close = _col(bars, "close")
    upper, _mid, lower = bollinger(close, period, nbdev)
    up, _ = _crosses(close, upper)
    _, down = _crosses(close, lower)
    return _events(bars, up, down)


def bollinger_reversion(bars: pd.DataFrame, *, period: int, nbdev: float) -> pd.Series:
    close = _col(bars, "close")
    upper, _mid, lower = bollinger(close, period, nbdev)
    prev_close, prev_upper, prev_lower = _prev(close), _prev(upper), _prev(lower)
    with np.errstate(invalid="ignore"):
        back_above_lower = (prev_close < prev_lower) & (close >= lower)
        back_below_upper = (prev_close > prev_upper) & (close <= upper)
    return _events(bars, back_above_lower, back_below_upper)


def donchian_breakout(bars: pd.DataFrame, *, period: int, exit_period: int) -> pd.Series:
    close = _col(bars, "close")
    # The channel of the bars *before* this one: today's high is always <= today's max.
    upper = _prev_rolling(_col(bars, "high"), period, "max")
    lower = _prev_rolling(_col(bars, "low"), exit_period, "min")
    with np.errstate(invalid="ignore"):
        return _events(bars, _rising_edge(close > upper), _rising_edge(close < lower))


def supertrend_flip(bars: pd.DataFrame, *, period: int, multiplier: float) -> pd.Series:
    _line, direction, _u, _l = supertrend(
        _col(bars, "high"), _col(bars, "low"), _col(bars, "close"), period, multiplier
    )
    prev = _prev(direction)
    return _events(bars, (direction > 0) & (prev < 0), (direction < 0) & (prev > 0))


def volume_breakout(
    bars: pd.DataFrame, *, period: int, volume_period: int, volume_factor: float
) -> pd.Series:
    close, volume = _col(bars, "close"), _col(bars, "volume")
    upper = _prev_rolling(_col(bars, "high"), period, "max")
    lower = _prev_rolling(_col(bars, "low"), period, "min")
    # Average of earlier bars, so the breakout bar's own spike does not lift the bar it must clear.
    avg_volume = _prev_rolling(volume, volume_period, "mean")
    with np.errstate(invalid="ignore"):
        buy = _rising_edge((close > upper) & (volume > volume_factor * avg_volume))
        sell = _rising_edge(close < lower)
    return _events(bars, buy, sell)


# --- readings at the last bar (for explanations) ------------------------------------


def _last(values: np.ndarray) -> str:
    return f"{values[-1]:.2f}" if len(values) and np.isfinite(values[-1]) else "n/a"


def ma_readings(kind: str) -> Callable[..., str]:
    fn = sma if kind == "SMA" else ema

    def readings(bars: pd.DataFrame, *, fast: int, slow: int) -> str:
        close = _col(bars, "close")
        return f"{kind} {fast} {_last(fn(close, fast))}, {kind} {slow} {_last(fn(close, slow))}"

    return readings


def rsi_readings(bars: pd.DataFrame, *, period: int, **_levels: float) -> str:
    return f"RSI {period} {_last(rsi(_col(bars, 'close'), period))}"


def macd_readings(bars: pd.DataFrame, *, fast: int, slow: int, signal: int) -> str:
    line, sig, _hist = macd(_col(bars, "close"), fast, slow, signal)
    return f"MACD {_last(line)}, signal {_last(sig)}"


def bollinger_readings(bars: pd.DataFrame, *, period: int, nbdev: float) -> str:
    close = _col(bars, "close")
    upper, mid, lower = bollinger(close, period, nbdev)
    return f"close {_last(close)}, bands {_last(lower)} / {_last(mid)} / {_last(upper)}"


def donchian_readings(bars: pd.DataFrame, *, period: int, exit_period: int) -> str:
    upper = _prev_rolling(_col(bars, "high"), period, "max")
    lower = _prev_rolling(_col(bars, "low"), exit_period, "min")
    return (
        f"close {_last(_col(bars, 'close'))}, previous {period}-bar high {_last(upper)}, "
        f"previous {exit_period}-bar low {_last(lower)}"
    )


def supertrend_readings(bars: pd.DataFrame, *, period: int, multiplier: float) -> str:
    line, direction, _u, _l = supertrend(
        _col(bars, "high"), _col(bars, "low"), _col(bars, "close"), period, multiplier
    )
    trend = {1.0: "up", -1.0: "down"}.get(float(direction[-1]) if len(direction) else 0.0, "n/a")
    return f"close {_last(_col(bars, 'close'))}, SuperTrend {_last(line)} ({trend})"


def volume_readings(
    bars: pd.DataFrame, *, period: int, volume_period: int, volume_factor: float
) -> str:
    volume = _col(bars, "volume")
    avg = _prev_rolling(volume, volume_period, "mean")
    ratio = volume / avg
    ratio_text = f"{ratio[-1]:.1f}x" if len(ratio) and np.isfinite(ratio[-1]) else "n/a"
    upper = _prev_rolling(_col(bars, "high"), period, "max")
    return (
        f"close {_last(_col(bars, 'close'))}, previous {period}-bar high {_last(upper)}; "
        f"volume {ratio_text} its {volume_period}-bar average"
    )
