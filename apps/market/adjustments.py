"""Split/bonus adjustment of raw candles, applied on read (candles are stored unadjusted).

A bar is adjusted by every action whose ex-date (00:00 IST) is after the bar's start: prices
are divided by the product of those actions' factors and volumes multiplied by it, so a 1:1
bonus halves the prices before its ex-date and the chart shows no 50% "crash" across it.

Bars that start before an ex-date but end after it (a 1w bar holding the ex-date) are adjusted
as a whole; they mix pre- and post-action prices whatever we do.

Precision: factors are exact `Decimal`s (`CorporateAction.factor()`). `adjust_ohlcv` keeps
`Decimal` price columns as `Decimal` (quantised to 4 dp, ROUND_HALF_EVEN); float columns are
computed in float64 and rounded to 4 dp. Volumes are rounded to whole shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

IST = ZoneInfo("Asia/Kolkata")
PRICE_COLUMNS = ("open", "high", "low", "close")
PRICE_PLACES = Decimal("0.0001")


class Action(Protocol):
    ex_date: date

    def factor(self) -> Decimal: ...


def _ex_seconds(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=IST).timestamp())


def _factor_table(actions: Iterable[Action]) -> tuple[npt.NDArray[np.int64], list[Decimal]]:
    """(ex-date epoch seconds ascending, suffix products): suffix[k] = product of the factors
    of actions k.. (len + 1 entries, the last one 1)."""
    pairs = sorted((_ex_seconds(action.ex_date), Decimal(action.factor())) for action in actions)
    suffix = [Decimal(1)] * (len(pairs) + 1)
    for index in range(len(pairs) - 1, -1, -1):
        suffix[index] = suffix[index + 1] * pairs[index][1]
    return np.array([seconds for seconds, _ in pairs], dtype=np.int64), suffix


def _factor_index(ex_seconds: npt.NDArray[np.int64], starts: Any) -> npt.NDArray[np.intp]:
    """For each start, how many actions have an ex-date at or before it."""
    return np.searchsorted(ex_seconds, np.asarray(starts, dtype=np.int64), side="right")


def adjustment_factors(actions: Iterable[Action], starts: npt.NDArray[np.int64]) -> Any:
    """Cumulative factor per bar (float64): the product of the factors of the actions whose
    ex-date (00:00 IST) is after the bar's start (epoch seconds); 1.0 when there is none."""
    ex_seconds, suffix = _factor_table(actions)
    table = np.array([float(value) for value in suffix], dtype=np.float64)
    return table[_factor_index(ex_seconds, starts)]


def _starts_seconds(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    starts = frame["start"]
    if pd.api.types.is_datetime64_any_dtype(starts):
        if starts.dt.tz is None:
            raise ValueError("adjust_ohlcv needs aware (or epoch-second) starts")
        epoch = pd.Timestamp(0, tz="UTC")
        return ((starts - epoch) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    if starts.dtype == object:
        return np.array([int(value.timestamp()) for value in starts], dtype=np.int64)
    return starts.to_numpy(np.int64)


def adjust_ohlcv(frame: pd.DataFrame, actions: Iterable[Action]) -> pd.DataFrame:
    """A copy of `frame` (columns start, open, high, low, close, volume) adjusted for
    `actions`. `start` may be epoch seconds, aware datetimes or a tz-aware datetime64 column.
    Price columns of `Decimal`s stay `Decimal` (4 dp); numeric ones become float64 (4 dp)."""
    ex_seconds, suffix = _factor_table(actions)
    result = frame.copy()
    if not len(ex_seconds) or frame.empty:
        return result
    index = _factor_index(ex_seconds, _starts_seconds(frame))
    float_factors = np.array([float(value) for value in suffix], dtype=np.float64)[index]
    decimal_factors = np.array(suffix, dtype=object)[index]
    for name in PRICE_COLUMNS:
        column = frame[name]
        if column.dtype == object:
            adjusted = column.to_numpy(dtype=object) / decimal_factors
            result[name] = [value.quantize(PRICE_PLACES) for value in adjusted]
        else:
            result[name] = np.round(column.to_numpy(np.float64) / float_factors, 4)
    if "volume" in frame:
        volumes = frame["volume"].to_numpy(np.float64) * float_factors
        result["volume"] = np.rint(volumes).astype(np.int64)
    return result
