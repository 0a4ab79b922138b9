"""The backtest report: summary metrics, equity and drawdown curves, the trade list.

Everything is JSON-ready: plain floats and ints, ISO strings, None where a figure is undefined
(never NaN or infinity). Ratios are fractions (0.12 = 12 %). Definitions: docs/backtesting.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .engine import Result

FloatArray = npt.NDArray[np.float64]

# Bars in a year per timeframe: 252 NSE sessions; a session runs 09:15-15:30 IST (375 minutes)
# and intraday buckets start at 09:15 (apps.market.candle_store.bucket_starts), so the last
# 30m and 1h buckets of the day are short ones: 13 and 7 buckets a session.
BARS_PER_YEAR: dict[str, int] = {
    "1m": 375 * 252,
    "3m": 125 * 252,
    "5m": 75 * 252,
    "15m": 25 * 252,
    "30m": 13 * 252,
    "1h": 7 * 252,
    "1d": 252,
    "1w": 52,
}
MAX_POINTS = 2000
_DAY_NS = 86_400 * 10**9


def bars_per_year(timeframe: str) -> int:
    try:
        return BARS_PER_YEAR[timeframe]
    except KeyError:
        raise ValueError(f"timeframe: unknown timeframe {timeframe!r}") from None


def _nanoseconds(times: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """Epoch nanoseconds whatever the index's unit (pandas 3 defaults to microseconds)."""
    return np.asarray(times.as_unit("ns").asi8, dtype=np.int64)


