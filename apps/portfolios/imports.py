"""CSV import of transactions: the StockSense format and Zerodha Console tradebooks.

The format is described in docs/portfolios-csv.md. A file is parsed completely (every bad
value is reported with its line and column), then stored by `services.transactions_add_many`:
one FIFO replay of the merged history under a row lock on the portfolio, every new row or
none. Rows whose trade id is already in the portfolio, or repeats earlier in the file, are
skipped, so importing the same tradebook twice stores nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.market.models import Instrument, InstrumentKind
from apps.portfolios.models import (
    AMOUNT_KINDS,
    INSTRUMENT_KINDS,
    RATIO_KINDS,
    TRADE_KINDS,
    Portfolio,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from apps.portfolios.services import (
    CHARGE_FIELDS,
    IST,
    TransactionBatchInvalid,
    TransactionData,
    executed_at_from_date,
    transactions_add_many,
)

MAX_REPORTED_ERRORS = 200
# Upload cap, in bytes per allowed row: generous for ~150-byte rows with long notes.
MAX_BYTES_PER_ROW = 512

STOCKSENSE = "stocksense"
ZERODHA = "zerodha"
FORMATS = (STOCKSENSE, ZERODHA)
SOURCES = {STOCKSENSE: TransactionSource.CSV, ZERODHA: TransactionSource.ZERODHA}

STOCKSENSE_COLUMNS = (
    "date", "kind", "symbol", "exchange", "quantity", "price", "amount", "ratio",
    *CHARGE_FIELDS, "notes", "trade_id",
)  # fmt: skip
ZERODHA_COLUMNS = (
    "symbol", "isin", "trade_date", "exchange", "segment", "series", "trade_type", "auction",
    "quantity", "price", "trade_id", "order_id", "order_execution_time",
)  # fmt: skip
REQUIRED = {
    STOCKSENSE: ("date", "kind"),
    ZERODHA: ("symbol", "trade_date", "exchange", "trade_type", "quantity", "price", "trade_id"),
}
EXCHANGES = ("NSE", "BSE")
EQUITY_SEGMENTS = frozenset({"", "EQ", "EQUITY"})
KINDS = tuple(TransactionKind.values)
QUANTITY_PLACES = 6
MONEY_PLACES = 4
NOTES_MAX = 500
TRADE_ID_MAX = 64
RATIO_MAX = 2**31 - 1
# Where the service's field names are columns of another name in each format.
STOCKSENSE_COLUMN_OF = {
    "executed_at": "date", "instrument": "symbol", "ratio_from": "ratio", "ratio_to": "ratio",
    "external_id": "trade_id",
}  # fmt: skip
ZERODHA_COLUMN_OF = {
    "executed_at": "trade_date", "instrument": "symbol", "kind": "trade_type",
    "external_id": "trade_id",
}  # fmt: skip

# Spreadsheets run a cell starting with one of these as a formula; exports prefix such a
# text cell with an apostrophe (OWASP "CSV injection") and imports take it off again.
FORMULA_RE = re.compile(r"^'*[=+\-@\t\r]")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ZERODHA_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
ZERODHA_TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S")


def cell_escape(text: str) -> str:
    return "'" + text if FORMULA_RE.match(text) else text


def cell_unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and FORMULA_RE.match(text[1:]) else text


@dataclass(frozen=True, slots=True)
class LineError:
    line: int  # as in the file: the header is line 1
    field: str  # the column, as named in the file's header ("" for the whole line)
    message: str


@dataclass(frozen=True, slots=True)
class SkippedLine:
    line: int
    reason: str


@dataclass(slots=True)
class ImportRow:
    """One transaction read from line `line`: `fields` are `services.TransactionData`'s,
    `columns` names the file's column for a field whose name differs."""

    line: int
    fields: dict[str, Any]
    columns: dict[str, str]
    symbol: str = ""
    exchange: str = ""
    isin: str = ""


@dataclass(slots=True)
class ParsedFile:
    format: str
    rows: list[ImportRow]
    skipped: list[SkippedLine] = field(default_factory=list)

    @property
    def source(self) -> str:
        return SOURCES[self.format]


@dataclass(frozen=True, slots=True)
class ImportResult:
    format: str
    imported: int
    skipped_duplicates: int
    skipped_other: list[SkippedLine]
    dry_run: bool


