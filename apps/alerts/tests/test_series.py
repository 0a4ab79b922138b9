"""Indicator series against TA-Lib recomputed over the whole history (independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from apps.alerts.engine.index import AlertIndex, RuleSpec
from apps.alerts.engine.series import bucket_of, series_make

US = 1_000_000
T0 = 1_772_423_100 * US  # 2026-03-02 09:15 IST, a 1m bucket start


def _walk(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(1000 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)


def _drive(key: tuple, history: np.ndarray, live: np.ndarray) -> list[float | None]:
    """Seed with `history` closed 1m bars, then one tick per minute (each closes the last)."""
    series = series_make(key)
    series.seed(history.tolist(), [1.0] * len(history), T0 // US - 60)  # type: ignore[attr-defined]
    return [series.on_tick("X", T0 + n * 60 * US, float(p), 0.0, 0.0)
            for n, p in enumerate(live)]


def test_bucket_of_matches_the_session_aligned_buckets() -> None:
    assert bucket_of(T0 + 59 * US, "1m") == T0 // US
    assert bucket_of(T0 + 16 * 60 * US, "15m") == T0 // US + 15 * 60


@pytest.mark.parametrize(
    ("key", "reference"),
    [
        (("rsi", "X", "1m", 14), lambda c: talib.RSI(c, 14)),
        (("ema", "X", "1m", 20), lambda c: c - talib.EMA(c, 20)),
        (("sma", "X", "1m", 20), lambda c: c - talib.SMA(c, 20)),
        (("macd", "X", "1m", 12, 26, 9), lambda c: talib.MACD(c, 12, 26, 9)[2]),
        (("boll", "X", "1m", 20, 2.0, "upper"),
         lambda c: c - talib.BBANDS(c, 20, 2.0, 2.0)[0]),
    ],
)
def test_live_values_equal_talib_over_the_whole_series(key: tuple, reference: object) -> None:
    closes = _walk(300)
    history, live = closes[:200], closes[200:]
    got = _drive(key, history, live)
    for n in range(len(live)):
        expected = reference(closes[: 200 + n + 1])[-1]  # type: ignore[operator]
        assert got[n] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_rsi_rule_fires_when_rsi_crosses_its_level_on_the_live_bar() -> None:
    closes = _walk(300, seed=5)
    rsi = talib.RSI(closes, 14)
    index = AlertIndex(seeder=lambda s: s.seed(closes[:200].tolist(), [1.0] * 200,  # type: ignore
                                               T0 // US - 60))
    index.add(RuleSpec(id=1, user_id=1, symbols=["X"], mode="every_time", armed=False,
                       conditions=[{"type": "rsi_above", "value": "60", "timeframe": "1m",
                                    "period": 14}]))
    for n, price in enumerate(closes[200:]):
        index.process("X", T0 + n * 60 * US, float(price))
    fired = [f.at_us for f in index.drain()]
    live = rsi[200:]
    expected = [T0 + n * 60 * US for n in range(1, len(live))
                if live[n] > 60 >= live[n - 1]]
    assert fired == expected
    assert fired  # the walk does cross 60
