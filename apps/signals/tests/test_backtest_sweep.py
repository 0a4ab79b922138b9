"""Parameter sweeps and walk-forward validation, checked against per-combination backtests."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from apps.signals.backtest import BacktestConfig, backtest, sweep
from apps.signals.strategies import STRATEGIES
from apps.signals.tests.conftest import bars_synthetic

CONFIG = BacktestConfig(stop_atr=None, target_r=None)
GRID = {"fast": [5, 10, 30], "slow": [20, 30]}  # (30, 20) and (30, 30) are invalid


def _sharpe(equity: list[float], initial: float) -> float | None:
    rf_bar = 1.055 ** (1 / 252) - 1
    prev, xs = initial, []
    for v in equity:
        xs.append(v / prev - 1 - rf_bar)
        prev = v
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    return mean / std * math.sqrt(252) if std > 1e-15 else None


@pytest.fixture(scope="module")
def swept() -> tuple[pd.DataFrame, dict, list[float]]:
    bars = bars_synthetic(900, seed=21)
    calls: list[float] = []
    out = sweep(
        bars,
        STRATEGIES["sma_crossover"],
        GRID,
        CONFIG,
        timeframe="1d",
        windows=3,
        in_sample=0.7,
        progress=calls.append,
    )
    return bars, out, calls


def test_invalid_combinations_are_skipped_and_counted(swept: tuple) -> None:
    _bars, out, _calls = swept
    assert (out["combinations"], out["skipped"]) == (4, 2)
    assert sorted((r["params"]["fast"], r["params"]["slow"]) for r in out["results"]) == [
        (5, 20),
        (5, 30),
        (10, 20),
        (10, 30),
    ]
    json.dumps(out, allow_nan=False)


def test_full_period_table_matches_a_backtest_per_combination(swept: tuple) -> None:
    bars, out, _calls = swept
    for row in out["results"]:
        signals = STRATEGIES["sma_crossover"].signals(bars, **row["params"])
        result = backtest(bars, signals, CONFIG)
        assert row["net_return"] == pytest.approx(result.equity.iloc[-1] / 1e6 - 1, abs=1e-6)
        assert row["trades"] == len(result.trades)
        assert row["sharpe"] == pytest.approx(_sharpe(result.equity.tolist(), 1e6), abs=1e-5)
    sharpes = [r["sharpe"] for r in out["results"]]
    assert sharpes == sorted(sharpes, reverse=True)
    assert out["best"] == out["results"][0]["params"]


def test_walk_forward_windows_follow_each_other_without_overlap(swept: tuple) -> None:
    bars, out, _calls = swept
    windows = out["walk_forward"]["windows"]
    assert len(windows) == 3
    pos = bars.index.get_loc
    end_of_previous = -1
    for w in windows:
        a, s_end = pos(pd.Timestamp(w["in_sample_start"])), pos(pd.Timestamp(w["in_sample_end"]))
        s, b_end = pos(pd.Timestamp(w["out_sample_start"])), pos(pd.Timestamp(w["out_sample_end"]))
        assert a == end_of_previous + 1
        assert a < s_end < s <= b_end
        assert s == s_end + 1  # out-of-sample starts on the bar after in-sample ends
        assert (s - a) == round(0.7 * (b_end + 1 - a))
        end_of_previous = b_end
    assert end_of_previous == len(bars) - 1


def test_walk_forward_picks_the_in_sample_argmax_and_chains_out_of_sample(swept: tuple) -> None:
    bars, out, _calls = swept
    strategy = STRATEGIES["sma_crossover"]
    combos = [r["params"] for r in out["results"]]
    capital = 1e6
    stitched: list[float] = []
    trades: list[tuple[str, float]] = []
    for w in out["walk_forward"]["windows"]:
        a = bars.index.get_loc(pd.Timestamp(w["in_sample_start"]))
        s = bars.index.get_loc(pd.Timestamp(w["out_sample_start"]))
        b = bars.index.get_loc(pd.Timestamp(w["out_sample_end"])) + 1
        scores: list[float] = []
        for params in combos:
            result = backtest(bars, strategy.signals(bars, **params), CONFIG, first=a, last=s)
            score = _sharpe(result.equity.tolist(), 1e6)
            assert score is not None  # the synthetic walk always moves
            scores.append(score)
        best = combos[max(range(len(combos)), key=lambda k: scores[k])]
        assert w["params"] == best
        assert w["in_sample"] == pytest.approx(max(scores), abs=1e-5)

        config = BacktestConfig(stop_atr=None, target_r=None, initial_capital=capital)
        oos = backtest(bars, strategy.signals(bars, **best), config, first=s, last=b)
        assert w["out_of_sample_return"] == pytest.approx(
            oos.equity.iloc[-1] / capital - 1, abs=1e-6
        )
        stitched += oos.equity.tolist()
        trades += [(t.entry_time.isoformat(), round(t.pnl, 2)) for t in oos.trades.itertuples()]
        capital = oos.equity.iloc[-1]
    walk = out["walk_forward"]
    assert [(t["entry_time"], t["pnl"]) for t in walk["trades"]] == trades
    assert [v for _, v in walk["equity"]] == pytest.approx(stitched, abs=0.01)
    assert walk["summary"]["net_return"] == pytest.approx(capital / 1e6 - 1, abs=1e-6)
    ins = [w["in_sample"] for w in walk["windows"]]
    outs = [w["out_of_sample"] for w in walk["windows"]]
    if sum(ins) > 0:
        assert walk["efficiency"] == pytest.approx(sum(outs) / sum(ins), abs=1e-5)
    else:
        assert walk["efficiency"] is None


def test_progress_rises_to_one_in_at_most_about_a_hundred_calls(swept: tuple) -> None:
    _bars, _out, calls = swept
    assert calls[-1] == 1.0
    assert calls == sorted(calls)
    assert 3 <= len(calls) <= 102


def test_grids_over_500_combinations_are_refused() -> None:
    grid = {"fast": list(range(1, 24)), "slow": list(range(30, 52))}  # 23 x 22 = 506
    with pytest.raises(ValueError, match="500"):
        sweep(bars_synthetic(100), STRATEGIES["sma_crossover"], grid, CONFIG, timeframe="1d")


@pytest.mark.parametrize(
    ("grid", "kwargs", "message"),
    [
        ({"fast": [30], "slow": [20]}, {}, "no valid combination"),
        ({"period": [5]}, {}, "period"),
        ({"fast": []}, {}, "non-empty"),
        (GRID, {"metric": "luck"}, "metric"),
        (GRID, {"windows": 60}, "windows"),
    ],
)
def test_bad_sweep_requests_are_refused_with_the_field_named(
    grid: dict, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sweep(
            bars_synthetic(200), STRATEGIES["sma_crossover"], grid, CONFIG, timeframe="1d", **kwargs
        )
