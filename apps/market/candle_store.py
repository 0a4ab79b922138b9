"""Writing candles in bulk, and the bucket arithmetic every timeframe shares.

All candle writes go through `candles_write_units` (`candles_write` for rows of Decimals and
datetimes): they are COPYed into a temporary table and merged with one `INSERT … ON CONFLICT`
on (instrument, timeframe, start), so a batch of any size costs three statements.

Intraday buckets are aligned to the NSE session open (09:15 IST): a 1-hour bar covers
09:15–10:15, the last one 15:15–15:30. Daily bars start at 00:00 IST, weekly bars on Monday
00:00 IST.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from apps.market.models import Timeframe

IST_OFFSET_MIN = 330  # Asia/Kolkata is UTC+05:30 all year (no DST)
SESSION_OPEN_MIN = 9 * 60 + 15
INTRADAY_MINUTES = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60}
ROLLUP_TIMEFRAMES = [t.value for t in Timeframe]


class CandleRow(NamedTuple):
    instrument_id: int
    timeframe: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    source: int


class WriteMode(enum.Enum):
    # Ticks: keep the bar's open, widen high/low, take the newest close, add the volume.
    MERGE = "merge"
    # History and imports: the incoming bar replaces the stored one.
    REPLACE = "replace"


def bucket_starts(epoch_seconds: npt.NDArray[np.int64], timeframe: str) -> npt.NDArray[np.int64]:
    """Start (epoch seconds, UTC) of the `timeframe` bucket holding each timestamp."""
    ist_min = epoch_seconds // 60 + IST_OFFSET_MIN
    day = ist_min - ist_min % 1440
    if timeframe in INTRADAY_MINUTES:
        size = INTRADAY_MINUTES[timeframe]
        offset = ist_min - day - SESSION_OPEN_MIN
        start = day + SESSION_OPEN_MIN + np.floor_divide(offset, size) * size
    elif timeframe == "1d":
        start = day
    elif timeframe == "1w":
        day_index = day // 1440
        weekday = (day_index + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        start = (day_index - weekday) * 1440
    else:
        raise ValueError(f"Unknown timeframe {timeframe!r}")
    return np.asarray((start - IST_OFFSET_MIN) * 60, dtype=np.int64)


def bucket_start(at: datetime, timeframe: str) -> datetime:
    seconds = np.array([int(at.timestamp())], dtype=np.int64)
    return datetime.fromtimestamp(int(bucket_starts(seconds, timeframe)[0]), tz=UTC)


PRICE_UNITS = Decimal(10_000)  # market_candle prices are numeric(16, 4)
_COLUMNS = "instrument_id, timeframe, start, open, high, low, close, volume, source"

_MERGE_SET = """
    high = GREATEST(c.high, EXCLUDED.high),
    low = LEAST(c.low, EXCLUDED.low),
    close = EXCLUDED.close,
    volume = c.volume + EXCLUDED.volume
"""
_REPLACE_SET = """
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
    close = EXCLUDED.close, volume = EXCLUDED.volume, source = EXCLUDED.source
"""
_REPLACE_WHERE = """
    WHERE (c.open, c.high, c.low, c.close, c.volume, c.source)
      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
                        EXCLUDED.volume, EXCLUDED.source)
"""


_TEMP_UNITS_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS candle_incoming_units (
    instrument_id bigint, timeframe varchar(3), start bigint,
    open bigint, high bigint, low bigint, close bigint, volume bigint, source smallint
) ON COMMIT DELETE ROWS
"""


def candles_write_units(
    *,
    instrument_ids: Sequence[int],
    timeframes: Sequence[str],
    starts: Sequence[int],
    opens: Sequence[int],
    highs: Sequence[int],
    lows: Sequence[int],
    closes: Sequence[int],
    volumes: Sequence[int],
    source: int,
    mode: WriteMode,
) -> int:
    """Upsert bars given as columns: epoch-second starts and prices in integer ten-thousandths
    of a rupee (the column's scale). All candle writes end here: rows are COPYed into a
    temporary table and merged with one INSERT … ON CONFLICT. The tick path calls it
    directly and builds no Decimal or datetime."""
    if not instrument_ids:
        return 0
    update = _MERGE_SET if mode is WriteMode.MERGE else _REPLACE_SET + _REPLACE_WHERE
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TEMP_UNITS_TABLE)
        # Rows of an earlier call in the same (outer) transaction are still there.
        cursor.execute("TRUNCATE candle_incoming_units")
        raw = cursor.cursor  # psycopg's own cursor: COPY is not part of the DB-API
        columns = zip(
            instrument_ids, timeframes, starts, opens, highs, lows, closes, volumes, strict=True
        )
        with raw.copy(
            "COPY candle_incoming_units (instrument_id, timeframe, start, open, high, low, "
            "close, volume, source) FROM STDIN"
        ) as copy:
            for row in columns:
                copy.write_row((*row, source))
        # Only module constants are formatted into this statement.
        merge = (
            f"INSERT INTO market_candle AS c ({_COLUMNS}) "  # noqa: S608
            "SELECT instrument_id, timeframe, to_timestamp(start), open / 10000.0, "
            "high / 10000.0, low / 10000.0, close / 10000.0, volume, source "
            "FROM candle_incoming_units "
            f"ON CONFLICT (instrument_id, timeframe, start) DO UPDATE SET {update}"
        )
        cursor.execute(merge)
        return int(cursor.rowcount)


def _units(price: Decimal) -> int:
    """A price as integer ten-thousandths of a rupee, rounded as numeric(16, 4) would."""
    return int((price * PRICE_UNITS).to_integral_value(rounding=ROUND_HALF_UP))


def candles_write(*, rows: Sequence[CandleRow], mode: WriteMode) -> int:
    """Upsert `rows`; return how many rows were inserted or changed.

    Rows must be unique per (instrument, timeframe, start) within one call.
    """
    return candles_write_units(
        instrument_ids=[r.instrument_id for r in rows],
        timeframes=[r.timeframe for r in rows],
        starts=[int(r.start.timestamp()) for r in rows],
        opens=[_units(r.open) for r in rows],
        highs=[_units(r.high) for r in rows],
        lows=[_units(r.low) for r in rows],
        closes=[_units(r.close) for r in rows],
        volumes=[int(r.volume) for r in rows],
        # One source per call in practice; a mixed batch is written per source.
        source=_single_source(rows),
        mode=mode,
    )


def _single_source(rows: Sequence[CandleRow]) -> int:
    sources = {int(r.source) for r in rows}
    if len(sources) > 1:
        raise ValueError(f"candles_write takes rows of one source, got {sorted(sources)}")
    return sources.pop() if sources else 0
