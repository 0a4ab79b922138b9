"""A portfolio's transactions as StockSense CSV (docs/portfolios-csv.md), streamed.

The file imports back unchanged: times are written in Indian time with their offset and
full precision, numbers without exponent or rounding, trade ids kept (so re-importing into
the same portfolio skips every row that has one).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from apps.portfolios.imports import STOCKSENSE_COLUMNS, cell_escape
from apps.portfolios.models import (
    AMOUNT_KINDS,
    RATIO_KINDS,
    TRADE_KINDS,
    Portfolio,
    Transaction,
)
from apps.portfolios.services import CHARGE_FIELDS, IST

_FIELDS = (
    "executed_at", "kind", "instrument__symbol", "instrument__exchange__code", "quantity",
    "price", "amount", "ratio_from", "ratio_to", *CHARGE_FIELDS, "notes", "external_id",
)  # fmt: skip


class _Line:
    """csv.writer target that hands back the line it was given (Django's streaming recipe)."""

    def write(self, value: str) -> str:
        return value


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _optional(value: Decimal) -> str:
    return _number(value) if value else ""


def _cells(row: dict[str, Any]) -> list[str]:
    kind = row["kind"]
    trade = kind in TRADE_KINDS
    ratio = f"{row['ratio_from']}:{row['ratio_to']}" if kind in RATIO_KINDS else ""
    return [
        row["executed_at"].astimezone(IST).isoformat(),
        kind,
        row["instrument__symbol"] or "",
        row["instrument__exchange__code"] or "",
        _number(row["quantity"]) if trade else _optional(row["quantity"]),
        _number(row["price"]) if trade else _optional(row["price"]),
        _number(row["amount"]) if kind in AMOUNT_KINDS else _optional(row["amount"]),
        ratio,
        *(_optional(row[name]) for name in CHARGE_FIELDS),
        cell_escape(row["notes"]),
        cell_escape(row["external_id"]),
    ]


def transactions_csv_lines(*, portfolio: Portfolio) -> Iterator[str]:
    """The header, then one line per transaction in time order, read in chunks."""
    writer = csv.writer(_Line())
    # The BOM makes Excel read the file as UTF-8 (notes in Hindi, ₹); imports drop it.
    yield "\ufeff" + writer.writerow(STOCKSENSE_COLUMNS)
    rows = (
        Transaction.objects.filter(portfolio=portfolio)
        .order_by("executed_at", "id")
        .values(*_FIELDS)
    )
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(_cells(row))


def transactions_csv_filename(*, portfolio: Portfolio, today: date) -> str:
    return f"{slugify(portfolio.name) or 'portfolio'}-transactions-{today:%Y-%m-%d}.csv"


def transactions_csv_response(*, portfolio: Portfolio, today: date) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        transactions_csv_lines(portfolio=portfolio), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, transactions_csv_filename(portfolio=portfolio, today=today)
    )
    return response
