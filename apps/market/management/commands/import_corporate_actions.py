"""Import splits and bonus issues: python manage.py import_corporate_actions --csv FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market import selectors, services
from apps.market.management.csv_input import csv_parse_or_fail


class Command(BaseCommand):
    help = (
        "Upsert splits and bonus issues from a CSV (columns: symbol, exchange (optional), "
        "kind (split|bonus), ex_date (YYYY-MM-DD), ratio (e.g. 1:5), note (optional)). Every "
        "row is validated first; if any is bad nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, type=Path, help="Path to the CSV file")
        parser.add_argument(
            "--exchange", default="NSE", help="Exchange for rows without one (default NSE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"]
        exchange = selectors.exchange_get(code=options["exchange"])
        if exchange is None:
            raise CommandError(f"Unknown exchange {options['exchange']!r}.")
        rows = csv_parse_or_fail(
            path,
            lambda handle: services.corporate_actions_csv_parse(
                handle, default_exchange=exchange.code
            ),
        )
        result = services.corporate_actions_import(rows=rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Corporate actions: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )
