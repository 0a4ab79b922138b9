"""Import NSE's equity list: python manage.py import_instruments --csv EQUITY_L.csv"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market import selectors, services

MAX_ERRORS_SHOWN = 50


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
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                parsed = services.nse_equity_csv_parse(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}.") from exc
        except services.CsvRowError as exc:
            for line, problem in exc.errors[:MAX_ERRORS_SHOWN]:
                self.stderr.write(f"{path}, line {line}: {problem}")
            if len(exc.errors) > MAX_ERRORS_SHOWN:
                self.stderr.write(f"... and {len(exc.errors) - MAX_ERRORS_SHOWN} more.")
            raise CommandError(
                f"{len(exc.errors)} invalid line(s) in {path}; nothing was imported."
            ) from exc

        result = services.instruments_import(exchange=exchange, rows=parsed.rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"{exchange.code}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {parsed.skipped} skipped (other series)."
            )
        )