class ImportFailed(Exception):
    """Nothing was imported: `detail` says why, `errors` lists every bad value by line."""

    def __init__(self, detail: str, errors: Sequence[LineError] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = sorted(errors, key=lambda error: error.line)


def import_max_bytes() -> int:
    return int(settings.PORTFOLIO_IMPORT_MAX_ROWS) * MAX_BYTES_PER_ROW


# --- reading the file -------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")  # drops the BOM Excel writes
    except UnicodeDecodeError:
        raise ImportFailed(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells) for every non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailed(
            _("Line %(line)d is not valid CSV (%(error)s).") % {"line": line, "error": exc},
            [LineError(line, "", _("Not valid CSV: %(error)s") % {"error": exc})],
        ) from None


def _header(cells: list[str], line: int, file_format: str | None) -> tuple[str, dict[str, int]]:
    names = [re.sub(r"[\s\-]+", "_", cell.strip().lower()) for cell in cells]
    if file_format is None:
        present = set(names)
        if {"trade_date", "trade_type"} <= present:
            file_format = ZERODHA
        elif {"date", "kind"} <= present:
            file_format = STOCKSENSE
        else:
            raise ImportFailed(
                _(
                    "Unrecognised header: expected the StockSense columns (date, kind, symbol, "
                    "…) or a Zerodha tradebook (symbol, trade_date, trade_type, …)."
                ),
                [LineError(line, "", _("Unrecognised header."))],
            )
    known = STOCKSENSE_COLUMNS + ("charges",) if file_format == STOCKSENSE else ZERODHA_COLUMNS
    columns: dict[str, int] = {}
    errors = []
    for index, name in enumerate(names):
        if name in columns:
            errors.append(LineError(line, name, _("This column appears twice.")))
        elif name in known:  # unknown columns (a broker's extras) are ignored
            columns[name] = index
    if "charges" in columns:
        if "other_charges" in columns:
            errors.append(
                LineError(line, "charges", _("Use either charges or other_charges, not both."))
            )
        columns["other_charges"] = columns.pop("charges")
    for name in REQUIRED[file_format]:
        if name not in columns:
            errors.append(LineError(line, name, _("This column is missing from the header.")))
    if errors:
        raise ImportFailed(_("The header line is not valid; nothing was imported."), errors)
    return file_format, columns


def transactions_csv_parse(*, content: bytes, file_format: str | None = None) -> ParsedFile:
    """Every transaction of the file, with instruments resolved (one query), or ImportFailed
    listing every bad value. `file_format` None detects it from the header."""
    records = _records(_decode(content))
    first = next(records, None)
    if first is None:
        raise ImportFailed(_("The file is empty."))
    file_format, columns = _header(first[1], first[0], file_format)
    parsed = ParsedFile(format=file_format, rows=[])
    errors: list[LineError] = []
    width = len(first[1])
    max_rows = int(settings.PORTFOLIO_IMPORT_MAX_ROWS)
    count = 0
    for line, cells in records:
        count += 1
        if count > max_rows:
            raise ImportFailed(
                _("The file has more than %(max)d transactions; split it into smaller files.")
                % {"max": max_rows}
            )
        if len(cells) > width:
            errors.append(
                LineError(
                    line,
                    "",
                    _(
                        "This line has %(cells)d values but the header has %(columns)d; quote "
                        'numbers written with thousands separators ("1,234.50").'
                    )
                    % {"cells": len(cells), "columns": width},
                )
            )
            continue
        values = {name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()}
        row = _Row(line, values, errors)
        if file_format == STOCKSENSE:
            _stocksense_row(row, parsed)
        else:
            _zerodha_row(row, parsed)
    if count == 0:
        raise ImportFailed(_("The file has a header but no transactions."))
    _resolve_instruments(parsed.rows, errors, by_isin=file_format == ZERODHA)
    if errors:
        raise ImportFailed(
            _("%(count)d values are not valid; nothing was imported.") % {"count": len(errors)},
            errors,
        )
    return parsed


# --- one line ---------------------------------------------------------------------------------


class _Row:
    """The values of one line, and the errors found in them."""

    def __init__(self, line: int, values: dict[str, str], errors: list[LineError]) -> None:
        self.line = line
        self.values = values
        self.errors = errors
        self.failed = False

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str, message: str) -> None:
        self.failed = True
        self.errors.append(LineError(self.line, name, message))

    def decimal(self, name: str, *, places: int, required: bool, positive: bool) -> Decimal:
        raw = self.text(name).replace(",", "")
        if not raw:
            if required:
                self.error(name, _("A value is required."))
            return Decimal(0)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.error(name, _("“%(value)s” is not a number.") % {"value": self.text(name)})
            return Decimal(0)
        if not value.is_finite():
            self.error(name, _("“%(value)s” is not a number.") % {"value": self.text(name)})
        elif value < 0 or (positive and value == 0):
            self.error(
                name, _("Must be more than zero.") if positive else _("Must not be negative.")
            )
        elif value >= Decimal(10) ** (20 - places):
            self.error(name, _("The number is too large."))
        else:
            exact = value.quantize(Decimal(1).scaleb(-places))
            if exact == value:
                return exact
            self.error(name, _("At most %(places)d decimal places.") % {"places": places})
        return Decimal(0)

    def unused(self, name: str, kind: str) -> None:
        raw = self.text(name).replace(",", "")
        try:
            blank = not raw or Decimal(raw) == 0
        except InvalidOperation:
            blank = False
        if not blank:
            self.error(name, _("Leave this empty for a %(kind)s.") % {"kind": kind})

    def limited(self, name: str, limit: int) -> str:
        value = cell_unescape(self.text(name))
        if len(value) > limit:
            self.error(name, _("At most %(limit)d characters.") % {"limit": limit})
        return value


