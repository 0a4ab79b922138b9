"""Specification of apps.market.indicators (pure numpy; no database)."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pytest
import talib

from apps.market.indicators import (
    INDICATORS,
    PATTERN_NAMES,
    EMAState,
    IndicatorError,
    MACDState,
    RSIState,
    atr,
    bollinger,
    compute,
    donchian,
    ema,
    macd,
    obv,
    pattern,
    rsi,
    session_ids,
    sma,
    stochastic,
    supertrend,
    vwap,
    williams_r,
    wma,
)

NAN = np.nan


def assert_close(actual: npt.ArrayLike, expected: npt.ArrayLike, rtol: float = 1e-6) -> None:
    """Same NaN positions, and equal values to ``rtol`` elsewhere."""
    got, want = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-9, equal_nan=True)


def warmup(values: np.ndarray) -> int:
    """Number of leading NaNs."""
    valid = np.flatnonzero(~np.isnan(values))
    return int(valid[0]) if valid.size else len(values)


@pytest.fixture
def bars() -> dict[str, np.ndarray]:
    """400 random-walk OHLCV bars, five-minute spacing over several IST sessions."""
    rng = np.random.default_rng(20240601)
    n = 400
    close = 1000 + np.cumsum(rng.normal(0, 5, n))
    open_ = close + rng.normal(0, 2, n)
    high = np.maximum(open_, close) + rng.uniform(0, 4, n)
    low = np.minimum(open_, close) - rng.uniform(0, 4, n)
    volume = rng.integers(1_000, 50_000, n).astype(float)
    timestamp = np.datetime64("2024-06-03T03:45") + np.arange(n) * np.timedelta64(5, "m")
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "timestamp": timestamp,
    }


# --- hand-worked small cases --------------------------------------------------------------


def test_sma_of_one_to_ten_over_three_bars_is_the_middle_value() -> None:
    assert_close(sma(np.arange(1.0, 11.0), 3), [NAN, NAN, 2, 3, 4, 5, 6, 7, 8, 9])


def test_ema_is_seeded_with_the_sma_then_smoothed_with_k_two_over_period_plus_one() -> None:
    # seed mean(2, 4, 6) = 4; k = 0.5: 4 + .5*(8-4) = 6; 6 + .5*(12-6) = 9
    assert_close(ema([2.0, 4.0, 6.0, 8.0, 12.0], 3), [NAN, NAN, 4, 6, 9])


def test_ema_of_one_to_ten_lags_a_straight_line_by_half_the_window() -> None:
    assert_close(ema(np.arange(1.0, 11.0), 4), [NAN] * 3 + list(np.arange(4.0, 11.0) - 1.5))


def test_wma_weights_the_newest_bar_most() -> None:
    # (1*1 + 2*2 + 3*4) / 6 = 17/6 ; (1*2 + 2*4 + 3*8) / 6 = 34/6
    assert_close(wma([1.0, 2.0, 4.0, 8.0], 3), [NAN, NAN, 17 / 6, 34 / 6])


def test_rsi_uses_simple_seed_averages_then_wilder_smoothing() -> None:
    # changes +1, -1, +2; seed over 2: gain .5, loss .5 -> 50
    # then gain (.5*1 + 2)/2 = 1.25, loss (.5*1 + 0)/2 = .25 -> 100 * 1.25 / 1.5
    assert_close(rsi([1.0, 2.0, 1.0, 3.0], 2), [NAN, NAN, 50.0, 100 * 1.25 / 1.5])


def wilder_rsi_reference(close: list[float], period: int) -> list[float]:
    changes = [b - a for a, b in zip(close, close[1:], strict=False)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out = [NAN] * period + [100 * gain / (gain + loss)]
    for c in changes[period:]:
        gain = (gain * (period - 1) + max(c, 0.0)) / period
        loss = (loss * (period - 1) + max(-c, 0.0)) / period
        out.append(100 * gain / (gain + loss))
    return out


def test_rsi_matches_wilders_formula_on_a_textbook_sequence() -> None:
    close = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89,
             46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21]  # fmt: skip
    assert_close(rsi(np.array(close), 14), wilder_rsi_reference(close, 14))


# --- wrappers against independent numpy references ----------------------------------------


def windows(values: np.ndarray, period: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(values, period)


def pad(values: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.full(n - len(values), NAN), values])


def test_bollinger_bands_are_sma_plus_minus_k_population_deviations(bars: dict) -> None:
    close = bars["close"]
    upper, middle, lower = bollinger(close, 20, 2.5)
    mean, std = windows(close, 20).mean(axis=1), windows(close, 20).std(axis=1)
    n = len(close)
    assert_close(middle, pad(mean, n))
    assert_close(upper, pad(mean + 2.5 * std, n))
    assert_close(lower, pad(mean - 2.5 * std, n))


def test_williams_r_is_the_close_position_below_the_highest_high(bars: dict) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    hh, ll = windows(h, 14).max(axis=1), windows(lo, 14).min(axis=1)
    expected = pad(-100 * (hh - c[13:]) / (hh - ll), len(c))
    assert_close(williams_r(h, lo, c, 14), expected)


def test_slow_stochastic_smooths_fast_k_then_d_with_simple_averages(bars: dict) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    hh, ll = windows(h, 14).max(axis=1), windows(lo, 14).min(axis=1)
    fast_k = pad(100 * (c[13:] - ll) / (hh - ll), len(c))
    slow_k = pad(windows(fast_k[13:], 3).mean(axis=1), len(c))
    slow_d = pad(windows(slow_k[15:], 3).mean(axis=1), len(c))
    slow_k[:17] = NAN  # TA-Lib aligns both lines to the %D warm-up
    k, d = stochastic(h, lo, c, 14, 3, 3)
    assert_close(k, slow_k)
    assert_close(d, slow_d)


def test_obv_adds_volume_on_up_closes_and_subtracts_on_down_closes() -> None:
    close = np.array([10.0, 11.0, 10.5, 10.5, 12.0])
    volume = np.array([100.0, 200.0, 50.0, 70.0, 30.0])
    assert_close(obv(close, volume), [100, 300, 250, 250, 280])


def wilder_atr_reference(h: np.ndarray, lo: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(c), NAN)
    tr = [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))]
    value = sum(tr[:n]) / n
    out[n] = value
    for i in range(n + 1, len(c)):
        value = (value * (n - 1) + tr[i - 1]) / n
        out[i] = value
    return out


def test_atr_is_wilder_smoothed_true_range_starting_at_bar_period(bars: dict) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    assert_close(atr(h, lo, c, 14), wilder_atr_reference(h, lo, c, 14))


def test_macd_line_is_fast_minus_slow_ema_both_seeded_at_the_slow_warm_up(bars: dict) -> None:
    close = bars["close"]
    line, signal, hist = macd(close, 12, 26, 9)
    fast = ema(close[14:], 12)[11:]  # fast EMA seeded on the 12 closes ending at bar 25
    slow = ema(close, 26)[25:]
    reference_line = pad(fast - slow, len(close))
    reference_signal = pad(ema(reference_line[25:], 9), len(close))
    reference_line[:33] = NAN
    assert_close(line, reference_line)
    assert_close(signal, reference_signal)
    assert_close(hist, reference_line - reference_signal)


@pytest.mark.parametrize(
    ("name", "params", "talib_call"),
    [
        ("sma", {"period": 9}, lambda b: talib.SMA(b["close"], 9)),
        ("ema", {"period": 9}, lambda b: talib.EMA(b["close"], 9)),
        ("wma", {"period": 9}, lambda b: talib.WMA(b["close"], 9)),
        ("rsi", {"period": 9}, lambda b: talib.RSI(b["close"], 9)),
        ("atr", {"period": 9}, lambda b: talib.ATR(b["high"], b["low"], b["close"], 9)),
        ("adx", {"period": 9}, lambda b: talib.ADX(b["high"], b["low"], b["close"], 9)),
        ("cci", {"period": 9}, lambda b: talib.CCI(b["high"], b["low"], b["close"], 9)),
        ("williams_r", {}, lambda b: talib.WILLR(b["high"], b["low"], b["close"], 14)),
        ("obv", {}, lambda b: talib.OBV(b["close"], b["volume"])),
        (
            "mfi",
            {"period": 9},
            lambda b: talib.MFI(b["high"], b["low"], b["close"], b["volume"], 9),
        ),
    ],
)
def test_registry_wrappers_return_exactly_what_talib_returns(
    bars: dict, name: str, params: dict, talib_call
) -> None:
    (output,) = compute(name, bars, **params).values()
    assert_close(output, talib_call(bars))


def test_multi_output_wrappers_name_their_outputs_in_talib_order(bars: dict) -> None:
    out = compute("macd", bars, fast=5, slow=13, signal=4)
    for key, expected in zip(("macd", "signal", "histogram"), talib.MACD(bars["close"], 5, 13, 4),
                             strict=True):  # fmt: skip
        assert_close(out[key], expected)
    out = compute("bollinger", bars, period=10, nbdev=1.5)
    bands = talib.BBANDS(bars["close"], 10, 1.5, 1.5)
    for key, expected in zip(("upper", "middle", "lower"), bands, strict=True):
        assert_close(out[key], expected)


# --- warm-up lengths ---------------------------------------------------------------------

EXPECTED_WARMUP = {
    "sma": 19,
    "ema": 19,
    "wma": 19,
    "rsi": 14,
    "macd": 33,
    "bollinger": 19,
    "atr": 14,
    "stochastic": 17,
    "adx": 27,
    "cci": 19,
    "williams_r": 13,
    "obv": 0,
    "mfi": 14,
    "vwap": 0,
    "supertrend": 10,
    "donchian": 19,
    "cdlengulfing": 2,
    "cdlmorningstar": 12,
}


@pytest.mark.parametrize(("name", "bars_of_nan"), sorted(EXPECTED_WARMUP.items()))
def test_every_output_is_nan_exactly_during_the_default_warm_up(
    bars: dict, name: str, bars_of_nan: int
) -> None:
    for output in compute(name, bars).values():
        assert len(output) == len(bars["close"])
        assert output.dtype == np.float64
        assert warmup(output) == bars_of_nan
        assert not np.isnan(output[bars_of_nan:]).any()


def test_leading_nans_delay_the_warm_up_instead_of_poisoning_the_series() -> None:
    close = np.arange(1.0, 11.0)
    close[:2] = NAN
    assert_close(sma(close, 3), [NAN, NAN, NAN, NAN, 4, 5, 6, 7, 8, 9])


# --- NaN gaps ----------------------------------------------------------------------------


def test_a_nan_gap_makes_talib_indicators_nan_from_the_gap_to_the_end() -> None:
    close = np.arange(1.0, 31.0) + np.sin(np.arange(30.0))
    close[20] = NAN
    for output in (sma(close, 3), ema(close, 3), rsi(close, 3)):
        assert not np.isnan(output[3:20]).any()
        assert np.isnan(output[20:]).all()
    # raw TA-Lib would report a misleading RSI of 0 after the gap:
    assert (talib.RSI(close, 3)[21:] == 0).all()


def test_a_nan_gap_only_blanks_donchian_windows_that_contain_it() -> None:
    high = np.array([5.0, 6.0, NAN, 4.0, 3.0, 2.0])
    low = high - 1
    upper, _, _ = donchian(high, low, 2)
    assert_close(upper, [NAN, 6, NAN, NAN, 4, 3])


def test_vwap_skips_a_nan_bar_and_continues_the_session() -> None:
    ts = np.array(["2024-01-01T04:00", "2024-01-01T04:05", "2024-01-01T04:10"], "datetime64[m]")
    price = np.array([10.0, NAN, 20.0])
    out = vwap(price, price, price, np.array([1.0, 5.0, 3.0]), ts)
    assert_close(out, [10.0, NAN, (10 * 1 + 20 * 3) / 4])


def test_supertrend_stops_at_a_nan_gap(bars: dict) -> None:
    high = bars["high"].copy()
    high[200] = NAN
    line, *_ = supertrend(high, bars["low"], bars["close"], 10, 3.0)
    assert not np.isnan(line[10:200]).any()
    assert np.isnan(line[200:]).all()


# --- VWAP --------------------------------------------------------------------------------


def test_vwap_restarts_at_each_ist_calendar_day_not_each_utc_day() -> None:
    ts = np.array(
        [
            "2024-01-01T03:45",  # 09:15 IST 1 Jan
            "2024-01-01T09:55",  # 15:25 IST 1 Jan
            "2024-01-01T19:00",  # 00:30 IST 2 Jan: same UTC day, new session
            "2024-01-02T03:45",  # 09:15 IST 2 Jan
        ],
        dtype="datetime64[m]",
    )
    high = np.array([12.0, 15.0, 30.0, 33.0])
    low = np.array([9.0, 12.0, 27.0, 27.0])
    close = np.array([9.0, 12.0, 30.0, 30.0])  # typical prices 10, 13, 29, 30
    volume = np.array([100.0, 300.0, 10.0, 30.0])
    expected = [10.0, (10 * 100 + 13 * 300) / 400, 29.0, (29 * 10 + 30 * 30) / 40]
    assert_close(vwap(high, low, close, volume, ts), expected)
    assert list(session_ids(ts)) == [0, 0, 1, 1]


def test_vwap_is_nan_until_the_session_has_traded_volume() -> None:
    ts = np.array(["2024-01-01T04:00", "2024-01-01T04:05"], dtype="datetime64[m]")
    price = np.array([10.0, 11.0])
    assert_close(vwap(price, price, price, np.array([0.0, 2.0]), ts), [NAN, 11.0])


def test_vwap_rejects_unordered_or_non_datetime_timestamps() -> None:
    price = np.ones(2)
    with pytest.raises(IndicatorError) as err:
        vwap(price, price, price, price, np.array([2, 1]))
    assert err.value.field == "timestamp"
    backwards = np.array(["2024-01-02", "2024-01-01"], dtype="datetime64[D]")
    with pytest.raises(IndicatorError, match="non-decreasing"):
        vwap(price, price, price, price, backwards)


# --- Donchian, SuperTrend ----------------------------------------------------------------


def test_donchian_channel_is_the_rolling_extreme_and_its_midpoint() -> None:
    high = np.array([3.0, 5.0, 4.0, 2.0, 6.0])
    low = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
    upper, middle, lower = donchian(high, low, 3)
    assert_close(upper, [NAN, NAN, 5, 5, 6])
    assert_close(lower, [NAN, NAN, 0.5, 0.5, 0.5])
    assert_close(middle, [NAN, NAN, 2.75, 2.75, 3.25])


def supertrend_reference(
    h: np.ndarray, lo: np.ndarray, c: np.ndarray, period: int, mult: float
) -> tuple[np.ndarray, np.ndarray]:
    """Textbook SuperTrend, one bar at a time."""
    atr_ = wilder_atr_reference(h, lo, c, period)
    line, direction = np.full(len(c), NAN), np.full(len(c), NAN)
    final_upper = final_lower = NAN
    for i in range(period, len(c)):
        basic_upper = (h[i] + lo[i]) / 2 + mult * atr_[i]
        basic_lower = (h[i] + lo[i]) / 2 - mult * atr_[i]
        if i == period:
            final_upper, final_lower, trend = basic_upper, basic_lower, -1
        else:
            if basic_upper < final_upper or c[i - 1] > final_upper:
                final_upper = basic_upper
            if basic_lower > final_lower or c[i - 1] < final_lower:
                final_lower = basic_lower
            if trend == -1 and c[i] > final_upper:
                trend = 1
            elif trend == 1 and c[i] < final_lower:
                trend = -1
        direction[i] = trend
        line[i] = final_lower if trend == 1 else final_upper
    return line, direction


@pytest.mark.parametrize(("period", "multiplier"), [(10, 3.0), (7, 1.5), (1, 0.5)])
def test_supertrend_matches_a_bar_by_bar_reference(
    bars: dict, period: int, multiplier: float
) -> None:
    h, lo, c = bars["high"], bars["low"], bars["close"]
    line, direction, upper, lower = supertrend(h, lo, c, period, multiplier)
    expected_line, expected_direction = supertrend_reference(h, lo, c, period, multiplier)
    assert_close(line, expected_line)
    assert_close(direction, expected_direction)
    assert set(np.unique(direction[period:])) <= {-1.0, 1.0}
    assert len(np.unique(direction[period:])) == 2  # the random walk flips trend
    up = direction == 1
    assert_close(line[up], lower[up])
    assert_close(line[direction == -1], upper[direction == -1])


# --- candlestick patterns ----------------------------------------------------------------


def test_every_talib_candlestick_pattern_is_registered() -> None:
    assert len(PATTERN_NAMES) == len(talib.get_function_groups()["Pattern Recognition"])
    assert all(name.lower() in INDICATORS for name in PATTERN_NAMES)
    assert [p.name for p in INDICATORS["cdlmorningstar"].params] == ["penetration"]
    assert INDICATORS["cdldoji"].params == ()


def test_pattern_returns_talib_signals_as_floats_with_nan_lookback(bars: dict) -> None:
    ohlc = bars["open"], bars["high"], bars["low"], bars["close"]
    for name in ("CDLENGULFING", "cdlharami", "CDLDOJI"):
        expected = getattr(talib, name.upper())(*ohlc).astype(float)
        out = pattern(name, *ohlc)
        lookback = warmup(out)
        assert lookback > 0
        assert_close(out[lookback:], expected[lookback:])
    out = pattern("CDLMORNINGSTAR", *ohlc, penetration=0.1)
    assert_close(out[12:], talib.CDLMORNINGSTAR(*ohlc, penetration=0.1)[12:].astype(float))


def test_pattern_rejects_unknown_names_and_parameters(bars: dict) -> None:
    ohlc = bars["open"], bars["high"], bars["low"], bars["close"]
    with pytest.raises(IndicatorError) as err:
        pattern("CDLNOSUCHTHING", *ohlc)
    assert err.value.field == "name"
    with pytest.raises(IndicatorError) as err:
        pattern("CDLDOJI", *ohlc, penetration=0.2)
    assert err.value.field == "penetration"


# --- registry ----------------------------------------------------------------------------


def test_spec_describes_parameters_inputs_and_outputs() -> None:
    spec = INDICATORS["rsi"]
    assert spec.inputs == ("close",)
    assert spec.outputs == ("rsi",)
    assert spec.describe()["params"] == [
        {"name": "period", "type": "int", "default": 14, "min": 2, "max": 1000}
    ]
    assert INDICATORS["macd"].outputs == ("macd", "signal", "histogram")
    assert INDICATORS["vwap"].inputs[-1] == "timestamp"


def expect_error(field: str, name: str, series: dict, **params: object) -> IndicatorError:
    with pytest.raises(IndicatorError) as err:
        compute(name, series, **params)
    assert err.value.field == field
    assert field in str(err.value)
    return err.value


def test_unknown_indicator_is_reported_against_the_indicator_field(bars: dict) -> None:
    expect_error("indicator", "nope", bars)


def test_unknown_parameter_is_reported_by_its_name(bars: dict) -> None:
    expect_error("length", "rsi", bars, length=14)


@pytest.mark.parametrize("bad", [0, 1, 1001, -5, 14.5, "x", True, None, float("nan")])
def test_out_of_range_or_wrong_type_period_is_rejected(bars: dict, bad: object) -> None:
    expect_error("period", "rsi", bars, period=bad)


def test_range_message_names_the_limits(bars: dict) -> None:
    error = expect_error("period", "sma", bars, period=5000)
    assert error.message == "must be between 2 and 1000, got 5000"


def test_numeric_strings_and_integral_floats_are_accepted(bars: dict) -> None:
    expected = talib.RSI(bars["close"], 9)
    assert_close(compute("rsi", bars, period="9")["rsi"], expected)
    assert_close(compute("rsi", bars, period=9.0)["rsi"], expected)
    compute("bollinger", bars, nbdev="1.5")


def test_float_parameters_have_ranges_too(bars: dict) -> None:
    expect_error("multiplier", "supertrend", bars, multiplier=0)
    expect_error("nbdev", "bollinger", bars, nbdev=11)
    expect_error("penetration", "cdlmorningstar", bars, penetration=2)


def test_macd_fast_period_must_be_below_slow(bars: dict) -> None:
    expect_error("fast", "macd", bars, fast=26, slow=12)


def test_missing_or_misaligned_inputs_are_reported_by_series_name(bars: dict) -> None:
    expect_error("high", "atr", {"close": bars["close"]})
    expect_error("low", "atr", {**bars, "low": bars["low"][:-1]})


# --- incremental states ------------------------------------------------------------------


@pytest.fixture
def ticks() -> np.ndarray:
    rng = np.random.default_rng(7)
    return 500 + np.cumsum(rng.normal(0, 3, 700))


HISTORY = 200


def test_ema_state_updates_match_talib_over_the_full_series(ticks: np.ndarray) -> None:
    state = EMAState.from_history(ticks[:HISTORY], 20)
    assert state.value == pytest.approx(talib.EMA(ticks[:HISTORY], 20)[-1], rel=1e-12)
    for i in range(HISTORY, len(ticks)):
        value = state.update(ticks[i])
        assert value == pytest.approx(talib.EMA(ticks[: i + 1], 20)[-1], rel=1e-9)


def test_rsi_state_updates_match_talib_over_the_full_series(ticks: np.ndarray) -> None:
    state = RSIState.from_history(ticks[:HISTORY], 14)
    assert state.value == pytest.approx(talib.RSI(ticks[:HISTORY], 14)[-1], rel=1e-12)
    for i in range(HISTORY, len(ticks)):
        value = state.update(ticks[i])
        assert value == pytest.approx(talib.RSI(ticks[: i + 1], 14)[-1], rel=1e-9)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 1)])
def test_macd_state_updates_match_talib_over_the_full_series(
    ticks: np.ndarray, fast: int, slow: int, signal: int
) -> None:
    state = MACDState.from_history(ticks[:HISTORY], fast, slow, signal)
    for i in range(HISTORY, len(ticks)):
        value = state.update(ticks[i])
        expected = [series[-1] for series in talib.MACD(ticks[: i + 1], fast, slow, signal)]
        assert list(value) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_peek_shows_the_live_bar_without_committing_it(ticks: np.ndarray) -> None:
    history = ticks[:HISTORY]
    states: tuple[EMAState | RSIState | MACDState, ...] = (
        EMAState.from_history(history, 10),
        RSIState.from_history(history, 14),
        MACDState.from_history(history),
    )
    reference = (
        lambda s: talib.EMA(s, 10)[-1],
        lambda s: talib.RSI(s, 14)[-1],
        lambda s: [series[-1] for series in talib.MACD(s)],
    )
    for state, recompute in zip(states, reference, strict=True):
        before = state.value
        for live in (history[-1] * 1.01, history[-1] * 0.97, history[-1]):
            expected = recompute(np.append(history, live))
            result = state.peek(live)
            peeked = list(result) if isinstance(result, tuple) else result
            assert peeked == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert state.value == before


def test_states_can_be_seeded_from_exactly_the_minimum_history(ticks: np.ndarray) -> None:
    assert EMAState.from_history(ticks[:5], 5).value == pytest.approx(ticks[:5].mean())
    assert RSIState.from_history(ticks[:15], 14).value == pytest.approx(
        talib.RSI(ticks[:15], 14)[-1]
    )
    macd_state = MACDState.from_history(ticks[:34])
    assert macd_state.value.signal == pytest.approx(talib.MACD(ticks[:34])[1][-1])


def test_seeding_rejects_short_or_gappy_history_and_bad_ticks(ticks: np.ndarray) -> None:
    with pytest.raises(IndicatorError, match="at least 34 bars"):
        MACDState.from_history(ticks[:33])
    with pytest.raises(IndicatorError, match="at least 15 bars"):
        RSIState.from_history(ticks[:14], 14)
    gappy = ticks[:50].copy()
    gappy[30] = NAN
    with pytest.raises(IndicatorError, match="gap"):
        EMAState.from_history(gappy, 10)
    with pytest.raises(IndicatorError) as err:
        EMAState.from_history(ticks, 0)
    assert err.value.field == "period"
    with pytest.raises(IndicatorError) as err:
        MACDState.from_history(ticks, 26, 12)
    assert err.value.field == "fast"
    state = EMAState.from_history(ticks, 10)
    with pytest.raises(IndicatorError):
        state.update(NAN)


def test_leading_nans_in_history_are_skipped_when_seeding(ticks: np.ndarray) -> None:
    history = np.concatenate([[NAN, NAN], ticks[:HISTORY]])
    assert RSIState.from_history(history, 14).value == pytest.approx(
        talib.RSI(ticks[:HISTORY], 14)[-1], rel=1e-12
    )


def test_the_fast_nan_check_sees_nans_but_not_infinities() -> None:
    from apps.market.indicators._arrays import _has_nan, first_gap

    clean = np.array([1.0, np.inf, -np.inf, 1e200, -1e200])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 1e200 squared overflows to inf: no RuntimeWarning
        assert not _has_nan(clean)
    assert first_gap(clean) is None
    gappy = np.array([np.nan, 1.0, 2.0, np.nan, 3.0])
    assert _has_nan(gappy)
    assert first_gap(gappy) == 3
