"""Loading candle history: OHLCV CSV files and provider history, plus bar roll-ups.

* `ohlcv_csv_parse` reads and validates a CSV of bars without touching the database;
  `candles_import` writes parsed bars (REPLACE, one transaction).
* `history_load` asks a provider for each instrument's history and writes it in chunks; for
  1-minute history it also rolls the bars up into the longer timeframes (`bars_roll_up`).

Prices travel through the pandas frames as int64 ten-thousandths of a rupee (the candle
table's 4 decimal places), so roll-ups are exact and vectorised; `Decimal`s are built only
when rows are written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import transaction

from apps.market.candle_store import CandleRow, WriteMode, bucket_starts, candles_write
from apps.market.models import DataSource, Instrument, Timeframe
from apps.market.providers.base import Bar, InstrumentRef, MarketDataProvider
from apps.market.services import CsvRowError

IST = ZoneInfo("Asia/Kolkata")
PRICE_SCALE = 10_000  # prices in frames are int64 ten-thousandths of a rupee
PRICE_PLACES = Decimal("0.0001")
PRICE_MAX = Decimal(10) ** 12  # numeric(16, 4)
WRITE_CHUNK_ROWS = 50_000
OHLCV_COLUMNS = ["start", "open", "high", "low", "close", "volume"]
# Longer timeframes built from 1m history. 1d is built too unless `daily_rollup=False`
# (use that when 1d bars are loaded separately from an official daily source).
INTRADAY_ROLLUPS = ("3m", "5m", "15m", "30m", "1h")
TIME_COLUMNS = ("datetime", "timestamp", "date")
PRICE_COLUMNS = ("open", "high", "low", "close")
EPOCH_RE = re.compile(r"^-?\d+$")
DATE_FORMATS = ("%d-%m-%Y", "%d-%b-%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y%m%d")
TIME_FORMATS = ("", " %H:%M", " %H:%M:%S")
# Provider name -> where its candles say they came from.
PROVIDER_SOURCES = {
    "simulated": DataSource.SIMULATED,
    "csv": DataSource.CSV,
    "csv_file": DataSource.CSV,
    "yahoo": DataSource.YAHOO,
    "nse": DataSource.NSE,
}


# -- CSV import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedBars:
    """Validated bars of one timeframe; `frame` has OHLCV_COLUMNS plus `line`, sorted by start.

    `start` is epoch seconds (UTC); prices are int64 ten-thousandths of a rupee."""

    timeframe: str
    frame: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.frame)


def _parse_moment(text: str, epoch_allowed: bool) -> float:
    """Epoch seconds of a CSV time cell. Naive values are Asia/Kolkata wall-clock time."""
    if epoch_allowed and EPOCH_RE.match(text):
        seconds = int(text)
        if abs(seconds) >= 10**11:
            raise ValueError(f"{text!r} looks like milliseconds; expected epoch seconds")
        return float(seconds)
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for date_format in DATE_FORMATS:
            for time_format in TIME_FORMATS:
                try:
                    moment = datetime.strptime(text, date_format + time_format)  # noqa: DTZ007
                except ValueError:
                    continue
                break
            if moment is not None:
                break
    if moment is None:
        raise ValueError(f"{text!r} is not a date/time (use e.g. 2025-01-02 or 2025-01-02T09:15)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=IST)
    return moment.timestamp()


def _parse_price(text: str, name: str, problems: list[str]) -> int:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        problems.append(f"{name} {text!r} is not a number")
        return 0
    if not value.is_finite() or value <= 0:
        problems.append(f"{name} {text!r} is not a positive number")
        return 0
    if value >= PRICE_MAX:
        problems.append(f"{name} {text!r} is too large")
        return 0
    return int(value.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP) * PRICE_SCALE)


def _parse_volume(text: str, problems: list[str]) -> int:
    try:
        value = Decimal(text.replace(",", "")) if text else Decimal(0)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        problems.append(f"volume {text!r} is not a non-negative whole number")
        return 0
    if value >= 2**63:
        problems.append(f"volume {text!r} is too large")
        return 0
    return int(value)


def _format_ist(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=IST).strftime("%Y-%m-%d %H:%M IST")


def ohlcv_csv_parse(lines: Iterable[str], *, timeframe: str) -> ParsedBars:
    """Parse and validate an OHLCV CSV without touching the database.

    The header names a time column (`datetime`, `timestamp` or `date`, optionally with a
    separate `time`) and `open, high, low, close` (+ `volume`, 0 when absent), in any case and
    order; other columns are ignored. Times: ISO 8601 with an offset is respected, naive
    values (and DD-MM-YYYY / DD-Mon-YYYY dates) are Asia/Kolkata, plain integers in a
    `timestamp` column are epoch seconds. Every row is checked; `CsvRowError` lists all bad
    rows by line number (the header is line 1).
    """
    if timeframe not in Timeframe.values:
        raise ValueError(f"Unknown timeframe {timeframe!r}")
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise CsvRowError([(1, "the file is empty; expected a header row.")])
    columns = [" ".join(cell.split()).lower() for cell in header]
    time_column = next((name for name in TIME_COLUMNS if name in columns), None)
    missing = [name for name in PRICE_COLUMNS if name not in columns]
    if time_column is None:
        missing.insert(0, "date/datetime/timestamp")
    if missing:
        raise CsvRowError([(1, f"missing column(s): {', '.join(missing)}.")])
    assert time_column is not None  # noqa: S101 (narrowing for mypy)
    time_index = columns.index(time_column)
    clock_index = columns.index("time") if time_column == "date" and "time" in columns else None
    price_index = {name: columns.index(name) for name in PRICE_COLUMNS}
    volume_index = columns.index("volume") if "volume" in columns else None

    errors: list[tuple[int, str]] = []
    records: list[tuple[int, float, int, int, int, int, int]] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(columns):
            errors.append((line, f"expected {len(columns)} fields, found {len(record)}."))
            continue
        problems: list[str] = []
        moment_text = record[time_index].strip()
        if clock_index is not None and record[clock_index].strip():
            moment_text = f"{moment_text} {record[clock_index].strip()}"
        try:
            moment = _parse_moment(moment_text, epoch_allowed=time_column == "timestamp")
        except ValueError as exc:
            problems.append(f"{time_column} {exc}")
            moment = 0.0
        o, h, lo, c = (
            _parse_price(record[price_index[n]].strip(), n, problems) for n in PRICE_COLUMNS
        )
        volume = (
            _parse_volume(record[volume_index].strip(), problems) if volume_index is not None else 0
        )
        if not problems and not (lo <= min(o, c) and max(o, c) <= h):
            problems.append("prices must satisfy low <= open, close <= high")
        if problems:
            errors.append((line, "; ".join(problems) + "."))
            continue
        records.append((line, moment, o, h, lo, c, volume))

    frame = pd.DataFrame(
        records, columns=["line", "moment", "open", "high", "low", "close", "volume"]
    )
    frame = frame.astype(
        {
            "line": np.int64,
            "moment": np.float64,
            "open": np.int64,
            "high": np.int64,
            "low": np.int64,
            "close": np.int64,
            "volume": np.int64,
        }
    )
    seconds = np.floor(frame["moment"].to_numpy()).astype(np.int64)
    buckets = bucket_starts(seconds, timeframe)
    misaligned = (seconds != buckets) | (frame["moment"].to_numpy() != seconds)
    for line, moment, bucket in zip(
        frame["line"].to_numpy()[misaligned],
        frame["moment"].to_numpy()[misaligned],
        buckets[misaligned],
        strict=True,
    ):
        errors.append(
            (
                int(line),
                f"{_format_ist(int(moment))} is not the start of a {timeframe} bar "
                f"(that bar starts at {_format_ist(int(bucket))}).",
            )
        )
    frame["start"] = seconds
    aligned = frame[~misaligned]
    first_line: dict[int, int] = {}
    for line, start in zip(aligned["line"].to_numpy(), aligned["start"].to_numpy(), strict=True):
        earlier = first_line.setdefault(int(start), int(line))
        if earlier != line:
            errors.append(
                (int(line), f"{_format_ist(int(start))} already appears on line {earlier}.")
            )
    if errors:
        raise CsvRowError(sorted(errors))
    frame = frame.sort_values("start", kind="stable").reset_index(drop=True)
    return ParsedBars(timeframe=timeframe, frame=frame[["line", *OHLCV_COLUMNS]])


# -- frames <-> rows ------------------------------------------------------------------------


def _price(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(-4)


def _scaled(price: Decimal) -> int:
    return int((price * PRICE_SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def bars_frame(bars: Sequence[Bar]) -> pd.DataFrame:
    """Provider bars as a frame of OHLCV_COLUMNS (start: epoch seconds, prices scaled)."""
    frame = pd.DataFrame(
        [
            (
                int(bar.start.timestamp()),
                _scaled(bar.open),
                _scaled(bar.high),
                _scaled(bar.low),
                _scaled(bar.close),
                int(bar.volume),
            )
            for bar in bars
        ],
        columns=OHLCV_COLUMNS,
    )
    return frame.astype(np.int64)


def frame_rows(
    frame: pd.DataFrame, *, instrument_id: int, timeframe: str, source: int
) -> list[CandleRow]:
    """CandleRows of a frame of OHLCV_COLUMNS."""
    starts = frame["start"].to_numpy()
    columns = [frame[name].to_numpy().tolist() for name in ("open", "high", "low", "close")]
    volumes = frame["volume"].to_numpy().tolist()
    return [
        CandleRow(
            instrument_id=instrument_id,
            timeframe=timeframe,
            start=datetime.fromtimestamp(int(start), tz=UTC),
            open=_price(o),
            high=_price(h),
            low=_price(lo),
            close=_price(c),
            volume=int(volume),
            source=source,
        )
        for start, o, h, lo, c, volume in zip(starts.tolist(), *columns, volumes, strict=True)
    ]


def candles_import(
    *, instrument: Instrument, parsed: ParsedBars, source: int = DataSource.CSV
) -> int:
    """Write parsed bars (REPLACE, one transaction); return rows inserted or changed."""
    rows = frame_rows(
        parsed.frame, instrument_id=instrument.pk, timeframe=parsed.timeframe, source=source
    )
    with transaction.atomic():
        return sum(
            candles_write(rows=rows[i : i + WRITE_CHUNK_ROWS], mode=WriteMode.REPLACE)
            for i in range(0, len(rows), WRITE_CHUNK_ROWS)
        )


# -- roll-ups -------------------------------------------------------------------------------


def bars_roll_up(bars_frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Aggregate bars into `timeframe` buckets (open first, high max, low min, close last,
    volume sum). Input: OHLCV_COLUMNS (+ optional `instrument_id`), any order; output has the
    same columns, sorted, `start` = the bucket start. Buckets come from `bucket_starts`."""
    frame = bars_frame.sort_values(
        ["instrument_id", "start"] if "instrument_id" in bars_frame else ["start"],
        kind="stable",
    )
    frame = frame.assign(start=bucket_starts(frame["start"].to_numpy(np.int64), timeframe))
    keys = ["instrument_id", "start"] if "instrument_id" in frame else ["start"]
    rolled = frame.groupby(keys, sort=True).agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    return rolled.reset_index()


