"""O(1)-per-tick updaters for the live bar, seeded to match TA-Lib exactly.

Each state is built from the finished bars with ``from_history`` and then
``update(close)`` commits a finished bar, while ``peek(close)`` answers "what would
the value be if the current, unfinished bar closed at ``close``?" without changing
the state.  The arithmetic mirrors TA-Lib's C code operation for operation, so the
values equal TA-Lib recomputed over the whole series (to rounding).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import talib

from ._arrays import FloatArray, as_float, first_gap, first_valid
from .errors import IndicatorError
from .registry import PERIOD_MAX


def _check_period(name: str, value: int, minimum: int = 2) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IndicatorError(name, "must be an integer")
    if not minimum <= value <= PERIOD_MAX:
        raise IndicatorError(name, f"must be between {minimum} and {PERIOD_MAX}, got {value}")


def _history(close: npt.ArrayLike, needed: int) -> FloatArray:
    """Finished closes without the leading NaNs; no gaps; at least ``needed`` of them."""
    arr = as_float("close", close)
    if first_gap(arr) is not None:
        raise IndicatorError("close", "history contains a NaN gap; fill it before seeding")
    arr = arr[first_valid(arr) :]
    if len(arr) < needed:
        raise IndicatorError("close", f"need at least {needed} bars of history, got {len(arr)}")
    return arr


def _tick(close: float) -> float:
    value = float(close)
    if not math.isfinite(value):  # math, not numpy: ~1 µs less on every tick
        raise IndicatorError("close", "must be a finite number")
    return value


class EMAState:
    """Exponential moving average, k = 2 / (period + 1) (TA-Lib ``EMA``)."""

    def __init__(self, period: int, value: float) -> None:
        _check_period("period", period, minimum=1)  # 1 is legal as MACD's signal
        self.period = period
        self.k = 2.0 / (period + 1)
        self.value = float(value)

    @classmethod
    def from_history(cls, close: npt.ArrayLike, period: int) -> EMAState:
        _check_period("period", period)
        arr = _history(close, period)
        return cls(period, float(talib.EMA(arr, period)[-1]))

    def peek(self, close: float) -> float:
        return (_tick(close) - self.value) * self.k + self.value

    def update(self, close: float) -> float:
        self.value = self.peek(close)
        return self.value


class RSIState:
    """Wilder's RSI: average gain/loss smoothed as ``(avg × (n−1) + x) / n`` (TA-Lib ``RSI``)."""

    def __init__(self, period: int, prev_close: float, avg_gain: float, avg_loss: float) -> None:
        _check_period("period", period)
        self.period = period
        self.prev_close = float(prev_close)
        self.avg_gain = float(avg_gain)
        self.avg_loss = float(avg_loss)
        self.value = self._rsi(self.avg_gain, self.avg_loss)

    @classmethod
    def from_history(cls, close: npt.ArrayLike, period: int) -> RSIState:
        _check_period("period", period)
        arr = _history(close, period + 1)
        change = np.diff(arr)
        gains, losses = np.maximum(change, 0.0), np.maximum(-change, 0.0)
        # TA-Lib seeds with the simple mean of the first `period` changes (summed in order)
        gain = loss = 0.0
        for g, lo in zip(gains[:period].tolist(), losses[:period].tolist(), strict=True):
            gain += g
            loss += lo
        gain /= period
        loss /= period
        for g, lo in zip(gains[period:].tolist(), losses[period:].tolist(), strict=True):
            gain = (gain * (period - 1) + g) / period
            loss = (loss * (period - 1) + lo) / period
        return cls(period, float(arr[-1]), gain, loss)

    @staticmethod
    def _rsi(gain: float, loss: float) -> float:
        total = gain + loss
        return 0.0 if -1e-8 < total < 1e-8 else 100.0 * (gain / total)

    def _step(self, close: float) -> tuple[float, float, float]:
        change = _tick(close) - self.prev_close
        n = self.period
        gain = (self.avg_gain * (n - 1) + max(change, 0.0)) / n
        loss = (self.avg_loss * (n - 1) + max(-change, 0.0)) / n
        return gain, loss, self._rsi(gain, loss)

    def peek(self, close: float) -> float:
        return self._step(close)[2]

    def update(self, close: float) -> float:
        # Inlined _step: this runs for every tick of every watched instrument.
        value = float(close)
        if not math.isfinite(value):
            raise IndicatorError("close", "must be a finite number")
        change = value - self.prev_close
        n = self.period
        if change > 0.0:
            gain = (self.avg_gain * (n - 1) + change) / n
            loss = (self.avg_loss * (n - 1)) / n
        else:
            gain = (self.avg_gain * (n - 1)) / n
            loss = (self.avg_loss * (n - 1) - change) / n
        total = gain + loss
        self.avg_gain, self.avg_loss, self.prev_close = gain, loss, value
        self.value = 0.0 if -1e-8 < total < 1e-8 else 100.0 * (gain / total)
        return self.value


class MACDValue(NamedTuple):
    macd: float
    signal: float
    histogram: float


class MACDState:
    """MACD line, signal line and histogram (TA-Lib ``MACD``).

    TA-Lib seeds the fast EMA inside MACD at the same bar as the slow one (bar
    ``slow − 1``, from the mean of the ``fast`` closes ending there), which differs
    from a stand-alone ``EMA(fast)``; the seeding below reproduces that.
    """

    def __init__(self, fast: EMAState, slow: EMAState, signal: EMAState) -> None:
        if fast.period >= slow.period:
            raise IndicatorError("fast", "must be smaller than slow")
        self.fast, self.slow, self.signal = fast, slow, signal
        line = fast.value - slow.value
        self.value = MACDValue(line, signal.value, line - signal.value)

    @classmethod
    def from_history(
        cls, close: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
    ) -> MACDState:
        _check_period("fast", fast)
        _check_period("slow", slow)
        _check_period("signal", signal, minimum=1)
        if fast >= slow:
            raise IndicatorError("fast", "must be smaller than slow")
        arr = _history(close, slow + signal - 1)
        _, sig, _ = talib.MACD(arr, fast, slow, signal)
        return cls(
            EMAState(fast, float(talib.EMA(arr[slow - fast :], fast)[-1])),
            EMAState(slow, float(talib.EMA(arr, slow)[-1])),
            EMAState(signal, float(sig[-1])),
        )

    def peek(self, close: float) -> MACDValue:
        line = self.fast.peek(close) - self.slow.peek(close)
        sig = self.signal.peek(line)
        return MACDValue(line, sig, line - sig)

    def update(self, close: float) -> MACDValue:
        line = self.fast.update(close) - self.slow.update(close)
        sig = self.signal.update(line)
        self.value = MACDValue(line, sig, line - sig)
        return self.value
