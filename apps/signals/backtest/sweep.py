"""Parameter sweeps with walk-forward validation.

Every combination's signals are computed once on the full series (strategies are causal, so a
window's signals equal those computed on the window's bars and earlier); each run then trades
only inside its window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from apps.signals.strategies import Strategy

from .config import BacktestConfig
from .engine import IntArray, Prepared, Result, bars_prepare, run, signal_events
from .report import curves, summary_compute, trade_rows

MAX_COMBINATIONS = 500
METRICS: tuple[str, ...] = (
    "sharpe",
    "sortino",
    "calmar",
    "net_return",
    "cagr",
    "profit_factor",
    "win_rate",
    "expectancy",
)
TABLE_KEYS: tuple[str, ...] = ("net_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate")


class _Progress:
    """Calls ``progress`` at most once per whole percent (~100 calls), and with 1.0 at the end."""

    def __init__(self, progress: Callable[[float], None] | None, total: int) -> None:
        self.progress, self.total, self.done, self.reported = progress, max(total, 1), 0, -1

    def step(self) -> None:
        self.done += 1
        percent = self.done * 100 // self.total
        if self.progress is not None and percent > self.reported:
            self.reported = percent
            self.progress(min(self.done / self.total, 1.0))


def _summary(
    p: Prepared,
    result: Result,
    *,
    timeframe: str,
    risk_free_rate: float,
    years: float | None = None,
) -> dict[str, Any]:
    first, last = result.first, result.last
    return summary_compute(
        equity=result.equity.to_numpy(dtype=np.float64),
        times=pd.DatetimeIndex(result.equity.index),
        trades=result.trades,
        initial_capital=result.config.initial_capital,
        exposure=result.exposure,
        buy_and_hold_return=float(p.close[last - 1] / p.open[first] - 1),
        timeframe=timeframe,
        risk_free_rate=risk_free_rate,
        years=years,
    )


def _rank(value: float | None, trades: int, order: int) -> tuple[bool, float, int, int]:
    """Best first under ``max``: a defined metric, then the higher, then fewer trades (a
    result resting on fewer trades is no less likely to be luck, but costs less to run and
    its rank ties are rare: it is the simple, stable rule), then the earlier combination."""
    return (value is not None, value if value is not None else -math.inf, -trades, -order)


def _combinations(
    strategy: Strategy, grid: Mapping[str, Sequence[float]]
) -> tuple[list[dict[str, float]], int]:
    if not grid:
        raise ValueError("grid: give at least one parameter with values")
    known = {param.name for param in strategy.params}
    for name, values in grid.items():
        if name not in known:
            raise ValueError(f"{name}: unknown parameter for strategy {strategy.key!r}")
        if isinstance(values, str | bytes) or len(values) == 0:
            raise ValueError(f"{name}: give a non-empty list of values")
    size = math.prod(len(values) for values in grid.values())
    if size > MAX_COMBINATIONS:
        raise ValueError(f"grid: {size} combinations, at most {MAX_COMBINATIONS} allowed")
    names = list(grid)
    valid: list[dict[str, float]] = []
    skipped = 0
    for values in itertools.product(*(grid[name] for name in names)):
        try:
            valid.append(strategy.validate(**dict(zip(names, values, strict=True))))
        except ValueError:
            skipped += 1
    if not valid:
        raise ValueError("grid: no valid combination of parameters")
    return valid, skipped


def grid_run(
    bars: pd.DataFrame,
    strategy: Strategy,
    grid: Mapping[str, Sequence[float]],
    config: BacktestConfig,
    *,
    timeframe: str,
    metric: str = "sharpe",
    risk_free_rate: float = 0.055,
) -> list[dict[str, Any]]:
    """Only the full-period table of :func:`sweep`: one row per valid combination, best first."""
    if metric not in METRICS:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)}")
    combos, _skipped = _combinations(strategy, grid)
    tick = _Progress(None, 2 * len(combos))
    p = bars_prepare(bars)
    return _grid(p, bars, strategy, combos, config, metric, timeframe, risk_free_rate, tick)[1]


def _grid(
    p: Prepared,
    bars: pd.DataFrame,
    strategy: Strategy,
    combos: list[dict[str, float]],
    config: BacktestConfig,
    metric: str,
    timeframe: str,
    risk_free_rate: float,
    tick: _Progress,
) -> tuple[list[tuple[IntArray, IntArray]], list[dict[str, Any]]]:
    n = len(p)
    events: list[tuple[IntArray, IntArray]] = []
    for params in combos:
        events.append(signal_events(strategy.signals(bars, **params), n))
        tick.step()
    rows: list[dict[str, Any]] = []
    for k, (params, (ev_bars, ev_signs)) in enumerate(zip(combos, events, strict=True)):
        result = run(p, ev_bars, ev_signs, config)
        summary = _summary(p, result, timeframe=timeframe, risk_free_rate=risk_free_rate)
        row = {"params": params, **{key: summary[key] for key in (*TABLE_KEYS, metric)}}
        rows.append({**row, "_rank": _rank(summary[metric], summary["trades"], k)})
        tick.step()
    rows.sort(key=lambda r: r["_rank"], reverse=True)
    for row in rows:
        del row["_rank"]
    return events, rows


def sweep(
    bars: pd.DataFrame,
    strategy: Strategy,
    grid: Mapping[str, Sequence[float]],
    config: BacktestConfig,
    *,
    timeframe: str,
    windows: int = 4,
    in_sample: float = 0.7,
    metric: str = "sharpe",
    progress: Callable[[float], None] | None = None,
    risk_free_rate: float = 0.055,
) -> dict[str, Any]:
    """Every valid combination of ``grid`` over the full period (``results``, best first by
    ``metric``), and a walk-forward validation (``walk_forward``): ``windows`` consecutive
    folds, each split into an in-sample part (the first ``in_sample`` fraction), where the
    best combination is picked, and the out-of-sample rest, where it is then traded. The
    out-of-sample runs are chained (each starts with the equity the previous one ended with)
    into one stitched curve with its own summary."""
    if metric not in METRICS:
        raise ValueError(f"metric: must be one of {', '.join(METRICS)}")
    if not 1 <= windows <= 20:
        raise ValueError("windows: must be between 1 and 20")
    if not 0.1 <= in_sample <= 0.9:
        raise ValueError("in_sample: must be between 0.1 and 0.9")
    combos, skipped = _combinations(strategy, grid)
    p = bars_prepare(bars)
    n = len(p)
    bounds = np.linspace(0, n, windows + 1).round().astype(int)
    folds = [
        (int(a), int(a + round(in_sample * (b - a))), int(b))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    if any(s - a < 2 or b - s < 2 for a, s, b in folds):
        raise ValueError("bars: too few bars for this many walk-forward windows")

    tick = _Progress(progress, len(combos) * (2 + windows) + windows)
    events, rows = _grid(p, bars, strategy, combos, config, metric, timeframe, risk_free_rate, tick)
    walk = _walk_forward(p, events, combos, folds, config, metric, timeframe, risk_free_rate, tick)
    if progress is not None and tick.reported < 100:
        progress(1.0)
    return {
        "metric": metric,
        "combinations": len(combos),
        "skipped": skipped,
        "results": rows,
        "best": rows[0]["params"],
        "walk_forward": walk,
    }


def _walk_forward(
    p: Prepared,
    events: list[tuple[IntArray, IntArray]],
    combos: list[dict[str, float]],
    folds: list[tuple[int, int, int]],
    config: BacktestConfig,
    metric: str,
    timeframe: str,
    risk_free_rate: float,
    tick: _Progress,
) -> dict[str, Any]:
    times = p.index
    capital = config.initial_capital
    reports: list[dict[str, Any]] = []
    pieces: list[Result] = []
    for a, s, b in folds:
        best: tuple[tuple[bool, float, int, int], int, float | None] = (
            (False, -math.inf, 0, 0),
            0,
            None,
        )
        for k, (ev_bars, ev_signs) in enumerate(events):
            result = run(p, ev_bars, ev_signs, config, first=a, last=s)
            value = _summary(p, result, timeframe=timeframe, risk_free_rate=risk_free_rate)[metric]
            rank = _rank(value, len(result.trades), k)
            if k == 0 or rank > best[0]:
                best = (rank, k, value)
            tick.step()
        _rank_key, k, in_value = best
        oos = run(p, *events[k], replace(config, initial_capital=capital), first=s, last=b)
        oos_summary = _summary(p, oos, timeframe=timeframe, risk_free_rate=risk_free_rate)
        tick.step()
        reports.append(
            {
                "in_sample_start": times[a].isoformat(),
                "in_sample_end": times[s - 1].isoformat(),
                "out_sample_start": times[s].isoformat(),
                "out_sample_end": times[b - 1].isoformat(),
                "params": combos[k],
                "in_sample": in_value,
                "out_of_sample": oos_summary[metric],
                "out_of_sample_return": oos_summary["net_return"],
                "trades": oos_summary["trades"],
            }
        )
        pieces.append(oos)
        capital = float(oos.equity.iloc[-1])
        if capital <= 0:  # ruined: nothing left to trade in later windows
            break

    equity = np.concatenate([r.equity.to_numpy(dtype=np.float64) for r in pieces])
    stitched_times = pd.DatetimeIndex(np.concatenate([r.equity.index.to_numpy() for r in pieces]))
    trades = pd.concat([r.trades for r in pieces], ignore_index=True)
    bars_in = np.array([len(r.equity) for r in pieces], dtype=np.float64)
    hold = math.prod(float(p.close[r.last - 1] / p.open[r.first]) for r in pieces) - 1
    years = sum((times[r.last - 1] - times[r.first]).total_seconds() for r in pieces) / (
        365.25 * 86_400
    )
    summary = summary_compute(
        equity=equity,
        times=stitched_times,
        trades=trades,
        initial_capital=config.initial_capital,
        exposure=float(np.average([r.exposure for r in pieces], weights=bars_in)),
        buy_and_hold_return=hold,
        timeframe=timeframe,
        risk_free_rate=risk_free_rate,
        years=years,
    )
    ins = [w["in_sample"] for w in reports]
    outs = [w["out_of_sample"] for w in reports]
    efficiency = None
    if None not in ins and None not in outs and ins and float(np.mean(ins)) > 0:
        efficiency = round(float(np.mean(outs)) / float(np.mean(ins)), 6)
    return {
        "windows": reports,
        "summary": summary,
        **curves(equity, stitched_times, config.initial_capital),
        "trades": trade_rows(trades),
        "efficiency": efficiency,
    }