# -- provider history -----------------------------------------------------------------------


def provider_source(provider: MarketDataProvider) -> int:
    try:
        return int(PROVIDER_SOURCES[provider.name])
    except KeyError as exc:
        raise ValueError(f"No DataSource for provider {provider.name!r}.") from exc


def _ist_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=IST)


def _complete(
    frame: pd.DataFrame, timeframe: str, range_start: int, range_end: int, now: int
) -> pd.DataFrame:
    """Drop 1d/1w buckets only partly covered by [range_start, range_end) (a bucket still
    in progress at `now` is kept, like the provider's bar in progress)."""
    starts = frame["start"].to_numpy(np.int64)
    ends = starts + (7 if timeframe == "1w" else 1) * 86_400
    keep = (starts >= range_start) & ((ends <= range_end) | (range_end > now))
    return frame[keep]


def rollup_plan(timeframe: str, *, daily_rollup: bool = True) -> tuple[str, ...]:
    """Timeframes built from loaded `timeframe` bars: 1m -> 3m..1h (+ 1d, 1w); 1d -> 1w."""
    if timeframe == "1m":
        return INTRADAY_ROLLUPS + (("1d", "1w") if daily_rollup else ())
    if timeframe == "1d":
        return ("1w",)
    return ()


def history_load(
    *,
    provider: MarketDataProvider,
    instruments: Sequence[Instrument],
    timeframe: str,
    start: date,
    end: date,
    daily_rollup: bool = True,
    chunk_rows: int = WRITE_CHUNK_ROWS,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Load `timeframe` bars for the IST days `start`..`end` (both included) from `provider`
    and write them with REPLACE; return the number of candle rows inserted or changed.

    Bar starts are normalised to the timeframe's bucket (e.g. a provider's 1d bar at 09:15
    IST is stored at 00:00 IST). Roll-ups (see `rollup_plan`) are written alongside; a 1d or
    1w bucket only partly inside the range is not written (unless it is still in progress).
    Rows are written in chunks of about `chunk_rows`, each in its own transaction, so an
    interrupted load keeps what it wrote; re-running it is harmless.
    """
    if timeframe not in Timeframe.values:
        raise ValueError(f"Unknown timeframe {timeframe!r}")
    if end < start:
        raise ValueError("end is before start")
    source = provider_source(provider)
    range_start_dt, range_end_dt = _ist_midnight(start), _ist_midnight(end + timedelta(days=1))
    range_start, range_end = int(range_start_dt.timestamp()), int(range_end_dt.timestamp())
    now_seconds = int((now or datetime.now(UTC)).timestamp())
    rollups = rollup_plan(timeframe, daily_rollup=daily_rollup)

    buffer: list[CandleRow] = []
    changed = 0

    def flush() -> None:
        nonlocal changed
        if buffer:
            changed += candles_write(rows=buffer, mode=WriteMode.REPLACE)
            buffer.clear()

    for instrument in instruments:
        bars = provider.history(
            InstrumentRef.from_instrument(instrument), timeframe, range_start_dt, range_end_dt
        )
        frame = bars_frame(bars)
        if frame.empty:
            if progress:
                progress(f"{instrument}: no bars")
            continue
        frame["start"] = bucket_starts(frame["start"].to_numpy(np.int64), timeframe)
        frame = frame.drop_duplicates("start", keep="last")
        written = {timeframe: frame}
        for target in rollups:
            base = written["1d"] if target == "1w" and "1d" in written else frame
            rolled = bars_roll_up(base, target)
            if target in ("1d", "1w"):
                rolled = _complete(rolled, target, range_start, range_end, now_seconds)
            written[target] = rolled
        count = 0
        for target_timeframe, target_frame in written.items():
            rows = frame_rows(
                target_frame,
                instrument_id=instrument.pk,
                timeframe=target_timeframe,
                source=source,
            )
            buffer.extend(rows)
            count += len(rows)
            if len(buffer) >= chunk_rows:
                flush()
        if progress:
            progress(f"{instrument}: {len(frame)} {timeframe} bars, {count} rows in all")
    flush()
    return changed
