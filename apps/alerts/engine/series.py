"""The scalar series conditions watch, computed per tick in O(1) (indicators: incremental
state over closed bars, peeked with the live price)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from apps.market.candle_store import INTRADAY_MINUTES, IST_OFFSET_MIN, SESSION_OPEN_MIN
from apps.market.indicators import EMAState, IndicatorError, MACDState, RSIState

US = 1_000_000


def bucket_of(at_us: int, timeframe: str) -> int:
    """Start (epoch seconds) of the `timeframe` bar holding `at_us`; scalar twin of
    candle_store.bucket_starts, without numpy (it runs per tick)."""
    ist_min = at_us // (60 * US) + IST_OFFSET_MIN
    day = ist_min - ist_min % 1440
    if timeframe in INTRADAY_MINUTES:
        size = INTRADAY_MINUTES[timeframe]
        start = day + SESSION_OPEN_MIN + ((ist_min - day - SESSION_OPEN_MIN) // size) * size
    elif timeframe == "1d":
        start = day
    else:  # 1w: Monday 00:00 IST
        day_index = day // 1440
        start = (day_index - (day_index + 3) % 7) * 1440
    return int((start - IST_OFFSET_MIN) * 60)


class Series:
    """One watched value. `symbols` are the instruments whose ticks move it."""

    needs_history = False

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.symbols: tuple[str, ...] = (key[1],)

    def on_tick(self, symbol: str, at: int, price: float, prev_close: float,
                volume: float) -> float | None:
        raise NotImplementedError


class ChangeSeries(Series):
    """% change from the previous close, or from the price `window` minutes ago."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.window_us = int(key[2]) * 60 * US
        self.history: deque[tuple[int, float]] = deque()

    def on_tick(self, symbol: str, at: int, price: float, prev_close: float,
                volume: float) -> float | None:
        if not self.window_us:
            return (price - prev_close) / prev_close * 100.0 if prev_close > 0 else None
        history = self.history
        history.append((at, price))
        cutoff = at - self.window_us
        # Keep exactly one tick at or before the cutoff: the reference price.
        while len(history) > 1 and history[1][0] <= cutoff:
            history.popleft()
        start_at, start = history[0]
        if start_at > cutoff or start <= 0:
            return None  # not yet `window` minutes of ticks
        return (price - start) / start * 100.0


class VolumeSeries(Series):
    def on_tick(self, symbol: str, at: int, price: float, prev_close: float,
                volume: float) -> float | None:
        return volume


