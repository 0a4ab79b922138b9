"""Bars and replayed quotes from user-supplied OHLCV CSV files.

Files live in one directory (`settings.MARKET_CSV_DIR`, default `<BASE_DIR>/.local/market-csv`)
and are named `<EXCHANGE>_<SYMBOL>_<timeframe>.csv`, e.g. `NSE_RELIANCE_1d.csv` or
`NSE_NIFTY 50_1m.csv` (`NSE_NIFTY_50_1m.csv` is accepted too).

`parse_ohlcv_csv` reads the common layouts: a header row naming a time column (`date`,
`datetime`, `timestamp` or `time`, or separate `date` and `time` columns) and `open`, `high`,
`low`, `close` and optionally `volume` (any case and order; extra columns such as `Adj Close`
are ignored). Times may be ISO 8601 (with or without offset), `dd-mm-yyyy`, `dd/mm/yyyy`,
`dd-Mon-yyyy`, or Unix seconds. Times without an offset are local to `tz` (Asia/Kolkata);
date-only rows start at midnight of that day. The first bad row raises `CsvFormatError`
naming its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings

from ._common import IST, to_tick
from .base import Bar, InstrumentRef, MarketDataProvider, ProviderError, Quote

TIME_COLUMNS = ("datetime", "timestamp", "date time", "date", "time")
COLUMN_ALIASES = {
    "open": ("open", "open price", "o"),
    "high": ("high", "high price", "h"),
    "low": ("low", "low price", "l"),
    "close": ("close", "close price", "c", "last"),
    "volume": ("volume", "vol", "total traded quantity", "qty", "v"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d-%b-%Y", "%d %b %Y", "%Y/%m/%d")
TIME_FORMATS = ("%H:%M:%S", "%H:%M")
ONE_MINUTE = timedelta(minutes=1)


class CsvFormatError(ValueError):
    """A CSV file could not be read; `line` is the 1-based line of the first problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class OhlcvRow:
    line: int  # where it came from, for error messages downstream
    start: datetime  # aware
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int

    def to_bar(self, symbol: str, timeframe: str, tick_size: Decimal | None = None) -> Bar:
        def price(value: Decimal) -> Decimal:
            return value if tick_size is None else to_tick(value, tick_size, "price")

        return Bar(
            symbol=symbol,
            timeframe=timeframe,
            start=self.start,
            open=price(self.open),
            high=price(self.high),
            low=price(self.low),
            close=price(self.close),
            volume=self.volume,
        )


def _normalise(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("_", " ").strip().lower().split())


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def _parse_moment(text: str, tz: ZoneInfo) -> datetime:
    text = text.strip()
    if not text:
        raise ValueError("empty time")
    if text.isdigit() and len(text) >= 9:  # Unix seconds (or milliseconds)
        seconds = int(text) / (1000 if len(text) >= 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    day = _parse_date(text)
    if day is not None:
        return datetime.combine(day, time(0), tzinfo=tz)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        date_part, _, clock_part = text.partition(" ")
        day = _parse_date(date_part)
        if day is None:
            raise ValueError(f"unrecognised date/time {text!r}")
        moment = datetime.combine(day, _parse_clock(clock_part))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _parse_clock(text: str) -> time:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).time()  # noqa: DTZ007 - a clock only
        except ValueError:
            continue
    raise ValueError(f"unrecognised time of day {text!r}")


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"{column} is not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{column} must be a positive number, got {text!r}")
    return value


