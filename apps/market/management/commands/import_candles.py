"""Import OHLCV bars from a CSV file:

python manage.py import_candles --csv RELIANCE.csv --symbol RELIANCE --timeframe 1d
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market import history, selectors
from apps.market.management.csv_input import csv_parse_or_fail
from apps.market.models import DataSource, Timeframe


class Command(BaseCommand):
    help = (
        "Import OHLCV bars of one instrument from a CSV file (header: date/datetime/timestamp, "
        "open, high, low, close, volume; any case or order). Naive times are Asia/Kolkata. "
        "Every row is validated first; if any is bad nothing is imported. Existing bars at the "
        "same times are replaced, so re-importing a file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, type=Path, help="Path to the CSV file")
        parser.add_argument("--symbol", required=True, help="Instrument symbol, e.g. RELIANCE")
        parser.add_argument("--exchange", default="NSE", help="Exchange code (default NSE)")
        parser.add_argument(
            "--timeframe", required=True, help=f"One of {', '.join(Timeframe.values)}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["csv"]
        timeframe = str(options["timeframe"]).strip()
        if timeframe not in Timeframe.values:
            raise CommandError(
                f"Unknown timeframe {timeframe!r}; use one of {', '.join(Timeframe.values)}."
            )
        exchange = selectors.exchange_get(code=options["exchange"])
        if exchange is None:
            raise CommandError(f"Unknown exchange {options['exchange']!r}.")
        instrument = selectors.instrument_get(symbol=options["symbol"], exchange=exchange.code)
        if instrument is None:
            raise CommandError(f"Unknown symbol {options['symbol']!r} on {exchange.code}.")
        parsed = csv_parse_or_fail(
            path, lambda handle: history.ohlcv_csv_parse(handle, timeframe=timeframe)
        )

        changed = history.candles_import(
            instrument=instrument, parsed=parsed, source=DataSource.CSV
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{instrument} {timeframe}: {parsed.count} rows read, {changed} changed "
                f"(inserted or updated), {parsed.count - changed} already up to date."
            )
        )
