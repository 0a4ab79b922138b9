"""The backtest report against metrics computed independently with plain loops, and the
portfolio backtest against per-instrument runs summed by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from apps.signals.backtest import BacktestConfig, backtest, portfolio_backtest, report
from apps.signals.backtest.report import BARS_PER_YEAR, MAX_POINTS
from apps.signals.strategies import STRATEGIES
from apps.signals.tests.conftest import bars_synthetic

RF = 0.055


def _loop_metrics(equity: list[float], initial: float, per_year: int) -> dict[str, float]:
    returns = []
    prev = initial
    for value in equity:
        returns.append(value / prev - 1)
        prev = value
    rf_bar = (1 + RF) ** (1 / per_year) - 1
    excess = [r - rf_bar for r in returns]
    n = len(excess)
    mean = sum(excess) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in excess) / (n - 1))
    mean_r = sum(returns) / n
    vol = math.sqrt(sum((r - mean_r) ** 2 for r in returns) / (n - 1)) * math.sqrt(per_year)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / n)
    peak, max_dd, run, longest = initial, 0.0, 0, 0
    for value in equity:
        peak = max(peak, value)
        dd = 1 - value / peak
        max_dd = max(max_dd, dd)
        run = run + 1 if dd > 1e-12 else 0
        longest = max(longest, run)
    return {
        "sharpe": mean / std * math.sqrt(per_year),
        "sortino": mean / downside * math.sqrt(per_year),
        "volatility": vol,
        "max_drawdown": max_dd,
        "max_drawdown_duration_bars": longest,
    }


@pytest.fixture(scope="module")
def daily() -> tuple[pd.DataFrame, pd.Series]:
    bars = bars_synthetic(800, seed=11)
    return bars, STRATEGIES["sma_crossover"].signals(bars, fast=5, slow=20)


def test_summary_metrics_match_independent_loops(daily: tuple[pd.DataFrame, pd.Series]) -> None:
    bars, signals = daily
    config = BacktestConfig(direction="both", stop_atr=2.0, target_r=2.0, sizing="risk")
    result = backtest(bars, signals, config)
    out = report(result, bars, timeframe="1d", risk_free_rate=RF)
    s = out["summary"]

    equity = result.equity.tolist()
    pnl = result.trades.pnl.tolist()
    expected = _loop_metrics(equity, 1_000_000, 252)
    for key in ("sharpe", "sortino", "volatility", "max_drawdown"):
        assert s[key] == pytest.approx(expected[key], abs=2e-6), key
    assert s["max_drawdown_duration_bars"] == expected["max_drawdown_duration_bars"]
    years = (bars.index[-1] - bars.index[0]).days / 365.25
    cagr = (equity[-1] / 1_000_000) ** (1 / years) - 1
    assert s["cagr"] == pytest.approx(cagr, abs=1e-6)
    assert s["calmar"] == pytest.approx(cagr / expected["max_drawdown"], abs=1e-4)
    assert s["net_return"] == pytest.approx(equity[-1] / 1_000_000 - 1, abs=1e-6)
    assert s["final_equity"] == pytest.approx(equity[-1], abs=0.01)
    wins = [x for x in pnl if x > 0]
    losses = [x for x in pnl if x < 0]
    assert len(pnl) > 20
    assert (s["trades"], s["wins"], s["losses"]) == (len(pnl), len(wins), len(losses))
    assert s["win_rate"] == pytest.approx(len(wins) / len(pnl), abs=1e-6)
    assert s["profit_factor"] == pytest.approx(sum(wins) / -sum(losses), abs=1e-6)
    assert s["expectancy"] == pytest.approx(sum(pnl) / len(pnl), abs=0.01)
    assert s["avg_win"] == pytest.approx(sum(wins) / len(wins), abs=0.01)
    assert s["avg_loss"] == pytest.approx(sum(losses) / len(losses), abs=0.01)
    assert (s["best_trade"], s["worst_trade"]) == (round(max(pnl), 2), round(min(pnl), 2))
    r = result.trades.r_multiple.tolist()
    assert s["avg_r"] == pytest.approx(sum(r) / len(r), abs=1e-6)
    held = result.trades.bars_held.tolist()
    assert s["avg_duration_bars"] == pytest.approx(sum(held) / len(held), abs=0.01)
    assert s["max_duration_bars"] == max(held)
    assert s["buy_and_hold_return"] == pytest.approx(
        bars.close.iloc[-1] / bars.open.iloc[0] - 1, abs=1e-6
    )
    assert s["charges_total"] == pytest.approx(sum(result.trades.charges), abs=0.01)
    assert s["exposure"] == pytest.approx(result.exposure, abs=1e-6)
    assert s["bars"] == len(bars)
    assert s["start"] == bars.index[0].isoformat()


def test_report_is_plain_json_with_every_trade_and_the_curves(
    daily: tuple[pd.DataFrame, pd.Series],
) -> None:
    bars, signals = daily
    result = backtest(bars, signals, BacktestConfig())
    out = report(result, bars, timeframe="1d")
    json.dumps(out, allow_nan=False)  # no NaN or infinity anywhere
    assert len(out["trades"]) == len(result.trades)
    first = out["trades"][0]
    t = result.trades.iloc[0]
    assert first["entry_time"] == t.entry_time.isoformat()
    assert first["direction"] == "long"
    assert first["pnl"] == round(t.pnl, 2)
    assert first["reason"] in {"signal", "stop", "target", "time", "end"}
    assert len(out["equity"]) == len(bars)
    assert out["equity"][0] == [int(bars.index[0].timestamp()), round(result.equity.iloc[0], 2)]
    peak = np.maximum.accumulate(np.concatenate([[1_000_000], result.equity.to_numpy()]))[1:]
    assert [v for _, v in out["drawdown"]] == pytest.approx(
        list(1 - result.equity.to_numpy() / peak), abs=1e-6
    )


def test_undefined_figures_are_none_without_trades() -> None:
    bars = bars_synthetic(50)
    out = report(backtest(bars, np.zeros(50)), bars, timeframe="1d")
    s = out["summary"]
    assert s["trades"] == 0
    for key in ("win_rate", "profit_factor", "expectancy", "avg_r", "sharpe", "calmar"):
        assert s[key] is None, key
    assert s["max_drawdown"] == 0
    assert out["trades"] == []


def test_long_curves_are_downsampled_keeping_first_last_and_trough() -> None:
    bars = bars_synthetic(6000, freq="15min", seed=4)
    signals = STRATEGIES["ema_crossover"].signals(bars, fast=10, slow=40)
    result = backtest(bars, signals, BacktestConfig(stop_atr=None))
    out = report(result, bars, timeframe="15m")
    times = [t for t, _ in out["drawdown"]]
    assert len(times) <= MAX_POINTS
    assert times[0] == int(bars.index[0].timestamp())
    assert times[-1] == int(bars.index[-1].timestamp())
    assert max(v for _, v in out["drawdown"]) == pytest.approx(out["summary"]["max_drawdown"])
    assert times == sorted(times)


def test_annualisation_counts_nse_session_buckets() -> None:
    # 09:15-15:30 is 375 minutes: 25 quarter hours, 7 hourly buckets (the last one short).
    assert BARS_PER_YEAR["15m"] == 25 * 252
    assert BARS_PER_YEAR["1h"] == 7 * 252
    assert BARS_PER_YEAR["30m"] == 13 * 252
    with pytest.raises(ValueError, match="timeframe"):
        report(backtest(bars_synthetic(5), np.zeros(5)), bars_synthetic(5), timeframe="2d")


def test_portfolio_equity_is_the_sum_of_each_instrument_on_half_the_capital() -> None:
    a = bars_synthetic(300, seed=1)
    b = bars_synthetic(200, seed=2, start="2020-04-01 03:45")
    strategy = STRATEGIES["sma_crossover"]
    signals = {
        "AAA": strategy.signals(a, fast=5, slow=20),
        "BBB": strategy.signals(b, fast=5, slow=20),
    }
    config = BacktestConfig(initial_capital=1_000_000)
    calls: list[float] = []
    out = portfolio_backtest(
        {"AAA": a, "BBB": b}, signals, config, timeframe="1d", progress=calls.append
    )
    json.dumps(out, allow_nan=False)

    half = BacktestConfig(initial_capital=500_000)
    ra, rb = backtest(a, signals["AAA"], half), backtest(b, signals["BBB"], half)
    expected = []
    for t in sorted(set(a.index) | set(b.index)):
        value = 0.0
        for r in (ra, rb):
            seen = r.equity[r.equity.index <= t]
            value += seen.iloc[-1] if len(seen) else 500_000
        expected.append([int(t.timestamp()), value])
    assert [t for t, _ in out["equity"]] == [t for t, _ in expected]
    assert [v for _, v in out["equity"]] == pytest.approx([v for _, v in expected], abs=0.01)
    assert out["summary"]["final_equity"] == pytest.approx(
        ra.equity.iloc[-1] + rb.equity.iloc[-1], abs=0.01
    )
    assert [i["symbol"] for i in out["instruments"]] == ["AAA", "BBB"]
    assert out["instruments"][1]["trades"] == len(rb.trades)
    assert len(out["trades"]) == len(ra.trades) + len(rb.trades)
    assert {t["symbol"] for t in out["trades"]} == {"AAA", "BBB"}
    assert calls == [0.5, 1.0]
