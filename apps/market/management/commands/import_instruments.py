"""Import NSE's equity list: python manage.py import_instruments --csv EQUITY_L.csv"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market import selectors, services
from apps.market.management.csv_input import csv_parse_or_fail


class Command(BaseCommand):
    help = (
        "Upsert equities (series EQ and BE) from NSE's equity list CSV. Every row is "
        "validated first; if any is bad nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, type=Path, help="Path to EQUITY_L.csv")
        parser.add_argument("--exchange", default="NSE", help="Exchange code (default NSE)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"]
        exchange = selectors.exchange_get(code=options["exchange"])
        if exchange is None:
            raise CommandError(f"Unknown exchange {options['exchange']!r}.")
        parsed = csv_parse_or_fail(path, services.nse_equity_csv_parse)

        result = services.instruments_import(exchange=exchange, rows=parsed.rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"{exchange.code}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {parsed.skipped} skipped (other series)."
            )
        )