class RatioSeries(Series):
    """price(symbol) / price(other): moves on ticks of either instrument."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.symbols = (key[1], key[2])
        self.prices: dict[str, float] = {}

    def on_tick(self, symbol: str, at: int, price: float, prev_close: float,
                volume: float) -> float | None:
        self.prices[symbol] = price
        mine, other = self.prices.get(self.key[1]), self.prices.get(self.key[2])
        if mine is None or not other:
            return None
        return mine / other


class BarSeries(Series):
    """A value over closed bars of `timeframe` plus the live bar. Closed bars come from the
    candle store at seeding (`seed`) and then from the ticks themselves: a tick in a new
    bucket closes the previous bar at the last price seen."""

    needs_history = True

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.timeframe: str = key[2]
        self.bucket: int | None = None
        self.last_close: float | None = None
        self.closes: list[float] = []  # only until the state can be built

    def history_bars(self) -> int:
        """How many closed bars seeding should load."""
        return 300

    def seed(self, closes: list[float], volumes: list[float], last_bucket: int | None) -> None:
        for close, vol in zip(closes, volumes, strict=True):
            self.close_bar(close, vol)
        self.bucket = last_bucket  # the last closed bar; the first tick opens a new one

    def close_bar(self, close: float, volume: float) -> None:
        raise NotImplementedError

    def peek(self, price: float) -> float | None:
        raise NotImplementedError

    def on_tick(self, symbol: str, at: int, price: float, prev_close: float,
                volume: float) -> float | None:
        bucket = bucket_of(at, self.timeframe)
        if self.bucket is None:
            self.bucket = bucket
        elif bucket > self.bucket:
            if self.last_close is not None:
                self.close_bar(self.last_close, self.bar_volume())
            self.bucket = bucket
        self.last_close = price
        self.add_volume(volume)
        return self.peek(price)

    def bar_volume(self) -> float:
        return 0.0

    def add_volume(self, cumulative: float) -> None:
        return None


class _StatefulBar(BarSeries):
    state: Any = None

    def needed(self) -> int:
        raise NotImplementedError

    def build(self, closes: list[float]) -> Any:
        raise NotImplementedError

    def close_bar(self, close: float, volume: float) -> None:
        if self.state is not None:
            self.state.update(close)
            return
        self.closes.append(close)
        if len(self.closes) >= self.needed():
            try:
                self.state = self.build(self.closes)
            except IndicatorError:
                return
            self.closes = []


class RsiSeries(_StatefulBar):
    def needed(self) -> int:
        return int(self.key[3]) + 1

    def build(self, closes: list[float]) -> RSIState:
        return RSIState.from_history(closes, int(self.key[3]))

    def peek(self, price: float) -> float | None:
        return None if self.state is None else float(self.state.peek(price))


class EmaDiffSeries(_StatefulBar):
    def needed(self) -> int:
        return int(self.key[3])

    def build(self, closes: list[float]) -> EMAState:
        return EMAState.from_history(closes, int(self.key[3]))

    def peek(self, price: float) -> float | None:
        return None if self.state is None else price - float(self.state.peek(price))


class MacdSeries(_StatefulBar):
    """MACD line − signal line: crossing zero is the line crossing its signal."""

    def needed(self) -> int:
        return int(self.key[4]) + int(self.key[5]) - 1

    def build(self, closes: list[float]) -> MACDState:
        return MACDState.from_history(closes, int(self.key[3]), int(self.key[4]),
                                      int(self.key[5]))

    def peek(self, price: float) -> float | None:
        return None if self.state is None else float(self.state.peek(price).histogram)


class _WindowBar(BarSeries):
    """Running sums over the last `period − 1` closed bars (the live bar makes `period`)."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.period = int(key[3])
        self.window: deque[float] = deque()
        self.total = 0.0
        self.squares = 0.0

    def close_bar(self, close: float, volume: float) -> None:
        self.window.append(close)
        self.total += close
        self.squares += close * close
        if len(self.window) > self.period - 1:
            old = self.window.popleft()
            self.total -= old
            self.squares -= old * old


class SmaDiffSeries(_WindowBar):
    def peek(self, price: float) -> float | None:
        if len(self.window) < self.period - 1:
            return None
        return price - (self.total + price) / self.period


class BollingerSeries(_WindowBar):
    """price − band (population σ, like TA-Lib's BBANDS)."""

    def peek(self, price: float) -> float | None:
        if len(self.window) < self.period - 1:
            return None
        n = self.period
        mean = (self.total + price) / n
        variance = max((self.squares + price * price) / n - mean * mean, 0.0)
        width = float(self.key[4]) * math.sqrt(variance)
        band = mean + width if self.key[5] == "upper" else mean - width
        return price - band


class VolumeMultipleSeries(BarSeries):
    """Volume of the live bar ÷ the average volume of the last `bars` closed bars."""

    def __init__(self, key: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.volumes: deque[float] = deque(maxlen=int(key[3]))
        self.current = 0.0
        self.last_cumulative: float | None = None

    def history_bars(self) -> int:
        return int(self.key[3])

    def close_bar(self, close: float, volume: float) -> None:
        self.volumes.append(volume)
        self.current = 0.0

    def bar_volume(self) -> float:
        return self.current

    def add_volume(self, cumulative: float) -> None:
        # Quotes carry the session's cumulative volume; a drop means a new session.
        last = self.last_cumulative
        self.current += cumulative - last if last is not None and cumulative >= last else (
            cumulative if last is not None else 0.0)
        self.last_cumulative = cumulative

    def peek(self, price: float) -> float | None:
        if len(self.volumes) < (self.volumes.maxlen or 0):
            return None
        average = sum(self.volumes) / len(self.volumes)
        return self.current / average if average > 0 else None


SERIES: dict[str, type[Series]] = {
    "chg": ChangeSeries,
    "volume": VolumeSeries,
    "ratio": RatioSeries,
    "rsi": RsiSeries,
    "ema": EmaDiffSeries,
    "sma": SmaDiffSeries,
    "macd": MacdSeries,
    "boll": BollingerSeries,
    "volmult": VolumeMultipleSeries,
}


def series_make(key: tuple[Any, ...]) -> Series:
    return SERIES[key[0]](key)
