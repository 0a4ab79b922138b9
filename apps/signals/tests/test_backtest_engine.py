"""The backtest engine on hand-worked bars: every trade, price, quantity and charge below is
worked out by hand in the test from the inputs, not with the engine's helpers.

Most tests use "flat" bars (open = close = 100, high 101, low 99), whose true range is 2 on
every bar, so ATR(2) is exactly 2.0 from bar 2 on (NaN before); a few bars are overridden.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apps.signals.backtest import NO_CHARGES, BacktestConfig, Charges, backtest
from apps.signals.backtest.engine import TRADE_COLUMNS, bars_prepare, run, signal_events
from apps.signals.strategies import STRATEGIES, LookaheadError, lookahead_check
from apps.signals.tests.conftest import bars_synthetic

Bar = tuple[float, float, float, float]


def flat_bars(n: int, overrides: dict[int, Bar] | None = None) -> pd.DataFrame:
    rows = [(100.0, 101.0, 99.0, 100.0)] * n
    for i, bar in (overrides or {}).items():
        rows[i] = bar
    index = pd.date_range("2024-01-01 03:45", periods=n, freq="D", tz="UTC", name="start")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 1000.0
    return frame


def events(n: int, at: dict[int, int]) -> np.ndarray:
    out = np.zeros(n, dtype=np.int8)
    for i, v in at.items():
        out[i] = v
    return out


# Plain config for level tests: ATR(2) stop 1.5 x 2 = 3 below/above, target 2R = 6.
LEVELS = BacktestConfig(
    sizing="fixed",
    fixed_amount=10_000,
    initial_capital=100_000,
    stop_atr=1.5,
    target_r=2.0,
    atr_period=2,
    slippage_bps=0,
    charges=NO_CHARGES,
)
INDIAN = Charges(
    brokerage_rate=0.0003,
    brokerage_cap=20.0,
    stt_rate=0.001,
    exchange_rate=0.0000297,
    sebi_rate=0.000001,
    gst_rate=0.18,
    stamp_rate=0.00015,
)


def test_long_trade_enters_and_exits_at_next_opens_with_slippage_and_every_charge() -> None:
    bars = flat_bars(
        6,
        {
            1: (101, 103, 100, 102),
            2: (102, 105, 101, 104),
            3: (104, 106, 103, 105),
        },
    )
    config = BacktestConfig(
        sizing="fixed",
        fixed_amount=10_000,
        initial_capital=100_000,
        stop_atr=None,
        target_r=None,
        slippage_bps=10,
        charges=INDIAN,
    )
    result = backtest(bars, events(6, {0: 1, 2: -1}), config)

    entry, exit_ = 101 * 1.001, 104 * 0.999  # buy fills higher, sell lower
    qty = 98  # floor(10_000 / 101.101) = floor(98.91)
    buy, sell = entry * qty, exit_ * qty
    buy_fees = 0.0003 * buy + 0.0000297 * buy + 0.000001 * buy  # brokerage under the 20 cap
    sell_fees = 0.0003 * sell + 0.0000297 * sell + 0.000001 * sell
    buy_charges = buy_fees * 1.18 + 0.001 * buy + 0.00015 * buy  # + GST, STT, stamp duty
    sell_charges = sell_fees * 1.18 + 0.001 * sell  # no stamp duty on a sell
    pnl = (exit_ - entry) * qty - buy_charges - sell_charges

    assert list(result.trades.columns) == list(TRADE_COLUMNS)
    assert len(result.trades) == 1
    t = result.trades.iloc[0]
    assert (t.entry_index, t.exit_index, t.direction) == (1, 3, 1)
    assert t.entry_time == bars.index[1]
    assert t.exit_time == bars.index[3]
    assert t.entry_price == pytest.approx(entry)
    assert t.exit_price == pytest.approx(exit_)
    assert t.quantity == qty
    assert t.charges == pytest.approx(buy_charges + sell_charges)
    assert t.pnl == pytest.approx(pnl)
    assert t.return_pct == pytest.approx(pnl / (entry * qty))
    assert math.isnan(t.stop)
    assert math.isnan(t.target)
    assert math.isnan(t.r_multiple)
    assert t.bars_held == 3
    assert t.reason == "signal"
    expected_equity = [
        100_000,
        100_000 + qty * (102 - entry) - buy_charges,
        100_000 + qty * (104 - entry) - buy_charges,
        100_000 + pnl,
        100_000 + pnl,
        100_000 + pnl,
    ]
    assert result.equity.tolist() == pytest.approx(expected_equity)
    assert result.equity.index.equals(bars.index)
    assert result.exposure == pytest.approx(3 / 6)


def test_short_trade_pays_stamp_duty_on_the_cover_and_brokerage_is_capped() -> None:
    bars = flat_bars(6, {2: (100, 101, 95, 96), 3: (96, 97, 89, 90), 4: (90, 91, 89, 90)})
    config = BacktestConfig(
        direction="short",
        sizing="fixed",
        fixed_amount=200_000,
        initial_capital=1_000_000,
        stop_atr=None,
        target_r=None,
        slippage_bps=5,
        charges=INDIAN,
    )
    result = backtest(bars, events(6, {1: -1, 3: 1}), config)

    entry, cover = 100 * 0.9995, 90 * 1.0005  # short sale fills lower, cover higher
    qty = 2001  # floor(200_000 / 99.95) = floor(2001.0005)
    sell, buy = entry * qty, cover * qty
    # 0.0003 x turnover is ~60 and ~54 rupees: both capped at 20 per order.
    sell_charges = (20 + 0.0000297 * sell + 0.000001 * sell) * 1.18 + 0.001 * sell
    buy_charges = (20 + 0.0000297 * buy + 0.000001 * buy) * 1.18 + 0.001 * buy + 0.00015 * buy
    t = result.trades.iloc[0]
    assert len(result.trades) == 1
    assert (t.entry_index, t.exit_index, t.direction) == (2, 4, -1)
    assert t.quantity == qty
    assert t.entry_price == pytest.approx(entry)
    assert t.exit_price == pytest.approx(cover)
    assert t.charges == pytest.approx(sell_charges + buy_charges)
    assert t.pnl == pytest.approx((entry - cover) * qty - sell_charges - buy_charges)
    # Marked to market while short: profit as the close falls.
    assert result.equity.iloc[3] == pytest.approx(1_000_000 + (entry - 90) * qty - sell_charges)


@pytest.mark.parametrize(
    ("bar5", "price", "reason"),
    [
        ((100, 100.5, 96.5, 98), 97.0, "stop"),  # low reaches the stop at 97
        ((100, 106.5, 99.5, 106), 106.0, "target"),  # high reaches the target at 106
        ((100, 107, 96, 100), 97.0, "stop"),  # both in one bar: the stop is assumed first
        ((95, 96, 94, 95), 95.0, "stop"),  # gaps below the stop: fills at the worse open
        ((108, 109, 107, 108), 106.0, "target"),  # gaps above the target: no windfall
    ],
)
def test_long_stop_and_target_fill_conservatively(bar5: Bar, price: float, reason: str) -> None:
    bars = flat_bars(8, {5: bar5})
    result = backtest(bars, events(8, {3: 1}), LEVELS)

    # Entry at bar 4's open 100; stop 100 - 1.5 x ATR 2 = 97; target 100 + 2 x 3 = 106.
    t = result.trades.iloc[0]
    assert len(result.trades) == 1
    assert (t.entry_index, t.exit_index) == (4, 5)
    assert (t.stop, t.target) == (97.0, 106.0)
    assert t.quantity == 100  # 10_000 / 100
    assert t.exit_price == pytest.approx(price)
    assert t.reason == reason
    assert t.pnl == pytest.approx((price - 100) * 100)
    assert t.r_multiple == pytest.approx((price - 100) / 3)
    assert t.bars_held == 2


def test_short_stop_is_above_and_exit_pays_slippage() -> None:
    bars = flat_bars(8, {5: (100, 103.5, 99, 103)})
    config = BacktestConfig(
        direction="short",
        sizing="fixed",
        fixed_amount=10_000,
        initial_capital=100_000,
        stop_atr=1.5,
        target_r=2.0,
        atr_period=2,
        slippage_bps=20,
        charges=NO_CHARGES,
    )
    result = backtest(bars, events(8, {3: -1}), config)

    entry = 100 * 0.998
    stop, target = entry + 3, entry - 6
    t = result.trades.iloc[0]
    assert t.stop == pytest.approx(stop)
    assert t.target == pytest.approx(target)
    assert t.quantity == 100  # floor(10_000 / 99.8) = floor(100.2)
    assert t.reason == "stop"
    assert t.exit_price == pytest.approx(stop * 1.002)  # the cover fills higher
    assert t.pnl == pytest.approx((entry - stop * 1.002) * 100)


def test_the_stop_is_checked_from_the_entry_bar_itself() -> None:
    bars = flat_bars(8, {4: (100, 101, 96, 99)})
    result = backtest(bars, events(8, {3: 1}), LEVELS)
    t = result.trades.iloc[0]
    assert (t.entry_index, t.exit_index, t.reason, t.bars_held) == (4, 4, "stop", 1)
    assert t.exit_price == 97.0


def test_time_exit_closes_at_the_close_after_max_bars() -> None:
    bars = flat_bars(10, {6: (100, 101, 99, 100.5)})
    config = BacktestConfig(
        sizing="fixed",
        fixed_amount=10_000,
        initial_capital=100_000,
        stop_atr=50,  # far away: never reached
        target_r=None,
        atr_period=2,
        max_bars=3,
        slippage_bps=10,
        charges=NO_CHARGES,
    )
    result = backtest(bars, events(10, {3: 1}), config)
    t = result.trades.iloc[0]
    assert (t.entry_index, t.exit_index, t.bars_held, t.reason) == (4, 6, 3, "time")
    assert t.exit_price == pytest.approx(100.5 * 0.999)
    assert math.isnan(t.target)
    assert t.quantity == 99  # floor(10_000 / 100.1)


def test_both_reverses_a_long_into_a_short_at_the_same_open() -> None:
    bars = flat_bars(9, {5: (102, 103, 101, 102), 6: (104, 105, 103, 104), 7: (103, 104, 102, 103)})
    config = BacktestConfig(
        direction="both",
        sizing="fixed",
        fixed_amount=10_000,
        initial_capital=100_000,
        stop_atr=None,
        target_r=None,
        slippage_bps=10,
        charges=NO_CHARGES,
    )
    result = backtest(bars, events(9, {2: 1, 4: 1, 6: -1}), config)
    trades = result.trades
    assert trades[["entry_index", "exit_index", "direction"]].values.tolist() == [
        [3, 7, 1],  # the +1 on bar 4 repeats the open direction: nothing happens
        [7, 8, -1],
    ]
    assert trades.reason.tolist() == ["signal", "end"]
    assert trades.exit_price.iloc[0] == pytest.approx(103 * 0.999)
    assert trades.entry_price.iloc[1] == pytest.approx(103 * 0.999)  # the short sale, same open
    assert trades.exit_price.iloc[1] == pytest.approx(100 * 1.001)  # covered at the last close
    assert trades.quantity.tolist() == [99, 97]  # floor(10_000/100.1), floor(10_000/102.897)


def test_long_only_ignores_sells_when_flat_and_repeated_buys() -> None:
    bars = flat_bars(10)
    signals = events(10, {1: -1, 2: 1, 3: 1, 5: -1, 6: -1, 9: 1})
    result = backtest(bars, signals, BacktestConfig(stop_atr=None, slippage_bps=0))
    assert result.trades[["entry_index", "exit_index"]].values.tolist() == [[3, 6]]


def test_risk_sizing_risks_the_percent_of_equity_at_the_stop() -> None:
    bars = flat_bars(8)
    config = BacktestConfig(
        sizing="risk",
        risk_percent=1.0,
        initial_capital=100_000,
        stop_atr=1.5,
        target_r=None,
        atr_period=2,
        slippage_bps=0,
        charges=NO_CHARGES,
    )
    result = backtest(bars, events(8, {3: 1}), config)
    assert result.trades.quantity.iloc[0] == 333  # floor(1% x 100_000 / (100 - 97))


def test_risk_sizing_is_capped_by_what_equity_can_buy() -> None:
    config = BacktestConfig(
        sizing="risk",
        risk_percent=50.0,
        initial_capital=100_000,
        stop_atr=1.5,
        atr_period=2,
        slippage_bps=0,
        charges=NO_CHARGES,
    )
    result = backtest(flat_bars(8), events(8, {3: 1}), config)
    assert result.trades.quantity.iloc[0] == 1000  # 50_000 / 3 = 16_666 > 100_000 / 100


def test_risk_sizing_without_a_stop_is_refused() -> None:
    with pytest.raises(ValueError, match="stop"):
        backtest(flat_bars(5), events(5, {}), BacktestConfig(sizing="risk", stop_atr=None))


def test_percent_sizing_uses_equity_after_realised_profit() -> None:
    bars = flat_bars(10, {3: (110, 111, 109, 110)})
    config = BacktestConfig(
        sizing="percent",
        percent_of_equity=50,
        initial_capital=10_000,
        stop_atr=None,
        target_r=None,
        slippage_bps=0,
        charges=NO_CHARGES,
    )
    result = backtest(bars, events(10, {0: 1, 2: -1, 5: 1, 7: -1}), config)
    # First: floor(5_000 / 100) = 50 shares, sold at 110: +500. Second: floor(5_250 / 100).
    assert result.trades.quantity.tolist() == [50, 52]
    assert result.trades.pnl.tolist() == pytest.approx([500, 0])


def test_fractional_sizing_buys_fractions_of_a_share() -> None:
    config = BacktestConfig(
        sizing="fixed",
        fixed_amount=1_000,
        stop_atr=None,
        slippage_bps=10,
        fractional=True,
        charges=NO_CHARGES,
    )
    result = backtest(flat_bars(5), events(5, {0: 1}), config)
    assert result.trades.quantity.iloc[0] == pytest.approx(1_000 / 100.1)


def test_an_entry_is_skipped_while_atr_warms_up_and_a_trade_too_small_for_a_share() -> None:
    bars = flat_bars(10)
    result = backtest(bars, events(10, {1: 1, 4: 1}), LEVELS)  # ATR(2) is NaN on bar 1
    assert result.trades.entry_index.tolist() == [5]

    tiny = BacktestConfig(sizing="fixed", fixed_amount=50, stop_atr=None, charges=NO_CHARGES)
    assert backtest(bars, events(10, {1: 1}), tiny).trades.empty  # 50 rupees < one share


def test_window_ignores_signals_outside_and_closes_at_its_last_close() -> None:
    bars = flat_bars(10, {6: (100, 101, 99, 99.5)})
    config = BacktestConfig(stop_atr=None, sizing="fixed", slippage_bps=0, charges=NO_CHARGES)
    signals = events(10, {0: 1, 1: -1, 3: 1, 8: -1})
    result = backtest(bars, signals, config, first=2, last=7)
    assert result.trades[["entry_index", "exit_index"]].values.tolist() == [[4, 6]]
    assert result.trades.reason.tolist() == ["end"]
    assert result.trades.exit_price.iloc[0] == 99.5
    assert result.equity.index.equals(bars.index[2:7])
    assert result.exposure == pytest.approx(3 / 5)


def test_a_signal_on_the_last_bar_is_ignored() -> None:
    result = backtest(flat_bars(5), events(5, {4: 1}), BacktestConfig(stop_atr=None))
    assert result.trades.empty
    assert result.equity.tolist() == [1_000_000.0] * 5


def test_signals_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="signals"):
        backtest(flat_bars(5), np.zeros(4))


@pytest.mark.parametrize(
    "config",
    [
        BacktestConfig(stop_atr=None, target_r=None),
        BacktestConfig(stop_atr=None, direction="both", sizing="fixed"),
        BacktestConfig(stop_atr=None, direction="short", fractional=True),
        BacktestConfig(stop_atr=None, sizing="percent", percent_of_equity=60),
        BacktestConfig(
            stop_atr=None, fractional=True, charges=Charges(brokerage_rate=0.001, brokerage_cap=0)
        ),
    ],
)
def test_fast_path_gives_the_same_trades_as_the_general_path(config: BacktestConfig) -> None:
    bars = bars_synthetic(1500, seed=7)
    signals = STRATEGIES["ema_crossover"].signals(bars, fast=5, slow=20)
    prepared = bars_prepare(bars)
    ev_bars, ev_signs = signal_events(signals, len(bars))
    fast = run(prepared, ev_bars, ev_signs, config, first=100, last=1400)
    general = run(prepared, ev_bars, ev_signs, config, first=100, last=1400, fast=False)
    assert len(fast.trades) > 20
    pd.testing.assert_frame_equal(fast.trades, general.trades, check_exact=False, rtol=1e-9)
    np.testing.assert_allclose(fast.equity.to_numpy(), general.equity.to_numpy(), rtol=1e-9)
    assert fast.exposure == general.exposure


def _peeking(bars: pd.DataFrame) -> pd.Series:
    close = bars["close"]
    return (close.shift(-1) > close).astype(np.int8)


def test_a_strategy_that_reads_the_next_bar_is_caught() -> None:
    with pytest.raises(LookaheadError):
        lookahead_check(_peeking, bars_synthetic(300))


def test_changing_bars_after_k_changes_no_trade_decided_by_k() -> None:
    bars = bars_synthetic(600, seed=3)
    k = 400
    changed = bars.copy()
    rng = np.random.default_rng(9)
    changed.iloc[k + 1 :, :4] *= rng.uniform(0.5, 1.5, size=(len(bars) - k - 1, 1))
    changed["high"] = changed[["open", "high", "low", "close"]].max(axis=1)
    changed["low"] = changed[["open", "high", "low", "close"]].min(axis=1)
    strategy = STRATEGIES["sma_crossover"]
    config = BacktestConfig(direction="both", stop_atr=2.0, target_r=3.0, sizing="risk")
    before = backtest(bars, strategy.signals(bars, fast=5, slow=20), config).trades
    after = backtest(changed, strategy.signals(changed, fast=5, slow=20), config).trades

    opened = before[before.entry_index <= k]
    assert len(opened) > 10
    same = ["entry_index", "entry_price", "quantity", "stop", "target", "direction"]
    pd.testing.assert_frame_equal(
        opened[same], after[after.entry_index <= k][same], check_exact=True
    )
    closed = before[before.exit_index <= k]
    pd.testing.assert_frame_equal(closed, after.iloc[: len(closed)], check_exact=True)
    # Every fill is at or after the open of the bar following its signal.
    signals = strategy.signals(bars, fast=5, slow=20).to_numpy()
    for t in before.itertuples():
        assert signals[t.entry_index - 1] != 0


def test_no_product_module_imports_vectorbt() -> None:
    # vectorbt carries the Commons Clause: only bench/signals.py may use it.
    apps = Path(__file__).resolve().parents[2]
    offenders = [
        str(path)
        for path in apps.rglob("*.py")
        if "vectorbt" in path.read_text(encoding="utf-8") and path.name != Path(__file__).name
    ]
    assert offenders == []
    assert "vectorbt" not in (apps.parent / "requirements" / "base.txt").read_text()
