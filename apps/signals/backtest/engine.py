"""The backtest engine: strategy events -> trades, equity curve and exposure.

A signal on bar ``t`` is known only once ``t`` has closed, so it is acted on at the *open* of
bar ``t + 1``; nothing the engine does can read a price from before that open, which is what
makes lookahead impossible here (strategies themselves are proven causal by
:func:`apps.signals.strategies.lookahead_check`). See docs/backtesting.md for every rule.

Work is vectorised over bars; the only Python loop runs over *trades* (sizing depends on the
equity left by the previous trade). With no stop, target or time exit the trade list follows
from the events alone and is built without any loop over events (the fast path); it gives the
same trades as the general path, which a test checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from apps.market.indicators import atr

from .config import BacktestConfig, Charges
from .fills import Exit, first_exit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SIGNAL, STOP, TARGET, TIME, END = "signal", "stop", "target", "time", "end"
TRADE_COLUMNS: tuple[str, ...] = (
    "entry_time",
    "exit_time",
    "entry_index",
    "exit_index",
    "direction",
    "entry_price",
    "exit_price",
    "quantity",
    "stop",
    "target",
    "charges",
    "pnl",
    "return_pct",
    "r_multiple",
    "bars_held",
    "reason",
)


@dataclass
class Result:
    """One backtest: its trades (columns :data:`TRADE_COLUMNS`), the equity marked to market
    at each close of the window, and the fraction of window bars with a position open."""

    trades: pd.DataFrame
    equity: pd.Series
    exposure: float
    config: BacktestConfig
    first: int = 0
    last: int = 0


@dataclass
class Prepared:
    """Bars as contiguous float arrays, with ATR cached per period (a sweep reuses them)."""

    index: pd.DatetimeIndex
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    _atr: dict[int, FloatArray] = field(default_factory=dict)

    def atr(self, period: int) -> FloatArray:
        if period not in self._atr:
            self._atr[period] = atr(self.high, self.low, self.close, period)
        return self._atr[period]

    def __len__(self) -> int:
        return len(self.close)


def bars_prepare(bars: pd.DataFrame) -> Prepared:
    """The arrays the engine reads; ValueError if a price column is missing."""
    missing = [c for c in ("open", "high", "low", "close") if c not in bars.columns]
    if missing:
        raise ValueError(f"bars: missing columns {', '.join(missing)}")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise ValueError("bars: the index must be a DatetimeIndex of bar starts")

    def col(name: str) -> FloatArray:
        return np.ascontiguousarray(bars[name].to_numpy(dtype=np.float64))

    return Prepared(bars.index, col("open"), col("high"), col("low"), col("close"))


def signal_events(signals: pd.Series | npt.ArrayLike, n: int) -> tuple[IntArray, IntArray]:
    """(bar indices, signs) of the non-zero signals; ValueError if the length is not ``n``."""
    values = np.asarray(signals)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(f"signals: expected {n} values, one per bar (got shape {values.shape})")
    if values.dtype.kind not in "iub":  # floats may carry NaN (no signal)
        values = np.nan_to_num(values.astype(np.float64, copy=False), nan=0.0)
    where = np.flatnonzero(values)
    return where.astype(np.int64), np.sign(values[where]).astype(np.int64)


def backtest(
    bars: pd.DataFrame,
    signals: pd.Series | npt.ArrayLike,
    config: BacktestConfig | None = None,
    *,
    first: int = 0,
    last: int | None = None,
) -> Result:
    """Trade ``signals`` (+1/-1/0 events per bar, from a strategy) on ``bars`` under ``config``,
    acting only on bars ``first .. last - 1`` (a position still open at the window end is closed
    at the last bar's close, reason "end")."""
    prepared = bars_prepare(bars)
    ev_bars, ev_signs = signal_events(signals, len(prepared))
    return run(prepared, ev_bars, ev_signs, config or BacktestConfig(), first=first, last=last)


# --- charges ---------------------------------------------------------------------------


def leg_charges(charges: Charges, turnover: Any, buy: Any) -> Any:
    """Charges of one order leg of ``turnover`` rupees (arrays or scalars): brokerage (capped
    per order when a cap is set), STT, exchange and SEBI fees, GST on brokerage + exchange +
    SEBI, and stamp duty when ``buy``."""
    brokerage = charges.brokerage_rate * turnover
    if charges.brokerage_cap > 0:
        brokerage = np.minimum(brokerage, charges.brokerage_cap)
    exchange = charges.exchange_rate * turnover
    sebi = charges.sebi_rate * turnover
    gst = charges.gst_rate * (brokerage + exchange + sebi)
    stamp = np.where(buy, charges.stamp_rate * turnover, 0.0)
    return brokerage + charges.stt_rate * turnover + exchange + sebi + gst + stamp


def _leg_rate(charges: Charges, buy: bool) -> float:
    """Charges per rupee of turnover when they are proportional (no binding brokerage cap)."""
    fees = charges.brokerage_rate + charges.exchange_rate + charges.sebi_rate
    return fees * (1 + charges.gst_rate) + charges.stt_rate + (charges.stamp_rate if buy else 0.0)


# --- sizing ----------------------------------------------------------------------------


def _quantity(config: BacktestConfig, equity: float, entry: float, stop: float) -> float:
    if equity <= 0 or entry <= 0:
        return 0.0
    affordable = equity / entry
    if config.sizing == "fixed":
        raw = config.fixed_amount / entry
    elif config.sizing == "percent":
        raw = config.percent_of_equity / 100 * equity / entry
    else:
        distance = abs(entry - stop)
        raw = config.risk_percent / 100 * equity / distance if distance > 0 else affordable
    raw = min(raw, affordable)
    if config.fractional:
        return max(raw, 0.0)
    # The epsilon absorbs binary rounding (e.g. 1000 / 100.1 * 100.1); never buys a share more.
    return float(math.floor(raw * (1 + 1e-12)))


# --- the run ---------------------------------------------------------------------------


@dataclass
class _Trades:
    entry: list[int] = field(default_factory=list)
    exit: list[int] = field(default_factory=list)
    direction: list[int] = field(default_factory=list)
    entry_price: list[float] = field(default_factory=list)
    exit_price: list[float] = field(default_factory=list)
    quantity: list[float] = field(default_factory=list)
    stop: list[float] = field(default_factory=list)
    target: list[float] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)