def _blank_fields() -> dict[str, Any]:
    zero = Decimal(0)
    return {
        "kind": "", "instrument": None, "executed_at": None, "quantity": zero,
        "price": zero, "amount": zero, "ratio_from": None, "ratio_to": None,
        **dict.fromkeys(CHARGE_FIELDS, zero), "notes": "", "external_id": "",
    }  # fmt: skip


def _not_future(row: _Row, name: str, when: datetime, *, date_only: bool) -> datetime:
    # A bare date of today is 15:30, which may still be ahead: the service refuses that one
    # ("cannot be in the future") on the same line.
    now = timezone.now()
    today = timezone.localdate(now, IST)
    if (when.astimezone(IST).date() > today) if date_only else (when > now):
        row.error(name, _("The date is in the future."))
    return when


def _stocksense_when(row: _Row) -> datetime | None:
    raw = row.text("date")
    if not raw:
        row.error("date", _("A value is required."))
        return None
    try:
        if DATE_RE.match(raw):
            day = date.fromisoformat(raw)
            return _not_future(row, "date", executed_at_from_date(day), date_only=True)
        when = datetime.fromisoformat(raw)
    except ValueError:
        row.error(
            "date",
            _("“%(value)s” is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.") % {"value": raw},
        )
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=IST)
    return _not_future(row, "date", when, date_only=False)


def _stocksense_row(row: _Row, parsed: ParsedFile) -> None:
    fields = _blank_fields()
    kind = row.text("kind").lower()
    if kind not in KINDS:
        row.error(
            "kind",
            _("Unknown kind “%(kind)s”: use one of %(kinds)s.")
            % {"kind": row.text("kind"), "kinds": ", ".join(KINDS)},
        )
    fields["kind"] = kind
    fields["executed_at"] = _stocksense_when(row)
    symbol = row.text("symbol").upper()
    exchange = row.text("exchange").upper() or "NSE"
    if exchange not in EXCHANGES:
        row.error("exchange", _("Use NSE or BSE."))
    if kind in INSTRUMENT_KINDS and not symbol:
        row.error("symbol", _("A %(kind)s needs a symbol.") % {"kind": kind})
    elif kind in AMOUNT_KINDS and kind != TransactionKind.DIVIDEND and symbol:
        row.error("symbol", _("Leave this empty for a %(kind)s.") % {"kind": kind})
    if kind in TRADE_KINDS:
        fields["quantity"] = row.decimal(
            "quantity", places=QUANTITY_PLACES, required=True, positive=True
        )
        fields["price"] = row.decimal("price", places=MONEY_PLACES, required=True, positive=True)
        for name in CHARGE_FIELDS:
            fields[name] = row.decimal(name, places=MONEY_PLACES, required=False, positive=False)
    elif kind in KINDS:
        for name in ("quantity", "price", *CHARGE_FIELDS):
            row.unused(name, kind)
    if kind in AMOUNT_KINDS:
        fields["amount"] = row.decimal("amount", places=MONEY_PLACES, required=True, positive=True)
    elif kind in KINDS:
        row.unused("amount", kind)
    if kind in RATIO_KINDS:
        fields["ratio_from"], fields["ratio_to"] = _ratio(row)
    elif row.text("ratio"):
        row.error("ratio", _("Leave this empty for a %(kind)s.") % {"kind": kind})
    fields["notes"] = row.limited("notes", NOTES_MAX)
    fields["external_id"] = row.limited("trade_id", TRADE_ID_MAX)
    if not row.failed:
        instrument = symbol if kind in INSTRUMENT_KINDS else ""
        parsed.rows.append(
            ImportRow(row.line, fields, STOCKSENSE_COLUMN_OF, symbol=instrument, exchange=exchange)
        )


