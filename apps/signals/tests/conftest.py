"""Shared fixtures and helpers of the signals tests: instruments, synthetic bars, candles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apps.market.models import Candle, DataSource, Instrument


def bars_synthetic(
    n: int, *, seed: int = 1, start: str = "2020-01-01 03:45", freq: str = "D", price: float = 1000
) -> pd.DataFrame:
    """A seeded random walk as a bar frame (UTC index, float OHLCV), 2 dp like NSE prices."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    open_ = np.concatenate([[price], close[:-1]]) * (1 + rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, n)))
    volume = rng.integers(100_000, 1_000_000, n).astype(np.float64)
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="start")
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )
    frame[["open", "high", "low", "close"]] = frame[["open", "high", "low", "close"]].round(2)
    return frame


def wilder_atr(high: list[float], low: list[float], close: list[float], period: int) -> float:
    """The last value of Wilder's ATR by hand (a reference for TA-Lib's): the first is the mean
    of the first ``period`` true ranges (from the second bar on), then (prev x (p-1) + TR) / p."""
    ranges = [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
        for i in range(1, len(close))
    ]
    value = sum(ranges[:period]) / period
    for tr in ranges[period:]:
        value = (value * (period - 1) + tr) / period
    return value


def candles_insert(instrument: Instrument, timeframe: str, bars: pd.DataFrame) -> None:
    """Store ``bars`` (as from :func:`bars_synthetic`) as candles of ``instrument``."""
    Candle.objects.bulk_create(
        Candle(
            instrument=instrument,
            timeframe=timeframe,
            start=start.to_pydatetime(),
            open=Decimal(f"{row.open:.4f}"),
            high=Decimal(f"{row.high:.4f}"),
            low=Decimal(f"{row.low:.4f}"),
            close=Decimal(f"{row.close:.4f}"),
            volume=int(row.volume),
            source=DataSource.SIMULATED,
        )
        for start, row in zip(bars.index, bars.itertuples(index=False), strict=True)
    )


@pytest.fixture
def reliance(market_seed: Any) -> Instrument:
    return Instrument.objects.get(exchange__code="NSE", symbol="RELIANCE")


@pytest.fixture
def tcs(market_seed: Any) -> Instrument:
    return Instrument.objects.get(exchange__code="NSE", symbol="TCS")
