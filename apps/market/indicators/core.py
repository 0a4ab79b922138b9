"""Thin, typed wrappers around TA-Lib.

Every function takes float arrays aligned by bar and returns float64 arrays of the
same length, NaN during the warm-up.  Interior NaN gaps are handled uniformly: the
output is NaN from the first gap to the end (see docs/indicators.md) -- TA-Lib
would otherwise emit silently wrong numbers after a gap (RSI drops to 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import talib
from talib import abstract

from ._arrays import FloatArray, as_float, first_gap, first_valid, poison_from, same_length
from .errors import IndicatorError

ArrayLike = npt.ArrayLike

_SMA = 0  # talib.MA_Type.SMA

PATTERN_NAMES: tuple[str, ...] = tuple(talib.get_function_groups()["Pattern Recognition"])
"""Every TA-Lib candlestick pattern (``CDL*``) exposed through :func:`pattern`."""


def _single(fn: Any, inputs: dict[str, ArrayLike], *args: float) -> FloatArray:
    arrays = {name: as_float(name, values) for name, values in inputs.items()}
    same_length(**arrays)
    out = np.asarray(fn(*arrays.values(), *args), dtype=np.float64)
    return poison_from(first_gap(*arrays.values()), out)


def _multi(fn: Any, inputs: dict[str, ArrayLike], *args: float) -> tuple[FloatArray, ...]:
    arrays = {name: as_float(name, values) for name, values in inputs.items()}
    same_length(**arrays)
    gap = first_gap(*arrays.values())
    return tuple(
        poison_from(gap, np.asarray(out, dtype=np.float64)) for out in fn(*arrays.values(), *args)
    )


def sma(close: ArrayLike, period: int = 20) -> FloatArray:
    return _single(talib.SMA, {"close": close}, period)


def ema(close: ArrayLike, period: int = 20) -> FloatArray:
    """EMA with k = 2/(period+1), seeded with the SMA of the first ``period`` values."""
    return _single(talib.EMA, {"close": close}, period)


def wma(close: ArrayLike, period: int = 20) -> FloatArray:
    return _single(talib.WMA, {"close": close}, period)


def rsi(close: ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's RSI (seeded with simple averages of the first ``period`` changes)."""
    return _single(talib.RSI, {"close": close}, period)


def macd(
    close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(macd line, signal line, histogram); all NaN until bar ``slow + signal - 2``."""
    if fast >= slow:
        raise IndicatorError("fast", "must be smaller than slow")
    line, sig, hist = _multi(talib.MACD, {"close": close}, fast, slow, signal)
    return line, sig, hist


def bollinger(
    close: ArrayLike, period: int = 20, nbdev: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(upper, middle, lower): SMA ± nbdev population standard deviations."""
    upper, middle, lower = _multi(talib.BBANDS, {"close": close}, period, nbdev, nbdev, _SMA)
    return upper, middle, lower


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    return _single(talib.ATR, {"high": high, "low": low, "close": close}, period)


def stochastic(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    fastk_period: int = 14,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> tuple[FloatArray, FloatArray]:
    """Slow stochastic (%K, %D), both smoothed with SMAs."""
    k, d = _multi(
        talib.STOCH,
        {"high": high, "low": low, "close": close},
        fastk_period,
        slowk_period,
        _SMA,
        slowd_period,
        _SMA,
    )
    return k, d


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    return _single(talib.ADX, {"high": high, "low": low, "close": close}, period)


def cci(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 20) -> FloatArray:
    return _single(talib.CCI, {"high": high, "low": low, "close": close}, period)


def williams_r(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> FloatArray:
    return _single(talib.WILLR, {"high": high, "low": low, "close": close}, period)


def obv(close: ArrayLike, volume: ArrayLike) -> FloatArray:
    """On-balance volume; no warm-up (bar 0 equals volume[0])."""
    return _single(talib.OBV, {"close": close, "volume": volume})


def mfi(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    volume: ArrayLike,
    period: int = 14,
) -> FloatArray:
    return _single(talib.MFI, {"high": high, "low": low, "close": close, "volume": volume}, period)


def pattern_params(name: str) -> dict[str, float]:
    """Optional parameters (name -> TA-Lib default) of a candlestick pattern."""
    return {key: float(value) for key, value in _pattern_function(name).parameters.items()}


def _pattern_function(name: str) -> Any:
    upper = name.upper()
    if upper not in PATTERN_NAMES:
        raise IndicatorError("name", f"unknown candlestick pattern {name!r}")
    return abstract.Function(upper)  # type: ignore[attr-defined]


def pattern(
    name: str,
    open_: ArrayLike,
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    **params: float,
) -> FloatArray:
    """Run TA-Lib candlestick pattern ``name`` (e.g. ``"CDLENGULFING"``).

    Values are TA-Lib's: +100 bullish, -100 bearish, 0 none (±200 for a confirmed
    hikkake), as float64 with NaN during the pattern's lookback.
    """
    info = _pattern_function(name)
    allowed = info.parameters
    for key in params:
        if key not in allowed:
            raise IndicatorError(key, f"unknown parameter for {name.upper()}")
    fn = getattr(talib, name.upper())
    args = [float(params.get(key, default)) for key, default in allowed.items()]
    inputs = {"open": open_, "high": high, "low": low, "close": close}
    out = _single(fn, inputs, *args)
    info.set_parameters({key: args[i] for i, key in enumerate(allowed)})
    start = first_valid(*(as_float(k, v) for k, v in inputs.items())) + int(info.lookback)
    out[: min(start, len(out))] = np.nan
    return out