def _ratio(row: _Row) -> tuple[int | None, int | None]:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", row.text("ratio"))
    if match:
        first, second = int(match[1]), int(match[2])
        if 1 <= first <= RATIO_MAX and 1 <= second <= RATIO_MAX:
            return first, second
    row.error("ratio", _("Write the ratio as two whole numbers, e.g. 1:5."))
    return None, None


def _zerodha_when(row: _Row) -> datetime | None:
    timed = row.text("order_execution_time")
    if timed:
        when: datetime | None
        try:
            when = datetime.fromisoformat(timed)
        except ValueError:
            when = _strptime(timed, ZERODHA_TIME_FORMATS)
        if when is None:
            row.error(
                "order_execution_time", _("“%(value)s” is not a date and time.") % {"value": timed}
            )
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=IST)  # Console writes Indian time without an offset
        return _not_future(row, "order_execution_time", when, date_only=False)
    raw = row.text("trade_date")
    found = _strptime(raw, ZERODHA_DATE_FORMATS)
    if found is None:
        row.error("trade_date", _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": raw})
        return None
    return _not_future(row, "trade_date", executed_at_from_date(found.date()), date_only=True)


def _strptime(raw: str, formats: Sequence[str]) -> datetime | None:
    for pattern in formats:
        try:
            return datetime.strptime(raw, pattern).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


def _zerodha_row(row: _Row, parsed: ParsedFile) -> None:
    segment = row.text("segment").upper()
    if segment not in EQUITY_SEGMENTS:
        parsed.skipped.append(
            SkippedLine(
                row.line,
                _("%(segment)s segment: only equity trades are imported.")
                % {"segment": row.text("segment")},
            )
        )
        return
    fields = _blank_fields()
    trade_type = row.text("trade_type").lower()
    if trade_type not in TRADE_KINDS:
        row.error("trade_type", _("Use buy or sell."))
    fields["kind"] = trade_type
    fields["executed_at"] = _zerodha_when(row)
    when_column = "order_execution_time" if row.text("order_execution_time") else "trade_date"
    exchange = row.text("exchange").upper()
    if exchange not in EXCHANGES:
        row.error("exchange", _("Use NSE or BSE."))
    symbol = row.text("symbol").upper()
    if not symbol:
        row.error("symbol", _("A value is required."))
    fields["quantity"] = row.decimal(
        "quantity", places=QUANTITY_PLACES, required=True, positive=True
    )
    fields["price"] = row.decimal("price", places=MONEY_PLACES, required=True, positive=True)
    fields["external_id"] = row.limited("trade_id", TRADE_ID_MAX)
    if not fields["external_id"]:
        row.error("trade_id", _("A value is required."))
    if not row.failed:
        parsed.rows.append(
            ImportRow(
                row.line,
                fields,
                {**ZERODHA_COLUMN_OF, "executed_at": when_column},
                symbol=symbol,
                exchange=exchange,
                isin=row.text("isin").upper(),
            )
        )


def _resolve_instruments(rows: list[ImportRow], errors: list[LineError], *, by_isin: bool) -> None:
    """Sets `instrument` on every row that names one, in one query. A Zerodha symbol the
    exchange renamed is found by its ISIN, on the same exchange if listed there."""
    wanted = [row for row in rows if row.symbol]
    if not wanted:
        return
    pairs = {(row.exchange, row.symbol) for row in wanted}
    isins = {row.isin for row in wanted if row.isin} if by_isin else set()
    condition = Q(exchange__code__in={e for e, _ in pairs}, symbol__in={s for _, s in pairs})
    if isins:
        condition |= Q(isin__in=isins)
    by_symbol: dict[tuple[str, str], Instrument] = {}
    by_isin_code: dict[tuple[str, str], Instrument] = {}
    # NSE before BSE, so an ISIN listed on both resolves to NSE from any exchange.
    for instrument in (
        Instrument.objects.filter(condition)
        .select_related("exchange")
        .order_by("-exchange__code", "id")
    ):
        code = instrument.exchange.code
        by_symbol[(code, instrument.symbol)] = instrument
        if instrument.isin and instrument.kind != InstrumentKind.INDEX:
            by_isin_code.setdefault((code, instrument.isin), instrument)
            by_isin_code.setdefault(("", instrument.isin), instrument)
    for row in wanted:
        found = by_symbol.get((row.exchange, row.symbol))
        if found is None and row.isin:
            found = by_isin_code.get((row.exchange, row.isin)) or by_isin_code.get(("", row.isin))
        if found is None:
            message = _("Unknown symbol %(symbol)s on %(exchange)s.")
        elif found.kind == InstrumentKind.INDEX:
            message = _("%(symbol)s is an index; a portfolio holds stocks and ETFs only.")
        else:
            row.fields["instrument"] = found
            continue
        values = {"symbol": row.symbol, "exchange": row.exchange}
        errors.append(LineError(row.line, "symbol", message % values))


# --- storing ----------------------------------------------------------------------------------


class _DryRun(Exception):
    """Rolls back a dry run after the service stored (and so fully checked) the batch."""


def _service_errors(exc: TransactionBatchInvalid, rows: Sequence[ImportRow]) -> list[LineError]:
    errors: list[LineError] = []
    for index, by_field in exc.by_entry.items():
        # None: the batch as a whole, e.g. a stored later sell it would leave uncovered.
        row = rows[index] if index is not None else None
        for name, messages in by_field.items():
            column = (row.columns if row is not None else {}).get(name, name)
            errors.extend(LineError(row.line if row else 0, column, m) for m in messages)
    return errors


def transactions_import(
    *, portfolio: Portfolio, rows: Sequence[ImportRow], source: str, dry_run: bool = False
) -> tuple[int, int]:
    """Stores `rows` in `portfolio`, all or nothing; returns (imported, skipped duplicates).

    A row whose trade id is already in the portfolio, or earlier in `rows`, is skipped; the
    rest go to `services.transactions_add_many` (one replay of the merged history under the
    portfolio's row lock, snapshots marked stale and rebuilt after commit). Its refusal
    becomes ImportFailed with the lines. `dry_run` runs all of it, then rolls back."""
    fresh: list[ImportRow] = []
    try:
        with transaction.atomic():
            # Locked before the duplicate check so a concurrent import cannot slip in between.
            locked = Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
            if locked is None:  # deleted since the caller loaded it
                raise Http404
            seen = set(
                Transaction.objects.filter(portfolio=locked)
                .exclude(external_id="")
                .values_list("external_id", flat=True)
            )
            for row in rows:
                external_id = row.fields["external_id"]
                if not external_id or external_id not in seen:
                    seen.add(external_id)
                    fresh.append(row)
            try:
                transactions_add_many(
                    portfolio=locked,
                    entries=[TransactionData(**row.fields) for row in fresh],
                    source=source,
                )
            except TransactionBatchInvalid as exc:
                raise ImportFailed(
                    _(
                        "The portfolio's history cannot take these transactions; nothing was "
                        "imported."
                    ),
                    _service_errors(exc, fresh),
                ) from exc
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return len(fresh), len(rows) - len(fresh)


def transactions_file_import(
    *, portfolio: Portfolio, content: bytes, file_format: str | None = None, dry_run: bool = False
) -> ImportResult:
    """Parses an uploaded CSV file and imports it into `portfolio` (see the module docstring).
    Raises ImportFailed, with every bad line, when anything is wrong."""
    parsed = transactions_csv_parse(content=content, file_format=file_format)
    imported, duplicates = transactions_import(
        portfolio=portfolio, rows=parsed.rows, source=parsed.source, dry_run=dry_run
    )
    return ImportResult(
        format=parsed.format,
        imported=imported,
        skipped_duplicates=duplicates,
        skipped_other=parsed.skipped,
        dry_run=dry_run,
    )
