"""Writes for market reference data: importing the NSE equity list."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction

from apps.market.models import (
    CorporateAction,
    CorporateActionKind,
    Exchange,
    Instrument,
    InstrumentKind,
    isin_is_valid,
)

# Series that are ordinary equity: EQ (rolling settlement) and BE (trade-for-trade).
EQUITY_SERIES = frozenset({"EQ", "BE"})
REQUIRED_COLUMNS = ("SYMBOL", "NAME OF COMPANY", "SERIES", "MARKET LOT", "ISIN NUMBER")
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9&_.\-]*$")
SYMBOL_MAX = Instrument._meta.get_field("symbol").max_length or 32
NAME_MAX = Instrument._meta.get_field("name").max_length or 200
IMPORT_FIELDS = ("name", "isin", "lot_size", "kind", "active")
BATCH_SIZE = 500


@dataclass(frozen=True)
class InstrumentRow:
    line: int
    symbol: str
    name: str
    isin: str
    lot_size: int


@dataclass
class ParsedCsv:
    rows: list[InstrumentRow] = field(default_factory=list)
    skipped: int = 0  # rows of other series (SM, ST, GB, ...)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


class CsvRowError(ValueError):
    """One or more lines of the file are invalid; `errors` is [(line number, problem)]."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"line {line}: {problem}" for line, problem in errors))


def _normalise_header(name: str) -> str:
    return " ".join(name.split()).upper()