def _validate(config: BacktestConfig, n: int, first: int, last: int | None) -> int:
    if config.direction not in ("long", "short", "both"):
        raise ValueError(f"direction: must be long, short or both (got {config.direction!r})")
    if config.sizing not in ("fixed", "percent", "risk"):
        raise ValueError(f"sizing: must be fixed, percent or risk (got {config.sizing!r})")
    if config.sizing == "risk" and config.stop_atr is None:
        raise ValueError("sizing: risk-per-trade sizing needs a stop (stop_atr)")
    if config.max_bars is not None and config.max_bars < 1:
        raise ValueError("max_bars: must be at least 1")
    last = n if last is None else last
    if not 0 <= first < last <= n:
        raise ValueError(f"window: need 0 <= first < last <= {n} (got {first}, {last})")
    return last


def _scan_exit(
    p: Prepared, *, start: int, end: int, direction: int, stop: float, target: float
) -> Exit | None:
    """``fills.first_exit`` over ``[start, end)`` in growing chunks, so a trade stopped early
    does not pay for comparing every bar up to its signal exit."""
    chunk = 64
    while start < end:
        stop_at = min(start + chunk, end)
        hit = first_exit(
            p.open,
            p.high,
            p.low,
            start=start,
            end=stop_at,
            direction=direction,
            stop=stop,
            target=target,
        )
        if hit is not None:
            return hit
        start, chunk = stop_at, chunk * 4
    return None


