"""Portfolio backtests: one strategy over many instruments, each with an equal share of the
capital, run independently and summed into one equity curve."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .config import BacktestConfig
from .engine import TRADE_COLUMNS, backtest
from .report import buy_and_hold, curves, result_summary, summary_compute, trade_rows


def portfolio_backtest(
    frames: Mapping[str, pd.DataFrame],
    signals: Mapping[str, pd.Series],
    config: BacktestConfig,
    *,
    timeframe: str,
    progress: Callable[[float], None] | None = None,
    risk_free_rate: float = 0.055,
) -> dict[str, Any]:
    """The report of ``config`` run on every symbol of ``frames`` with ``initial_capital / n``
    each (capital is never moved between instruments), plus ``instruments``: one summary per
    symbol. The combined equity at a time is the sum of each instrument's latest equity
    (forward-filled across the union of bar times; before an instrument's first bar its share
    is cash)."""
    symbols = [s for s in frames if len(frames[s])]
    if not symbols:
        raise ValueError("instruments: no bars for any instrument")
    missing = [s for s in symbols if s not in signals]
    if missing:
        raise ValueError(f"signals: missing for {', '.join(missing)}")
    share = config.initial_capital / len(symbols)
    each = replace(config, initial_capital=share)

    curves_by_symbol: dict[str, pd.Series] = {}
    trades: list[pd.DataFrame] = []
    instruments: list[dict[str, Any]] = []
    exposures: list[float] = []
    holds: list[float] = []
    for k, symbol in enumerate(symbols):
        bars = frames[symbol]
        result = backtest(bars, signals[symbol], each)
        summary = result_summary(result, bars, timeframe=timeframe, risk_free_rate=risk_free_rate)
        instruments.append({"symbol": symbol, **summary})
        curves_by_symbol[symbol] = result.equity
        trades.append(result.trades.assign(symbol=symbol))
        exposures.append(result.exposure)
        holds.append(buy_and_hold(bars, 0, len(bars)))
        if progress is not None:
            progress((k + 1) / len(symbols))

    combined = pd.concat(curves_by_symbol, axis=1, sort=True).ffill().fillna(share)
    equity = combined.sum(axis=1).to_numpy(dtype=np.float64)
    times = pd.DatetimeIndex(combined.index)
    all_trades = pd.concat(trades, ignore_index=True) if trades else pd.DataFrame()
    if all_trades.empty:
        all_trades = pd.DataFrame(columns=[*TRADE_COLUMNS, "symbol"])
    else:
        all_trades = all_trades.sort_values(["entry_time", "symbol"], kind="stable")
    finite_holds = [h for h in holds if math.isfinite(h)]
    summary = summary_compute(
        equity=equity,
        times=times,
        trades=all_trades,
        initial_capital=config.initial_capital,
        # Equal capital per instrument: the capital-weighted exposure is the plain mean.
        exposure=float(np.mean(exposures)),
        buy_and_hold_return=float(np.mean(finite_holds)) if finite_holds else math.nan,
        timeframe=timeframe,
        risk_free_rate=risk_free_rate,
    )
    return {
        "summary": summary,
        **curves(equity, times, config.initial_capital),
        "trades": trade_rows(all_trades),
        "instruments": instruments,
    }
