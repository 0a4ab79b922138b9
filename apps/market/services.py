"""Writes for market reference data: importing the NSE equity list."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from apps.market.models import Exchange, Instrument, InstrumentKind, isin_is_valid

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
