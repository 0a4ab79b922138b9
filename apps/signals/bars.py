"""Stored candles as the float bar frame strategies and the engine take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection

from apps.market.adjustments import adjustment_factors
from apps.market.selectors import corporate_action_list

_SQL = """
SELECT EXTRACT(EPOCH FROM start)::bigint, open::float8, high::float8, low::float8,
       close::float8, volume::float8
FROM market_candle
WHERE instrument_id = %s AND timeframe = %s{bounds}
ORDER BY start DESC
LIMIT %s
"""


def bars_load(
    *,
    instrument_id: int,
    timeframe: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100_000,
) -> pd.DataFrame:
    """The latest ``limit`` bars with ``start <= bar start < end``, oldest first, adjusted for
    splits and bonuses: a frame indexed by bar start (UTC) with float64 open, high, low,
    close and volume -- what :mod:`apps.signals.strategies` and the engine expect."""
    bounds, params = "", list[Any]([instrument_id, timeframe])
    if start is not None:
        bounds += " AND start >= %s"
        params.append(start)
    if end is not None:
        bounds += " AND start < %s"
        params.append(end)
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(bounds=bounds), params)  # only literal fragments formatted
        rows = cursor.fetchall()
    rows.reverse()
    data = np.array([row[1:] for row in rows], dtype=np.float64).reshape(-1, 5)
    starts = np.array([row[0] for row in rows], dtype=np.int64)
    actions = corporate_action_list(instrument_id=instrument_id)
    if actions and len(starts):
        factors = adjustment_factors(actions, starts)
        data[:, :4] /= factors[:, None]
        data[:, 4] *= factors
    index = pd.DatetimeIndex(pd.to_datetime(starts, unit="s", utc=True), name="start")
    return pd.DataFrame(data, index=index, columns=["open", "high", "low", "close", "volume"])