def _num(value: Any, digits: int = 6) -> float | None:
    """A finite float rounded to ``digits``, or None."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _drawdown(equity: FloatArray, initial: float) -> FloatArray:
    """Fraction below the running peak at each close (the initial capital is the first peak)."""
    peak = np.maximum.accumulate(equity)
    np.maximum(peak, initial, out=peak)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.divide(equity, peak, out=peak)
    np.subtract(1.0, dd, out=dd)  # the peak is never below the (positive) initial capital
    return dd


def _longest_underwater(dd: FloatArray, times: pd.DatetimeIndex) -> tuple[int, float]:
    """(bars, days) of the longest run of closes below the previous peak. Days run from the
    peak's close (the window start if the run starts at once) to the close that recovers it,
    or to the last close if equity has not recovered."""
    under = dd > 1e-12
    if not under.any():
        return 0, 0.0
    edges = np.diff(np.concatenate([[0], under.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # ends exclusive
    k = int(np.argmax(ends - starts))
    a, b = int(starts[k]), int(ends[k])
    t = _nanoseconds(times)
    days = (t[min(b, len(t) - 1)] - t[max(a - 1, 0)]) / _DAY_NS
    return b - a, float(days)


def summary_compute(
    *,
    equity: FloatArray,
    times: pd.DatetimeIndex,
    trades: pd.DataFrame,
    initial_capital: float,
    exposure: float,
    buy_and_hold_return: float,
    timeframe: str,
    risk_free_rate: float = 0.055,
    years: float | None = None,
) -> dict[str, Any]:
    """Summary metrics of an equity curve (marked at each close of ``times``) and its trades.
    ``years`` overrides the calendar span of ``times`` for CAGR (a stitched walk-forward curve
    leaves out the in-sample stretches between its pieces)."""
    per_year = bars_per_year(timeframe)
    final = float(equity[-1]) if len(equity) else initial_capital
    net_return = final / initial_capital - 1
    if years is None:
        years = (times[-1] - times[0]).total_seconds() / (365.25 * 86_400) if len(times) else 0.0
    if years <= 0:
        cagr = math.nan
    elif final <= 0:
        cagr = -1.0
    else:
        cagr = (final / initial_capital) ** (1 / years) - 1

    returns = np.empty(len(equity))
    if len(equity):
        with np.errstate(divide="ignore", invalid="ignore"):
            returns[0] = equity[0] / initial_capital
            np.divide(equity[1:], equity[:-1], out=returns[1:])
        returns -= 1
        if not np.isfinite(returns).all():  # only after equity reached zero
            returns = returns[np.isfinite(returns)]
    rf_bar = (1 + risk_free_rate) ** (1 / per_year) - 1
    if len(returns) > 1:
        # The std of excess returns is the std of returns (rf is a constant per bar).
        std = float(np.std(returns, ddof=1))
        mean_ex = float(returns.mean()) - rf_bar
        excess = returns - rf_bar
        below = excess[excess < 0]
        downside = math.sqrt(float(np.dot(below, below)) / len(excess))
        volatility = std * math.sqrt(per_year)
        sharpe = mean_ex / std * math.sqrt(per_year) if std > 1e-15 else math.nan
        sortino = mean_ex / downside * math.sqrt(per_year) if downside > 1e-15 else math.nan
    else:
        volatility = sharpe = sortino = math.nan

    dd = _drawdown(equity, initial_capital)
    max_dd = float(dd.max()) if len(dd) else 0.0
    dd_bars, dd_days = _longest_underwater(dd, times)
    calmar = cagr / max_dd if max_dd > 0 else math.nan

    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    r = trades["r_multiple"].to_numpy(dtype=np.float64)
    r = r[np.isfinite(r)]
    held = trades["bars_held"].to_numpy(dtype=np.float64)
    days = (
        _nanoseconds(pd.DatetimeIndex(trades["exit_time"]))
        - _nanoseconds(pd.DatetimeIndex(trades["entry_time"]))
    ) / _DAY_NS
    n = len(pnl)
    return {
        "start": times[0].isoformat() if len(times) else None,
        "end": times[-1].isoformat() if len(times) else None,
        "bars": len(equity),
        "initial_capital": _num(initial_capital, 2),
        "final_equity": _num(final, 2),
        "net_profit": _num(final - initial_capital, 2),
        "net_return": _num(net_return),
        "cagr": _num(cagr),
        "buy_and_hold_return": _num(buy_and_hold_return),
        "exposure": _num(exposure),
        "trades": n,
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": _num(len(wins) / n) if n else None,
        "avg_win": _num(wins.mean(), 2) if len(wins) else None,
        "avg_loss": _num(losses.mean(), 2) if len(losses) else None,
        "best_trade": _num(pnl.max(), 2) if n else None,
        "worst_trade": _num(pnl.min(), 2) if n else None,
        "profit_factor": _num(_ratio(wins.sum(), -losses.sum())) if n else None,
        "expectancy": _num(pnl.mean(), 2) if n else None,
        "avg_r": _num(r.mean()) if len(r) else None,
        "avg_duration_bars": _num(held.mean(), 2) if n else None,
        "max_duration_bars": int(held.max()) if n else None,
        "avg_duration_days": _num(days.mean(), 2) if n else None,
        "max_duration_days": _num(days.max(), 2) if n else None,
        "max_drawdown": _num(max_dd),
        "max_drawdown_duration_bars": dd_bars,
        "max_drawdown_duration_days": _num(dd_days, 2),
        "volatility": _num(volatility),
        "sharpe": _num(sharpe),
        "sortino": _num(sortino),
        "calmar": _num(calmar),
        "charges_total": _num(trades["charges"].sum(), 2),
    }


def _sample(n: int, keep: int) -> npt.NDArray[np.int64]:
    """At most :data:`MAX_POINTS` indices of ``n``: evenly spread, with the first, the last and
    ``keep`` (the drawdown trough) always among them."""
    if n <= MAX_POINTS:
        return np.arange(n, dtype=np.int64)
    picks = np.linspace(0, n - 1, MAX_POINTS - 1).round().astype(np.int64)
    return np.unique(np.concatenate([picks, [keep]]))


def curves(equity: FloatArray, times: pd.DatetimeIndex, initial: float) -> dict[str, Any]:
    """The downsampled ``equity`` and ``drawdown`` curves as [[epoch seconds, value], ...]."""
    dd = _drawdown(equity, initial)
    idx = _sample(len(equity), int(dd.argmax()) if len(dd) else 0)
    seconds = (_nanoseconds(times)[idx] // 10**9).tolist()
    eq = np.round(equity[idx], 2).tolist()
    dds = np.round(dd[idx], 6).tolist()
    return {
        "equity": [[s, v] for s, v in zip(seconds, eq, strict=True)],
        "drawdown": [[s, v] for s, v in zip(seconds, dds, strict=True)],
    }


def trade_rows(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """The trade list as JSON-ready dicts (prices to 4 dp, rupees to 2 dp)."""
    rows = []
    for t in trades.itertuples(index=False):
        row = {
            "entry_time": t.entry_time.isoformat(),
            "exit_time": t.exit_time.isoformat(),
            "direction": "long" if t.direction > 0 else "short",
            "entry_price": _num(t.entry_price, 4),
            "exit_price": _num(t.exit_price, 4),
            "quantity": _num(t.quantity, 6),
            "stop": _num(t.stop, 4),
            "target": _num(t.target, 4),
            "charges": _num(t.charges, 2),
            "pnl": _num(t.pnl, 2),
            "return_pct": _num(t.return_pct),
            "r_multiple": _num(t.r_multiple, 4),
            "bars_held": int(t.bars_held),
            "reason": str(t.reason),
        }
        if "symbol" in trades.columns:
            row = {"symbol": str(t.symbol), **row}
        rows.append(row)
    return rows


def buy_and_hold(bars: pd.DataFrame, first: int, last: int) -> float:
    """Buying at the window's first open and selling at its last close, without costs."""
    opened = float(bars["open"].iloc[first])
    return float(bars["close"].iloc[last - 1]) / opened - 1 if opened > 0 else math.nan


def result_summary(
    result: Result, bars: pd.DataFrame, *, timeframe: str, risk_free_rate: float = 0.055
) -> dict[str, Any]:
    """Only the summary of :func:`report` (what a sweep compares)."""
    last = result.last or len(bars)
    return summary_compute(
        equity=result.equity.to_numpy(dtype=np.float64),
        times=pd.DatetimeIndex(result.equity.index),
        trades=result.trades,
        initial_capital=result.config.initial_capital,
        exposure=result.exposure,
        buy_and_hold_return=buy_and_hold(bars, result.first, last),
        timeframe=timeframe,
        risk_free_rate=risk_free_rate,
    )


def report(
    result: Result, bars: pd.DataFrame, *, timeframe: str, risk_free_rate: float = 0.055
) -> dict[str, Any]:
    """The full report of one backtest: ``summary``, ``equity``, ``drawdown``, ``trades``."""
    equity = result.equity.to_numpy(dtype=np.float64)
    times = pd.DatetimeIndex(result.equity.index)
    return {
        "summary": result_summary(result, bars, timeframe=timeframe, risk_free_rate=risk_free_rate),
        **curves(equity, times, result.config.initial_capital),
        "trades": trade_rows(result.trades),
    }
