"""Indicators TA-Lib does not provide: session VWAP, SuperTrend, Donchian channels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._arrays import FloatArray, as_float, same_length
from .core import atr
from .errors import IndicatorError

MARKET_TZ = "Asia/Kolkata"


def session_ids(timestamps: npt.ArrayLike | pd.DatetimeIndex | pd.Series) -> npt.NDArray[np.int64]:
    """Number the trading sessions: a new session starts on each Asia/Kolkata calendar day.

    ``timestamps`` are numpy ``datetime64`` values (naive values are taken as UTC,
    which is how the database stores them) or a tz-aware pandas index/series.
    They must be in non-decreasing order.
    """
    if isinstance(timestamps, pd.DatetimeIndex | pd.Series):
        index = pd.DatetimeIndex(timestamps)
    else:
        arr = np.asarray(timestamps)
        if arr.dtype.kind != "M":
            raise IndicatorError("timestamp", "must be datetime64 values")
        index = pd.DatetimeIndex(arr)
    if index.hasnans:
        raise IndicatorError("timestamp", "must not contain NaT")
    if index.tz is None:
        index = index.tz_localize("UTC")
    local = index.tz_convert(MARKET_TZ).tz_localize(None)
    if len(local) and not local.is_monotonic_increasing:
        raise IndicatorError("timestamp", "must be in non-decreasing order")
    days = local.to_numpy().astype("datetime64[D]").astype(np.int64)
    new_session = np.empty(len(days), dtype=bool)
    new_session[:1] = True
    new_session[1:] = days[1:] != days[:-1]
    return np.cumsum(new_session, dtype=np.int64) - 1


def vwap(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike,
    timestamps: npt.ArrayLike | pd.DatetimeIndex | pd.Series,
) -> FloatArray:
    """Session-anchored VWAP: cumsum(typical price × volume) / cumsum(volume) per IST day.

    A bar with any NaN input is left out of the sums and gets NaN; the session
    continues after it.  NaN also while the session's cumulative volume is zero.
    """
    h, lo, c, v = (
        as_float(name, values)
        for name, values in (("high", high), ("low", low), ("close", close), ("volume", volume))
    )
    n = same_length(high=h, low=lo, close=c, volume=v)
    sessions = session_ids(timestamps)
    if len(sessions) != n:
        raise IndicatorError(
            "timestamp", f"length {len(sessions)} differs from the other inputs ({n})"
        )
    valid = np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)
    typical = (h + lo + c) / 3.0
    frame = pd.DataFrame(
        {
            "pv": np.where(valid, typical * v, 0.0),
            "v": np.where(valid, v, 0.0),
        }
    )
    sums = frame.groupby(sessions, sort=False).cumsum()
    cum_pv = sums["pv"].to_numpy(dtype=np.float64)
    cum_v = sums["v"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cum_pv / cum_v
    out[~valid | (cum_v == 0.0)] = np.nan
    return out


def donchian(
    high: npt.ArrayLike, low: npt.ArrayLike, period: int = 20
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(upper, middle, lower): highest high / lowest low of the last ``period`` bars.

    NaN for the first ``period - 1`` bars and for every window containing a NaN.
    """
    h, lo = as_float("high", high), as_float("low", low)
    same_length(high=h, low=lo)
    upper = pd.Series(h).rolling(period, min_periods=period).max().to_numpy(dtype=np.float64)
    lower = pd.Series(lo).rolling(period, min_periods=period).min().to_numpy(dtype=np.float64)
    return upper, (upper + lower) / 2.0, lower


def supertrend(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 10,
    multiplier: float = 3.0,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(supertrend, direction, final upper band, final lower band).

    Basic bands are ``(h+l)/2 ± multiplier × ATR(period)`` (Wilder ATR from TA-Lib).
    The final upper band only moves down unless the previous close broke above it;
    the final lower band only moves up unless the previous close broke below it.
    Direction is +1 (up, line = lower band) or -1 (down, line = upper band); it flips
    up when the close exceeds the final upper band and down when the close falls
    below the final lower band.  The first valid bar starts in a downtrend
    (TradingView's convention).  Output starts at bar ``period``; NaN gaps end it.
    """
    h, lo, c = as_float("high", high), as_float("low", low), as_float("close", close)
    n = same_length(high=h, low=lo, close=c)
    band = multiplier * atr(h, lo, c, period)
    mid = (h + lo) / 2.0
    basic_upper, basic_lower = mid + band, mid - band

    line, direction, upper, lower = (np.full(n, np.nan) for _ in range(4))
    ok = np.flatnonzero(np.isfinite(basic_upper) & np.isfinite(basic_lower) & np.isfinite(c))
    if ok.size == 0:
        return line, direction, upper, lower
    start = int(ok[0])
    broken = np.flatnonzero(np.diff(ok) != 1)  # ATR already propagates gaps; be safe
    stop = int(ok[broken[0]]) + 1 if broken.size else int(ok[-1]) + 1

    bu = basic_upper[start:stop].tolist()
    bl = basic_lower[start:stop].tolist()
    cl = c[start:stop].tolist()
    fu, fl, d = bu[0], bl[0], -1.0
    fus, fls, ds = [fu], [fl], [d]
    for i in range(1, len(bu)):
        prev_close = cl[i - 1]
        fu = bu[i] if bu[i] < fu or prev_close > fu else fu
        fl = bl[i] if bl[i] > fl or prev_close < fl else fl
        # in a downtrend flip up above the upper band; in an uptrend flip down below the lower
        d = 1.0 if (cl[i] > fu if d < 0 else cl[i] >= fl) else -1.0
        fus.append(fu)
        fls.append(fl)
        ds.append(d)

    upper[start:stop] = fus
    lower[start:stop] = fls
    direction[start:stop] = ds
    line[start:stop] = np.where(direction[start:stop] > 0, lower[start:stop], upper[start:stop])
    return line, direction, upper, lower
