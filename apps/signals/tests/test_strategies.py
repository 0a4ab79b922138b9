"""Strategy signals on hand-worked price series, parameter validation and the lookahead guard.

Expected signal bars are derived by hand in the comments (indicator values rounded).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from apps.signals.strategies import (
    STRATEGIES,
    LookaheadError,
    lookahead_check,
    strategy_get,
)


def make_bars(
    close: npt.ArrayLike,
    *,
    high: npt.ArrayLike | None = None,
    low: npt.ArrayLike | None = None,
    volume: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    c = np.asarray(close, dtype=float)
    index = pd.date_range("2026-01-01 09:15", periods=len(c), freq="15min", tz="Asia/Kolkata")
    return pd.DataFrame(
        {
            "open": c,
            "high": c if high is None else np.asarray(high, dtype=float),
            "low": c if low is None else np.asarray(low, dtype=float),
            "close": c,
            "volume": np.full(len(c), 1000.0) if volume is None else np.asarray(volume, float),
        },
        index=index,
    )


def random_bars(seed: int, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    spread = close * rng.uniform(0.001, 0.03, n)
    bars = make_bars(
        close,
        high=close + spread,
        low=close - spread,
        volume=rng.lognormal(10, 0.6, n),
    )
    bars["open"] = np.r_[close[0], close[:-1]]
    return bars


def signal_list(key: str, bars: pd.DataFrame, **params: float) -> list[int]:
    return strategy_get(key).signals(bars, **params).tolist()


def test_sma_2_3_crossover_buys_on_cross_up_and_sells_on_cross_down() -> None:
    # close 5 4 3 4 5 6 5 4
    # sma2   -  4.5 3.5 3.5  4.5 5.5 5.5  4.5
    # sma3   -   -  4   3.67 4   5   5.33 5
    # diff         -.5 -.17 +.5 +.5 +.17 -.5  -> up at bar 4, down at bar 7
    out = signal_list("sma_crossover", make_bars([5, 4, 3, 4, 5, 6, 5, 4]), fast=2, slow=3)
    assert out == [0, 0, 0, 0, 1, 0, 0, -1]


def test_ema_2_3_crossover_on_steps() -> None:
    # Flat 10s keep both EMAs at exactly 10 (diff 0).  Step to 20 at bar 5:
    # ema2 = 10 + 2/3*10 = 16.67 > ema3 = 10 + 1/2*10 = 15 -> BUY at 5.
    # Bar 7 (ema2 19.63, ema3 18.75) drops to 5 at bar 8: ema2 9.88 < ema3 11.88 -> SELL at 8.
    out = signal_list(
        "ema_crossover", make_bars([10, 10, 10, 10, 10, 20, 20, 20, 5, 5]), fast=2, slow=3
    )
    assert out == [0, 0, 0, 0, 0, 1, 0, 0, -1, 0]


def test_rsi_2_reversion_crosses_oversold_and_overbought() -> None:
    # changes -1 -1 +1 +1 +1 -1 -1; Wilder RSI(2), seeded with the mean of the first two:
    # bar 2: gain 0, loss 1 -> 0; bar 3: .5/.5 -> 50 (up through 30: BUY)
    # bar 4: .75/.25 -> 75; bar 5: .875/.125 -> 87.5; bar 6: .4375/.5625 -> 43.75 (down
    # through 70: SELL); bar 7: 21.9 (below 30 but falling: nothing)
    out = signal_list("rsi_reversion", make_bars([10, 9, 8, 9, 10, 11, 10, 9]), period=2)
    assert out == [0, 0, 0, 1, 0, 0, -1, 0]


def test_macd_crossover_against_hand_computed_emas() -> None:
    # MACD(2, 3, 2): flat 10s give macd = signal = 0 exactly, whatever the EMA seeding.
    # bar 6 (20): ema2 16.67, ema3 15    -> macd 1.667, signal 1.111 -> above: BUY
    # bar 7 (20): ema2 18.89, ema3 17.5  -> macd 1.389, signal 1.296 -> still above
    # bar 8 (20): ema2 19.63, ema3 18.75 -> macd 0.880, signal 1.019 -> below: SELL
    # bar 9 (5):  macd -1.998, signal -0.992; bar 10: -1.812 / -1.539 (below)
    # bar 11 (5): macd -1.177, signal -1.298 -> above again: BUY
    closes = [10] * 6 + [20] * 3 + [5] * 3
    out = signal_list("macd_crossover", make_bars(closes), fast=2, slow=3, signal=2)
    assert out == [0] * 6 + [1, 0, -1, 0, 0, 1]


def test_bollinger_breakout_3_1() -> None:
    # BB(3, 1 population sd): bar 4 window 10 10 12 -> mean 10.67, sd .94, upper 11.61;
    # close 12 breaks above (bar 3 close 10 was not above its upper 10) -> BUY at 4.
    # bar 8 window 12 12 8 -> mean 10.67, sd 1.89, lower 8.78; close 8 breaks below -> SELL.
    out = signal_list(
        "bollinger_breakout", make_bars([10, 10, 10, 10, 12, 12, 12, 12, 8]), period=3, nbdev=1
    )
    assert out == [0, 0, 0, 0, 1, 0, 0, 0, -1]


def test_bollinger_reversion_3_1() -> None:
    # bar 4 window 10 10 7: lower 9 - 1.41 = 7.59, close 7 below.
    # bar 5 window 10 7 9: lower 8.67 - 1.25 = 7.42, close 9 back inside -> BUY.
    # bar 6 window 7 9 10: upper 9.91, close 10 above; bar 7 window 9 10 13: upper 12.37,
    # close 13 above; bar 8 window 10 13 12: upper 12.91, close 12 back inside -> SELL.
    out = signal_list(
        "bollinger_reversion", make_bars([10, 10, 10, 10, 7, 9, 10, 13, 12]), period=3, nbdev=1
    )
    assert out == [0, 0, 0, 0, 0, 1, 0, 0, -1]


def test_donchian_breakout_uses_previous_channel() -> None:
    # close (= high = low)  10 11 12 11 10 13 12 9 8
    # previous 3-bar high    -  -  - 12 12 12 13 13 12  -> 13 > 12 at bar 5: BUY
    # previous 2-bar low     -  - 10 11 11 10 12 12  9  -> below at bar 4 and bar 7: SELL;
    # bar 8 (8 < 9) continues bar 7's break, so it does not fire again.
    out = signal_list(
        "donchian_breakout", make_bars([10, 11, 12, 11, 10, 13, 12, 9, 8]), period=3, exit_period=2
    )
    assert out == [0, 0, 0, 0, -1, 1, 0, -1, 0]


def test_donchian_channel_must_be_shifted_to_ever_fire() -> None:
    # Why the channel is the *previous* N bars: one that includes the bar's own high can
    # never be exceeded by its close.
    bars = random_bars(1)
    own_high = bars["high"].rolling(5).max()
    assert not (bars["close"] > own_high).any()
    assert (strategy_get("donchian_breakout").signals(bars, period=5) == 1).sum() >= 2


def test_supertrend_fires_on_direction_flips() -> None:
    # SuperTrend(2, 1), high/low = close ± 0.5, so ATR(2) settles near 1 + |change|.
    # Falling 20 -> 12 keeps the trend down; the jump to 20 at bar 11 clears the final
    # upper band (about 12.5 + 2) -> BUY at 11; the drop to 12 at bar 15 falls through
    # the final lower band (about 19.5 - 1) -> SELL at 15.
    closes = [20, 19, 18, 17, 16, 15, 14, 13, 12, 12, 12, 20, 20, 20, 20, 12, 12]
    c = np.asarray(closes, dtype=float)
    out = signal_list("supertrend", make_bars(c, high=c + 0.5, low=c - 0.5), period=2, multiplier=1)
    assert [i for i, v in enumerate(out) if v == 1] == [11]
    assert [i for i, v in enumerate(out) if v == -1] == [15]


def test_volume_breakout_needs_volume_confirmation() -> None:
    # close (= high = low)  10 11 12 11 13 12 14 9
    # volume               100 100 100 100 120 100 300 100
    # bar 4: 13 > previous high 12 but 120 < 1.5 x 100 -> nothing
    # bar 6: 14 > previous high 13 and 300 > 1.5 x 106.7 -> BUY
    # bar 7: 9 < previous 3-bar low 12 -> SELL
    bars = make_bars(
        [10, 11, 12, 11, 13, 12, 14, 9], volume=[100, 100, 100, 100, 120, 100, 300, 100]
    )
    out = signal_list("volume_breakout", bars, period=3, volume_period=3, volume_factor=1.5)
    assert out == [0, 0, 0, 0, 0, 0, 1, -1]


def test_signals_are_aligned_int_series_named_after_the_strategy() -> None:
    bars = random_bars(2)
    for key, strategy in STRATEGIES.items():
        out = strategy.signals(bars)
        assert out.index.equals(bars.index)
        assert out.dtype == np.int8
        assert out.name == key
        assert set(out.unique()) <= {-1, 0, 1}


def test_registry_has_every_strategy_of_the_issue() -> None:
    assert set(STRATEGIES) == {
        "sma_crossover",
        "ema_crossover",
        "rsi_reversion",
        "macd_crossover",
        "bollinger_breakout",
        "bollinger_reversion",
        "donchian_breakout",
        "supertrend",
        "volume_breakout",
    }
    for strategy in STRATEGIES.values():
        assert str(strategy.name)
        assert len(str(strategy.description)) > 20
        strategy.validate()  # defaults are within bounds and consistent


@pytest.mark.parametrize(
    ("key", "params", "message"),
    [
        ("sma_crossover", {"fast": 0}, "fast: must be between 1 and 500"),
        ("sma_crossover", {"fast": 50, "slow": 20}, "fast: must be smaller than slow"),
        ("sma_crossover", {"fast": 2.5}, "fast: must be a whole number"),
        ("sma_crossover", {"speed": 3}, "speed: unknown parameter"),
        ("ema_crossover", {"slow": "50"}, "slow: must be a number"),
        ("rsi_reversion", {"oversold": 0}, "oversold: must be between 1 and 50"),
        ("rsi_reversion", {"overbought": 45}, "overbought: must be between 50 and 99"),
        ("rsi_reversion", {"oversold": 50, "overbought": 50}, "oversold: must be smaller than"),
        ("macd_crossover", {"signal": True}, "signal: must be a number"),
        ("bollinger_breakout", {"nbdev": float("nan")}, "nbdev: must be a finite number"),
        ("supertrend", {"multiplier": 25}, "multiplier: must be between 0.1 and 20"),
        ("volume_breakout", {"volume_factor": 0}, "volume_factor: must be between"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_parameter(
    key: str, params: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        strategy_get(key).signals(random_bars(3, 60), **params)


def test_unknown_strategy_and_missing_columns_are_rejected() -> None:
    with pytest.raises(ValueError, match="strategy: unknown strategy 'nope'"):
        strategy_get("nope")
    with pytest.raises(ValueError, match="bars: missing columns volume"):
        strategy_get("sma_crossover").signals(random_bars(4).drop(columns="volume"))


def test_integer_valued_floats_are_accepted_as_periods() -> None:
    assert strategy_get("sma_crossover").validate(fast=5.0, slow=10) == {"fast": 5, "slow": 10}


# Short periods so every strategy fires many times on 240 random bars.  (With 5 bars a
# close is at most 2 population sd from the mean, so the bands use 1 sd.)
ACTIVE_PARAMS: dict[str, dict[str, float]] = {
    "sma_crossover": {"fast": 3, "slow": 8},
    "ema_crossover": {"fast": 3, "slow": 8},
    "rsi_reversion": {"period": 5},
    "macd_crossover": {"fast": 3, "slow": 8, "signal": 3},
    "bollinger_breakout": {"period": 5, "nbdev": 1},
    "bollinger_reversion": {"period": 5, "nbdev": 1},
    "donchian_breakout": {"period": 5, "exit_period": 3},
    "supertrend": {"period": 5, "multiplier": 1.5},
    "volume_breakout": {"period": 5, "volume_period": 5, "volume_factor": 1.2},
}


@pytest.mark.parametrize("key", sorted(STRATEGIES))
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_strategy_uses_later_bars(key: str, seed: int) -> None:
    bars = random_bars(seed)
    strategy = STRATEGIES[key]
    active = ACTIVE_PARAMS[key]
    out = strategy.signals(bars, **active)
    assert (out == 1).sum() >= 2
    assert (out == -1).sum() >= 2
    for params in ({}, active):
        lookahead_check(strategy.signals, bars, checkpoints=range(1, len(bars) + 1), **params)


def test_lookahead_check_catches_a_strategy_that_peeks_at_the_next_bar() -> None:
    def peeking(bars: pd.DataFrame) -> pd.Series:
        close = bars["close"]
        return (close.shift(-1) > close).astype(int) - (close.shift(-1) < close).astype(int)

    with pytest.raises(LookaheadError, match="depends on later bars"):
        lookahead_check(peeking, random_bars(5))


def test_lookahead_check_catches_a_centred_rolling_window() -> None:
    def centred(bars: pd.DataFrame) -> pd.Series:
        mean = bars["close"].rolling(5, center=True).mean()
        return (bars["close"] > mean).astype(int)

    with pytest.raises(LookaheadError):
        lookahead_check(centred, random_bars(6))


def test_lookahead_check_passes_a_causal_function() -> None:
    def causal(bars: pd.DataFrame) -> pd.Series:
        close = bars["close"]
        return (close > close.shift(1)).astype(int)

    lookahead_check(causal, random_bars(7))


def test_explain_names_the_event_and_the_readings_at_that_bar() -> None:
    bars = make_bars([5, 4, 3, 4, 5, 6, 5, 4])
    sma = strategy_get("sma_crossover")
    # sma2 / sma3 at bar 4 are 4.5 / 4.0, at bar 7 4.5 / 5.0 (see the crossover test)
    assert sma.explain(bars, bars.index[4], fast=2, slow=3) == (
        "SMA 2 crossed above SMA 3; SMA 2 4.50, SMA 3 4.00"
    )
    assert sma.explain(bars, bars.index[7], fast=2, slow=3) == (
        "SMA 2 crossed below SMA 3; SMA 2 4.50, SMA 3 5.00"
    )
    assert sma.explain(bars, bars.index[0], fast=2, slow=3) == "No signal; SMA 2 n/a, SMA 3 n/a"


def test_explain_volume_breakout_reports_volume_ratio() -> None:
    bars = make_bars(
        [10, 11, 12, 11, 13, 12, 14, 9], volume=[100, 100, 100, 100, 120, 100, 300, 100]
    )
    text = strategy_get("volume_breakout").explain(
        bars, bars.index[6], period=3, volume_period=3, volume_factor=1.5
    )
    # 300 / mean(100, 120, 100) = 2.8
    assert text == (
        "Close broke above the previous 3-bar high on volume above 1.5× its average; "
        "close 14.00, previous 3-bar high 13.00; volume 2.8x its 3-bar average"
    )


@pytest.mark.parametrize("key", sorted(STRATEGIES))
def test_explain_agrees_with_signals_on_every_bar(key: str) -> None:
    bars = random_bars(21, 80)
    strategy = STRATEGIES[key]
    params = ACTIVE_PARAMS[key]
    cleaned = strategy.validate(**params)
    reasons = {1: str(strategy.buy_reason) % cleaned, -1: str(strategy.sell_reason) % cleaned}
    reasons[0] = "No signal"
    signals = strategy.signals(bars, **params)
    assert set(signals.unique()) == {-1, 0, 1}
    for when, signal in signals.items():
        reason = strategy.explain(bars, when, **params).split("; ")[0]
        assert reason == reasons[signal], when