def parse_ohlcv_csv(
    text_or_file: str | bytes | IO[str], tz: str = "Asia/Kolkata"
) -> list[OhlcvRow]:
    """OHLCV rows from CSV text or an open text file, oldest first."""
    zone = ZoneInfo(tz)
    if isinstance(text_or_file, bytes):
        text_or_file = text_or_file.decode("utf-8-sig")
    stream = io.StringIO(text_or_file) if isinstance(text_or_file, str) else text_or_file
    reader = csv.reader(stream)
    header: list[str] | None = None
    for raw_header in reader:
        if any(cell.strip() for cell in raw_header):
            header = [_normalise(cell) for cell in raw_header]
            break
    if header is None:
        raise CsvFormatError(1, "the file is empty; expected a header row")
    header_line = reader.line_num

    date_col = _find(header, ("date",))
    clock_col = _find(header, ("time",))
    time_col = _find(header, TIME_COLUMNS)
    when: Callable[[list[str]], datetime] | None = None
    if date_col is not None and clock_col is not None:
        day_index, clock_index = date_col, clock_col

        def when(cells: list[str]) -> datetime:
            day = _parse_date(cells[day_index].strip())
            if day is None:
                raise ValueError(f"unrecognised date {cells[day_index]!r}")
            return datetime.combine(day, _parse_clock(cells[clock_index]), tzinfo=zone)

    elif time_col is not None:
        moment_index = time_col

        def when(cells: list[str]) -> datetime:
            return _parse_moment(cells[moment_index], zone)

    price_cols: dict[str, int] = {}
    missing: list[str] = [] if when is not None else ["date/datetime/timestamp"]
    for field in ("open", "high", "low", "close"):
        index = _find(header, COLUMN_ALIASES[field])
        if index is None:
            missing.append(field)
        else:
            price_cols[field] = index
    volume_col = _find(header, COLUMN_ALIASES["volume"])
    if when is None or missing:
        raise CsvFormatError(
            header_line, f"the header lacks {', '.join(missing)} (found: {', '.join(header)})"
        )

    rows: list[OhlcvRow] = []
    seen: dict[datetime, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        try:
            if len(cells) < len(header):
                raise ValueError(f"expected {len(header)} columns, got {len(cells)}")
            start = when(cells)
            prices = {field: _decimal(cells[i], field) for field, i in price_cols.items()}
            volume = 0
            if volume_col is not None and cells[volume_col].strip():
                volume_value = Decimal(cells[volume_col].replace(",", "").strip())
                if volume_value < 0 or volume_value != volume_value.to_integral_value():
                    raise ValueError(f"volume must be a whole number >= 0: {cells[volume_col]!r}")
                volume = int(volume_value)
        except (ValueError, InvalidOperation) as exc:
            raise CsvFormatError(line, str(exc)) from None
        low, high = prices["low"], prices["high"]
        if not (low <= min(prices["open"], prices["close"]) and high >= max(prices.values())):
            raise CsvFormatError(line, "need low <= open, close <= high")
        if start in seen:
            raise CsvFormatError(line, f"{start.isoformat()} repeats line {seen[start]}")
        seen[start] = line
        rows.append(
            OhlcvRow(
                line=line,
                start=start,
                open=prices["open"],
                high=high,
                low=low,
                close=prices["close"],
                volume=volume,
            )
        )
    rows.sort(key=lambda row: row.start)
    return rows


def default_directory() -> Path:
    configured = getattr(settings, "MARKET_CSV_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / ".local" / "market-csv"


class CsvProvider(MarketDataProvider):
    name: ClassVar[str] = "csv"

    def __init__(
        self,
        directory: str | Path | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_directory()
        self.now = now or (lambda: datetime.now(UTC))
        # path -> ((mtime_ns, size), rows): re-read a file only when it changes.
        self._files: dict[Path, tuple[tuple[int, int], list[OhlcvRow]]] = {}

    def path_for(self, ref: InstrumentRef, timeframe: str) -> Path:
        exchange, symbol = ref.exchange.upper(), ref.symbol.upper()
        candidates = [f"{exchange}_{symbol}_{timeframe}.csv"]
        if " " in symbol:
            candidates.append(f"{exchange}_{symbol.replace(' ', '_')}_{timeframe}.csv")
        for candidate in candidates:
            path = self.directory / candidate
            if path.is_file():
                return path
        return self.directory / candidates[0]

    def _rows(self, ref: InstrumentRef, timeframe: str) -> list[OhlcvRow]:
        path = self.path_for(ref, timeframe)
        try:
            stat = path.stat()
        except OSError:
            raise ProviderError(
                f"No CSV file for {ref.exchange}:{ref.symbol} {timeframe}: {path}",
                transient=False,
            ) from None
        version = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = parse_ohlcv_csv(handle)
        except CsvFormatError as exc:
            raise ProviderError(f"{path.name}: {exc}", transient=False) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderError(f"{path.name}: cannot read: {exc}", transient=False) from exc
        self._files[path] = (version, rows)
        return rows

    def history(
        self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime
    ) -> list[Bar]:
        """Bars from `<EXCHANGE>_<SYMBOL>_<timeframe>.csv` starting in [start, end), prices
        rounded to the instrument's tick size."""
        rows = self._rows(symbol, timeframe)
        return [
            row.to_bar(symbol.symbol, timeframe, symbol.tick_size)
            for row in rows
            if start <= row.start < end
        ]

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        """Replays each instrument's 1m file: the latest bar starting at or before `at` (default
        now) is the quote (`at` = that bar's start); open/high/low/volume accumulate over that
        IST day's bars up to it; `prev_close` is the previous day's last close in the file."""
        moment = at or self.now()
        quotes: list[Quote] = []
        missing: list[str] = []
        for ref in symbols:
            rows = self._rows(ref, "1m")
            upto = [row for row in rows if row.start <= moment]
            if not upto:
                missing.append(f"{ref.exchange}:{ref.symbol}")
                continue
            last = upto[-1]
            day = last.start.astimezone(IST).date()
            session = [row for row in upto if row.start.astimezone(IST).date() == day]
            earlier = [row for row in upto if row.start.astimezone(IST).date() < day]
            tick = ref.tick_size
            quotes.append(
                Quote(
                    symbol=ref.symbol,
                    exchange=ref.exchange,
                    last_price=to_tick(last.close, tick, "close"),
                    open=to_tick(session[0].open, tick, "open"),
                    high=to_tick(max(row.high for row in session), tick, "high"),
                    low=to_tick(min(row.low for row in session), tick, "low"),
                    prev_close=to_tick(
                        earlier[-1].close if earlier else session[0].open, tick, "close"
                    ),
                    volume=sum(row.volume for row in session),
                    at=last.start.astimezone(IST),
                    simulated=False,
                )
            )
        if missing:
            raise ProviderError(
                f"No 1m CSV bar at or before {moment.isoformat()} for {', '.join(missing)}",
                transient=False,
            )
        return quotes
