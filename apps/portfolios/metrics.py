"""Returns and risk metrics of a portfolio from its daily series (pure, no ORM).

Inputs are pandas Series indexed by `datetime.date`, one row per trading day (the daily
snapshots): `values` (market value of the holdings at the close), `flows` (money that entered
the holdings that day: buys with their charges and fee transactions positive, sells net of
charges and dividends negative) and the benchmark's closes. Computation is in floats; the API
converts the results to `Decimal` strings.

Conventions (the reference tests use the same ones):

* Flows happen at the end of the day. The return of day t is
  r_t = (V_t − F_t − V_{t−1}) / V_{t−1}, defined only when V_{t−1} > 0: the day of the first
  buy (or a re-entry after selling everything) starts the chain instead of being a return.
  The time-weighted return (TWR) chains the days: Π(1 + r_t) − 1.
* XIRR is money-weighted, seen from the investor: money put into the holdings is negative,
  money taken out (sells, dividends) and the value at the end date are positive. It is
  annualised (pyxirr's ACT/365F), and None when it cannot be solved or is not meaningful.
* Periods end at the last observation. "1D" starts at the previous observation; "1W", "1M",
  "3M", "6M", "1Y", "3Y", "5Y" at the same calendar date that many weeks, months or years
  earlier; "YTD" at 31 December of the previous year (calendar year, not the Indian financial
  year); "ALL" is since inception. A period's start value is the observation on or before its
  start date, treated as an initial investment by XIRR; a portfolio younger than the period
  has no figure for it.
* Risk metrics use the daily returns above, 252 trading days a year and the daily risk-free
  rate (1 + rf)^(1/252) − 1. Standard deviations, covariances and variances are sample
  estimates (ddof=1). They need at least MIN_OBSERVATIONS daily returns (benchmark metrics
  that many days on which both returns exist), else None — never NaN.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyxirr
from django.utils.translation import gettext_lazy as _

TRADING_DAYS = 252
MIN_OBSERVATIONS = 20
# An annualised XIRR beyond this (a few days' move compounded over a year) carries no
# information and would print as a hundred-digit number.
XIRR_LIMIT = 1e6
# A daily standard deviation below this (0.0001 % a day) is the rounding of stored values
# (paise on lakhs), not risk: ratios dividing by it are undefined (None), not 10^8.
TINY = 1e-6

PERIODS = ("1D", "1W", "1M", "3M", "YTD", "1Y", "ALL")
RANGES = ("1M", "3M", "6M", "YTD", "1Y", "3Y", "5Y", "ALL")
_MONTHS = {"1M": 1, "3M": 3, "6M": 6, "1Y": 12, "3Y": 36, "5Y": 60}

DEFINITIONS = {
    "twr": _(
        "Time-weighted return: how ₹1 kept in the holdings grew, chained day by day, so the "
        "timing and size of your buys and sells do not affect it."
    ),
    "xirr": _(
        "Money-weighted return (XIRR): the yearly rate at which your actual buys, sells and "
        "dividends grow into today's value; when and how much you invested counts."
    ),
    "volatility": _(
        "Annualised volatility: how much daily returns swing (standard deviation × √252); "
        "higher means a bumpier ride."
    ),
    "sharpe": _(
        "Sharpe ratio: yearly return above the risk-free rate per unit of volatility; higher "
        "is better, above 1 is good."
    ),
    "sortino": _(
        "Sortino ratio: like Sharpe, but only days that fall short of the risk-free rate count "
        "as risk."
    ),
    "beta": _(
        "Beta: how strongly the portfolio moves with the benchmark; 1 moves in step, above 1 "
        "amplifies its moves, below 1 dampens them."
    ),
    "alpha": _(
        "Alpha (Jensen's): yearly return above what the portfolio's beta and the benchmark "
        "would predict."
    ),
    "max_drawdown": _(
        # xgettext:no-python-format
        "Maximum drawdown: the largest fall of the time-weighted value from a peak to a later "
        "low (−0.25 is a 25% fall), with its peak, low and recovery dates."
    ),
    "correlation": _(
        "Correlation: how closely daily returns follow the benchmark's, from −1 (opposite) to "
        "1 (in lockstep)."
    ),
    "risk_free_rate": _(
        "Risk-free rate: the yearly return of a safe investment (the RBI 91-day Treasury bill "
        "yield) used by Sharpe, Sortino and alpha."
    ),
}


@dataclass(frozen=True, slots=True)
class PeriodReturn:
    period: str
    start: date | None
    end: date | None
    twr: float | None
    xirr: float | None


@dataclass(frozen=True, slots=True)
class Drawdown:
    depth: float  # ≤ 0; 0 when the index never fell below a previous peak
    peak: date | None
    trough: date | None
    recovery: date | None  # first day back at the peak level; None if not yet


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    beta: float | None
    alpha: float | None
    correlation: float | None
    max_drawdown: float | None
    max_drawdown_peak: date | None
    max_drawdown_trough: date | None
    max_drawdown_recovery: date | None
    risk_free_rate: float
    observations: int


# --- building blocks ---------------------------------------------------------------------


def _floats(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype(float)


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def daily_returns(values: pd.Series, flows: pd.Series) -> pd.Series:
    """r_t = (V_t − F_t − V_{t−1}) / V_{t−1} for each day whose previous value is positive."""
    v = _floats(values)
    f = _floats(flows.reindex(v.index)).fillna(0.0)
    previous = v.shift(1)
    held = previous > 0
    return ((v - f - previous)[held] / previous[held]).rename("return")


def twr(returns: pd.Series) -> float | None:
    """Chained time-weighted return of daily returns; None without any return."""
    if returns.empty:
        return None
    return _finite(np.prod(1.0 + returns.to_numpy()) - 1.0)


def xirr(dates: Iterable[date], amounts: Iterable[float]) -> float | None:
    """Annualised money-weighted return of dated cash flows (pyxirr), None if unsolvable."""
    dates, amounts = list(dates), [float(a) for a in amounts]
    if len(set(dates)) < 2:
        return None
    try:
        rate = pyxirr.xirr(dates, amounts)
    except (pyxirr.InvalidPaymentsError, ValueError, OverflowError, ArithmeticError):
        return None
    if rate is None:
        return None
    result = _finite(rate)
    if result is None or abs(result) > XIRR_LIMIT:
        return None
    return result


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's end (31 Mar − 1M =
    28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def period_start(period: str, end: date) -> date | None:
    """Calendar start of a period ending on `end`; None for "ALL" (and "1D", which starts at
    the previous observation rather than a calendar date)."""
    if period in ("ALL", "1D"):
        return None
    if period == "1W":
        return end - timedelta(days=7)
    if period == "YTD":
        return date(end.year - 1, 12, 31)
    if period in _MONTHS:
        return add_months(end, -_MONTHS[period])
    raise ValueError(f"unknown period {period!r}")


def start_observation(index: pd.Index, period: str) -> date | None:
    """The observation a period starts from: the last on or before its start date."""
    if len(index) == 0:
        return None
    end = index[-1]
    if period == "ALL":
        return index[0]  # type: ignore[no-any-return]
    if period == "1D":
        return index[-2] if len(index) > 1 else None
    start = period_start(period, end)
    position = index.searchsorted(start, side="right") - 1
    return index[position] if position >= 0 else None


# --- returns ---------------------------------------------------------------------------


def _period_xirr(values: pd.Series, flows: pd.Series, start: date | None) -> float | None:
    end = values.index[-1]
    if start is None:  # since inception: every flow, from the first day
        window = flows
        cash = {}
    else:
        window = flows[flows.index > start]
        cash = {start: -float(values[start])}
    for day, flow in window.items():
        if flow:
            cash[day] = cash.get(day, 0.0) - float(flow)
    cash[end] = cash.get(end, 0.0) + float(values[end])
    return xirr(cash.keys(), cash.values())


def period_returns(
    values: pd.Series, flows: pd.Series, *, periods: Iterable[str] = PERIODS
) -> dict[str, PeriodReturn]:
    """TWR and XIRR of each period ending at the last observation (see the module notes)."""
    v = _floats(values).sort_index()
    f = _floats(flows.reindex(v.index)).fillna(0.0)
    returns = daily_returns(v, f)
    out: dict[str, PeriodReturn] = {}
    end = v.index[-1] if len(v) else None
    for period in periods:
        start = start_observation(v.index, period)
        if start is None:
            out[period] = PeriodReturn(period, None, end, None, None)
            continue
        if period == "ALL":
            chained = twr(returns)
            money = _period_xirr(v, f, None)
        else:
            chained = twr(returns[returns.index > start])
            money = _period_xirr(v, f, start)
        out[period] = PeriodReturn(period, start, end, chained, money)
    return out


# --- risk ------------------------------------------------------------------------------


def daily_risk_free(annual: float) -> float:
    return float((1.0 + annual) ** (1.0 / TRADING_DAYS) - 1.0)


def max_drawdown(returns: pd.Series, *, start: date | None = None) -> Drawdown | None:
    """Deepest fall of the TWR index Π(1 + r) from a running peak.

    The index is 1 at `start` (the observation before the first return, when given) and
    the peak is the first day the running maximum was reached; the recovery is the first day
    after the trough at or above the peak level.
    """
    if returns.empty:
        return None
    levels = np.cumprod(1.0 + returns.to_numpy())
    dates = list(returns.index)
    if start is not None:
        levels = np.concatenate(([1.0], levels))
        dates = [start, *dates]
    running = np.maximum.accumulate(levels)
    depths = levels / running - 1.0
    trough_at = int(np.argmin(depths))
    depth = float(depths[trough_at])
    if depth >= 0:
        return Drawdown(0.0, None, None, None)
    peak_at = int(np.argmax(levels[: trough_at + 1]))
    after = np.nonzero(levels[trough_at + 1 :] >= levels[peak_at])[0]
    recovery = dates[trough_at + 1 + int(after[0])] if after.size else None
    return Drawdown(depth, dates[peak_at], dates[trough_at], recovery)


def risk_metrics(
    values: pd.Series,
    flows: pd.Series,
    benchmark: pd.Series | None,
    *,
    risk_free_rate: float,
) -> RiskMetrics:
    """Volatility, Sharpe, Sortino, beta, alpha, correlation and max drawdown since inception."""
    v = _floats(values).sort_index()
    returns = daily_returns(v, flows)
    n = len(returns)
    rf_d = daily_risk_free(risk_free_rate)
    r = returns.to_numpy()
    volatility = sharpe = sortino = beta = alpha = correlation = None
    if n >= MIN_OBSERVATIONS:
        std = float(np.std(r, ddof=1))
        excess = r - rf_d
        volatility = std * math.sqrt(TRADING_DAYS) if std > TINY else 0.0
        if std > TINY:
            sharpe = float(np.mean(excess)) / std * math.sqrt(TRADING_DAYS)
        downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
        if downside > TINY:
            sortino = float(np.mean(excess)) / downside * math.sqrt(TRADING_DAYS)
    if benchmark is not None:
        b = _floats(benchmark.reindex(v.index))
        previous = b.shift(1)
        bench_returns = (b / previous - 1.0)[previous > 0].dropna()
        both = pd.concat([returns, bench_returns.rename("benchmark")], axis=1, join="inner")
        both = both.dropna()
        if len(both) >= MIN_OBSERVATIONS:
            rp = both["return"].to_numpy()
            rb = both["benchmark"].to_numpy()
            var_b = float(np.var(rb, ddof=1))
            if var_b > TINY**2:
                beta = float(np.cov(rp, rb, ddof=1)[0, 1]) / var_b
                alpha = (
                    float(np.mean(rp)) - rf_d - beta * (float(np.mean(rb)) - rf_d)
                ) * TRADING_DAYS
                if np.std(rp, ddof=1) > TINY:
                    correlation = float(np.corrcoef(rp, rb)[0, 1])
    drawdown = None
    if n:
        first = v.index.get_loc(returns.index[0])
        drawdown = max_drawdown(returns, start=v.index[first - 1])  # type: ignore[operator]
    return RiskMetrics(
        volatility=_none_or_finite(volatility),
        sharpe=_none_or_finite(sharpe),
        sortino=_none_or_finite(sortino),
        beta=_none_or_finite(beta),
        alpha=_none_or_finite(alpha),
        correlation=_none_or_finite(correlation),
        max_drawdown=drawdown.depth if drawdown else None,
        max_drawdown_peak=drawdown.peak if drawdown else None,
        max_drawdown_trough=drawdown.trough if drawdown else None,
        max_drawdown_recovery=drawdown.recovery if drawdown else None,
        risk_free_rate=risk_free_rate,
        observations=n,
    )


def _none_or_finite(value: float | None) -> float | None:
    return None if value is None else _finite(value)