def nse_equity_csv_parse(lines: Iterable[str]) -> ParsedCsv:
    """Parse and validate NSE's equity list (EQUITY_L.csv) without touching the database.

    Headers match whatever their case and spacing. Every row is checked; if any is bad,
    `CsvRowError` lists them all by line number (the header is line 1).
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise CsvRowError([(1, "the file is empty; expected a header row.")])
    columns = [_normalise_header(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CsvRowError([(1, f"missing column(s): {', '.join(missing)}.")])
    index = {name: columns.index(name) for name in REQUIRED_COLUMNS}

    parsed = ParsedCsv()
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            errors.append((line, f"expected {len(columns)} fields, found {len(record)}."))
            continue
        cell = {name: record[i].strip() for name, i in index.items()}
        if cell["SERIES"].upper() not in EQUITY_SERIES:
            parsed.skipped += 1
            continue
        problems: list[str] = []
        symbol = cell["SYMBOL"].upper()
        if not symbol:
            problems.append("SYMBOL is empty")
        elif len(symbol) > SYMBOL_MAX or not SYMBOL_RE.match(symbol):
            problems.append(f"SYMBOL {symbol!r} is not a valid NSE symbol")
        elif symbol in seen:
            problems.append(f"SYMBOL {symbol!r} already appears on line {seen[symbol]}")
        name = " ".join(cell["NAME OF COMPANY"].split())
        if not name:
            problems.append("NAME OF COMPANY is empty")
        elif len(name) > NAME_MAX:
            problems.append(f"NAME OF COMPANY is longer than {NAME_MAX} characters")
        isin = cell["ISIN NUMBER"].upper()
        if not isin_is_valid(isin):
            problems.append(f"ISIN NUMBER {cell['ISIN NUMBER']!r} is not a valid ISIN")
        lot_text = cell["MARKET LOT"]
        lot_size = int(lot_text) if lot_text.isdigit() else 0
        if lot_size < 1:
            problems.append(f"MARKET LOT {lot_text!r} is not a positive whole number")
        if problems:
            errors.append((line, "; ".join(problems) + "."))
            continue
        seen[symbol] = line
        parsed.rows.append(
            InstrumentRow(line=line, symbol=symbol, name=name, isin=isin, lot_size=lot_size)
        )
    if errors:
        raise CsvRowError(errors)
    return parsed


@transaction.atomic
def instruments_import(*, exchange: Exchange, rows: list[InstrumentRow]) -> ImportResult:
    """Upsert equities on (exchange, symbol). Sector, industry and tick size are kept as they
    are (the NSE list does not carry them); re-importing the same rows changes nothing."""
    existing = {
        instrument.symbol: instrument
        for instrument in Instrument.objects.select_for_update().filter(
            exchange=exchange, symbol__in=[row.symbol for row in rows]
        )
    }
    to_create: list[Instrument] = []
    to_update: list[Instrument] = []
    for row in rows:
        wanted = {
            "name": row.name,
            "isin": row.isin,
            "lot_size": row.lot_size,
            "kind": InstrumentKind.EQUITY.value,
            "active": True,
        }
        instrument = existing.get(row.symbol)
        if instrument is None:
            to_create.append(Instrument(exchange=exchange, symbol=row.symbol, **wanted))
            continue
        if any(getattr(instrument, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(instrument, name, value)
            to_update.append(instrument)
    Instrument.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Instrument.objects.bulk_update(to_update, IMPORT_FIELDS, batch_size=BATCH_SIZE)
    return ImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rows) - len(to_create) - len(to_update),
    )


# -- corporate actions ------------------------------------------------------------------------

CORPORATE_ACTION_COLUMNS = ("SYMBOL", "KIND", "EX_DATE", "RATIO")
RATIO_RE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
ACTION_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d-%b-%Y", "%d/%m/%Y")
NOTE_MAX = CorporateAction._meta.get_field("note").max_length or 200


@dataclass(frozen=True)
class CorporateActionRow:
    line: int
    instrument: Instrument
    kind: str
    ex_date: date
    ratio_from: int
    ratio_to: int
    note: str


def _action_date(text: str) -> date | None:
    for date_format in ACTION_DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a plain date)
        except ValueError:
            continue
    return None


def corporate_actions_csv_parse(
    lines: Iterable[str], *, default_exchange: str = "NSE"
) -> list[CorporateActionRow]:
    """Parse and validate a corporate actions CSV (columns: symbol, exchange (optional),
    kind (split|bonus), ex_date, ratio `a:b`, note (optional); any case and order).

    Instruments are looked up (one query). Every row is checked; `CsvRowError` lists all bad
    rows by line number (the header is line 1).
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise CsvRowError([(1, "the file is empty; expected a header row.")])
    columns = [_normalise_header(h).replace(" ", "_").replace("-", "_") for h in header]
    missing = [c.lower() for c in CORPORATE_ACTION_COLUMNS if c not in columns]
    if missing:
        raise CsvRowError([(1, f"missing column(s): {', '.join(missing)}.")])
    index = {
        name: columns.index(name)
        for name in (*CORPORATE_ACTION_COLUMNS, "EXCHANGE", "NOTE")
        if name in columns
    }
    records: list[tuple[int, dict[str, str]]] = []
    errors: list[tuple[int, str]] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(columns):
            found = f"expected {len(columns)} fields, found {len(record)}."
            errors.append((reader.line_num, found))
            continue
        records.append((reader.line_num, {name: record[i].strip() for name, i in index.items()}))

    keys = {
        ((cell.get("EXCHANGE") or default_exchange).upper(), cell["SYMBOL"].upper())
        for _, cell in records
    }
    instruments = {
        (instrument.exchange.code, instrument.symbol.upper()): instrument
        for instrument in Instrument.objects.select_related("exchange").filter(
            symbol__in={symbol for _, symbol in keys}
        )
    }
    rows: list[CorporateActionRow] = []
    seen: dict[tuple[int, str, date], int] = {}
    for line, cell in records:
        problems: list[str] = []
        exchange = (cell.get("EXCHANGE") or default_exchange).upper()
        instrument = instruments.get((exchange, cell["SYMBOL"].upper()))
        if instrument is None:
            problems.append(f"unknown instrument {exchange}:{cell['SYMBOL']!r}")
        kind = cell["KIND"].lower()
        if kind not in CorporateActionKind.values:
            problems.append(f"kind {cell['KIND']!r} is not one of split, bonus")
        ex_date = _action_date(cell["EX_DATE"])
        if ex_date is None:
            problems.append(f"ex_date {cell['EX_DATE']!r} is not a date (YYYY-MM-DD)")
        ratio = RATIO_RE.match(cell["RATIO"])
        ratio_from = int(ratio.group(1)) if ratio else 0
        ratio_to = int(ratio.group(2)) if ratio else 0
        if ratio_from < 1 or ratio_to < 1:
            problems.append(f"ratio {cell['RATIO']!r} is not two positive whole numbers like 1:5")
        elif kind == CorporateActionKind.SPLIT and ratio_from == ratio_to:
            problems.append(f"ratio {cell['RATIO']!r} does not change the share count")
        note = " ".join(cell.get("NOTE", "").split())
        if len(note) > NOTE_MAX:
            problems.append(f"note is longer than {NOTE_MAX} characters")
        if not problems and instrument is not None and ex_date is not None:
            key = (instrument.pk, kind, ex_date)
            if key in seen:
                problems.append(f"the same {kind} of {instrument} is on line {seen[key]}")
            seen[key] = line
        if problems or instrument is None or ex_date is None:
            errors.append((line, "; ".join(problems) + "."))
            continue
        rows.append(
            CorporateActionRow(
                line=line,
                instrument=instrument,
                kind=kind,
                ex_date=ex_date,
                ratio_from=ratio_from,
                ratio_to=ratio_to,
                note=note,
            )
        )
    if errors:
        raise CsvRowError(sorted(errors))
    return rows


@transaction.atomic
def corporate_actions_import(*, rows: list[CorporateActionRow]) -> ImportResult:
    """Upsert on (instrument, kind, ex_date); re-importing the same rows changes nothing."""
    existing = {
        (action.instrument_id, action.kind, action.ex_date): action
        for action in CorporateAction.objects.select_for_update().filter(
            instrument__in={row.instrument.pk for row in rows}
        )
    }
    created = updated = 0
    for row in rows:
        wanted = {"ratio_from": row.ratio_from, "ratio_to": row.ratio_to, "note": row.note}
        action = existing.get((row.instrument.pk, row.kind, row.ex_date))
        if action is None:
            CorporateAction.objects.create(
                instrument=row.instrument, kind=row.kind, ex_date=row.ex_date, **wanted
            )
            created += 1
        elif any(getattr(action, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(action, name, value)
            action.save(update_fields=list(wanted))
            updated += 1
    return ImportResult(created=created, updated=updated, unchanged=len(rows) - created - updated)