def _general(
    p: Prepared, ev_bars: IntArray, ev_signs: IntArray, config: BacktestConfig, last: int
) -> _Trades:
    """Event by event, trade by trade: stops, targets and time exits, sized on the equity
    left by the previous trades."""
    slip = config.slippage_bps / 1e4
    buys, sells = ev_bars[ev_signs > 0], ev_bars[ev_signs < 0]
    use_stop = config.stop_atr is not None
    atr_values = p.atr(config.atr_period) if use_stop else None
    out = _Trades()
    equity = config.initial_capital
    cursor = 0  # the earliest signal bar that may open the next position
    forced: tuple[int, int] | None = None  # a reversal ("both"): (signal bar, direction)
    while True:
        if forced is not None:
            t, d = forced
            forced = None
        else:
            if config.direction == "long":
                i = int(np.searchsorted(buys, cursor))
                if i == len(buys):
                    break
                t, d = int(buys[i]), 1
            elif config.direction == "short":
                i = int(np.searchsorted(sells, cursor))
                if i == len(sells):
                    break
                t, d = int(sells[i]), -1
            else:
                i = int(np.searchsorted(ev_bars, cursor))
                if i == len(ev_bars):
                    break
                t, d = int(ev_bars[i]), int(ev_signs[i])
        e = t + 1
        entry = float(p.open[e]) * (1 + d * slip)
        stop = target = math.nan
        if atr_values is not None and config.stop_atr is not None:
            a = float(atr_values[t])
            if math.isnan(a):  # ATR still warming up: no stop can be set, so no trade
                cursor = t + 1
                continue
            stop = entry - d * config.stop_atr * a
            if config.target_r is not None:
                target = entry + d * config.target_r * config.stop_atr * a
        qty = _quantity(config, equity, entry, stop)
        if qty <= 0:
            cursor = t + 1
            continue

        opposite = sells if d > 0 else buys
        j = int(np.searchsorted(opposite, e))
        signal_exit = int(opposite[j]) + 1 if j < len(opposite) else None
        time_exit = e + config.max_bars - 1 if config.max_bars is not None else None
        if time_exit is not None and time_exit > last - 1:
            time_exit = None
        scan_end = min(
            signal_exit if signal_exit is not None else last,
            time_exit + 1 if time_exit is not None else last,
        )
        hit = None
        if not (math.isnan(stop) and math.isnan(target)):
            hit = _scan_exit(p, start=e, end=scan_end, direction=d, stop=stop, target=target)
        if hit is not None:
            x, raw, reason = hit.bar, hit.price, hit.reason
        elif signal_exit is not None and (time_exit is None or signal_exit <= time_exit):
            x, raw, reason = signal_exit, float(p.open[signal_exit]), SIGNAL
            if config.direction == "both":
                forced = (signal_exit - 1, -d)
        elif time_exit is not None:
            x, raw, reason = time_exit, float(p.close[time_exit]), TIME
        else:
            x, raw, reason = last - 1, float(p.close[last - 1]), END
        exit_price = raw * (1 - d * slip)

        turnover_in, turnover_out = entry * qty, exit_price * qty
        charges = float(leg_charges(config.charges, turnover_in, d > 0)) + float(
            leg_charges(config.charges, turnover_out, d < 0)
        )
        equity += d * (exit_price - entry) * qty - charges
        out.entry.append(e)
        out.exit.append(x)
        out.direction.append(d)
        out.entry_price.append(entry)
        out.exit_price.append(exit_price)
        out.quantity.append(qty)
        out.stop.append(stop)
        out.target.append(target)
        out.reason.append(reason)
        cursor = x
    return out


def _fast(
    p: Prepared, ev_bars: IntArray, ev_signs: IntArray, config: BacktestConfig, last: int
) -> tuple[_Trades, FloatArray] | None:
    """Trades when only signals close positions: after dropping repeated same-sign events,
    each kept event opens (its sign allowed by ``direction``) and the next kept event closes.
    Returns (trades, quantities), or None when some entry would be skipped (quantity 0), which
    only the general path handles."""
    slip = config.slippage_bps / 1e4
    if len(ev_signs):
        keep = np.empty(len(ev_signs), dtype=bool)
        keep[0] = True
        np.not_equal(ev_signs[1:], ev_signs[:-1], out=keep[1:])
        kb, ks = ev_bars[keep], ev_signs[keep]
    else:
        kb, ks = ev_bars, ev_signs
    if config.direction == "long":
        opens = np.flatnonzero(ks > 0)
    elif config.direction == "short":
        opens = np.flatnonzero(ks < 0)
    else:
        opens = np.arange(len(ks))
    d = ks[opens]
    e = kb[opens] + 1
    nxt = opens + 1
    has_exit = nxt < len(kb)
    x = np.where(has_exit, kb[np.minimum(nxt, max(len(kb) - 1, 0))] + 1, last - 1)
    entry = p.open[e] * (1 + d * slip)
    raw_exit = np.where(has_exit, p.open[x], p.close[last - 1])
    exit_price = raw_exit * (1 - d * slip)

    n = len(e)
    charges = config.charges
    proportional = charges.brokerage_rate == 0 or charges.brokerage_cap == 0
    if (
        config.sizing == "percent"
        and config.fractional
        and proportional
        and config.percent_of_equity <= 100
    ):
        # All-in fractional sizing on proportional charges: equity grows by a fixed factor per
        # trade, so the equity before each trade is a cumulative product.
        f = config.percent_of_equity / 100
        rate_in = np.where(d > 0, _leg_rate(charges, True), _leg_rate(charges, False))
        rate_out = np.where(d < 0, _leg_rate(charges, True), _leg_rate(charges, False))
        growth = (
            1 + f * (d * (exit_price - entry) - entry * rate_in - exit_price * rate_out) / entry
        )
        before = np.empty(n)
        if n:
            before[0] = config.initial_capital
            np.cumprod(growth[:-1], out=before[1:])
            before[1:] *= config.initial_capital
        if n and (before <= 0).any():
            return None
        qty = f * before / entry
    else:
        qty = np.empty(n)
        equity = config.initial_capital
        for k in range(n):
            q = _quantity(config, equity, float(entry[k]), math.nan)
            if q <= 0:
                return None
            qty[k] = q
            turnover_in, turnover_out = entry[k] * q, exit_price[k] * q
            cost = leg_charges(charges, turnover_in, d[k] > 0) + leg_charges(
                charges, turnover_out, d[k] < 0
            )
            equity += float(d[k] * (exit_price[k] - entry[k]) * q - cost)
    trades = _Trades(
        entry=e,  # type: ignore[arg-type]  # arrays stand in for lists from here on
        exit=x,  # type: ignore[arg-type]
        direction=d,  # type: ignore[arg-type]
        entry_price=entry,  # type: ignore[arg-type]
        exit_price=exit_price,  # type: ignore[arg-type]
        quantity=qty,  # type: ignore[arg-type]
        stop=np.full(n, np.nan),  # type: ignore[arg-type]
        target=np.full(n, np.nan),  # type: ignore[arg-type]
        reason=np.where(has_exit, SIGNAL, END),  # type: ignore[arg-type]
    )
    return trades, qty


def run(
    p: Prepared,
    ev_bars: IntArray,
    ev_signs: IntArray,
    config: BacktestConfig,
    *,
    first: int = 0,
    last: int | None = None,
    fast: bool = True,
) -> Result:
    """:func:`backtest` on prepared bars and signal events (sorted bar indices and signs).
    ``fast=False`` forces the general path (tests compare the two)."""
    last = _validate(config, len(p), first, last)
    # A signal on bar t acts at t + 1, which must fall inside the window.
    lo = int(np.searchsorted(ev_bars, max(first - 1, 0)))
    hi = int(np.searchsorted(ev_bars, last - 1))
    ev_bars, ev_signs = ev_bars[lo:hi], ev_signs[lo:hi]

    simple = config.stop_atr is None and config.max_bars is None
    fast_result = _fast(p, ev_bars, ev_signs, config, last) if (fast and simple) else None
    trades = (
        fast_result[0] if fast_result is not None else _general(p, ev_bars, ev_signs, config, last)
    )
    return _result(p, trades, config, first, last)


def _result(p: Prepared, t: _Trades, config: BacktestConfig, first: int, last: int) -> Result:
    entry_idx = np.asarray(t.entry, dtype=np.int64)
    exit_idx = np.asarray(t.exit, dtype=np.int64)
    d = np.asarray(t.direction, dtype=np.int64)
    entry = np.asarray(t.entry_price, dtype=np.float64)
    exit_price = np.asarray(t.exit_price, dtype=np.float64)
    qty = np.asarray(t.quantity, dtype=np.float64)
    stop = np.asarray(t.stop, dtype=np.float64)
    charges_in = leg_charges(config.charges, entry * qty, d > 0)
    charges = charges_in + leg_charges(config.charges, exit_price * qty, d < 0)
    pnl = d * (exit_price - entry) * qty - charges
    with np.errstate(divide="ignore", invalid="ignore"):
        return_pct = pnl / (entry * qty)
        r_multiple = pnl / (np.abs(entry - stop) * qty)
    r_multiple[~np.isfinite(r_multiple)] = np.nan

    m = last - first
    realised = np.bincount(exit_idx - first, weights=pnl, minlength=m)
    equity = config.initial_capital + np.cumsum(realised)
    # Open positions marked at each close before their exit bar (the exit bar is valued after
    # the exit, through ``realised``). Positions never overlap, so the held bars, in order,
    # are the trades' [entry, exit) ranges one after the other.
    lengths = exit_idx - entry_idx
    starts = np.bincount(entry_idx - first, minlength=m + 1)
    held = np.cumsum(starts[:m] - np.bincount(exit_idx - first, minlength=m + 1)[:m]) > 0
    if lengths.any():
        signed = (d * qty).astype(np.float64)
        equity[held] += np.repeat(signed, lengths) * p.close[first:last][held] - np.repeat(
            signed * entry + charges_in, lengths
        )
    # Exposure counts the exit bar too: the position was open during part of it.
    exposed = held.copy()
    exposed[exit_idx - first] = True
    exposure = float(exposed.mean()) if m else 0.0

    index = p.index
    trades = pd.DataFrame(
        {
            "entry_time": index[entry_idx],
            "exit_time": index[exit_idx],
            "entry_index": entry_idx,
            "exit_index": exit_idx,
            "direction": d,
            "entry_price": entry,
            "exit_price": exit_price,
            "quantity": qty,
            "stop": stop,
            "target": np.asarray(t.target, dtype=np.float64),
            "charges": charges,
            "pnl": pnl,
            "return_pct": return_pct,
            "r_multiple": r_multiple,
            "bars_held": exit_idx - entry_idx + 1,
            "reason": np.asarray(t.reason, dtype=object),
        },
        columns=list(TRADE_COLUMNS),
    )
    return Result(
        trades=trades,
        equity=pd.Series(equity, index=index[first:last], name="equity"),
        exposure=exposure,
        config=config,
        first=first,
        last=last,
    )
