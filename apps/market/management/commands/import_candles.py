"""Import OHLCV bars from a CSV file:

python manage.py import_candles --csv RELIANCE.csv --symbol RELIANCE --timeframe 1d
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market import history, selectors, services
from apps.market.models import DataSource, Timeframe

MAX_ERRORS_SHOWN = 20


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
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                parsed = history.ohlcv_csv_parse(handle, timeframe=timeframe)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}.") from exc
        except services.CsvRowError as exc:
            shown = [f"  line {line}: {problem}" for line, problem in exc.errors[:MAX_ERRORS_SHOWN]]
            if len(exc.errors) > MAX_ERRORS_SHOWN:
                shown.append(f"  ... and {len(exc.errors) - MAX_ERRORS_SHOWN} more.")
            raise CommandError(
                f"{len(exc.errors)} invalid line(s) in {path}; nothing was imported:\n"
                + "\n".join(shown)
            ) from exc

        changed = history.candles_import(
            instrument=instrument, parsed=parsed, source=DataSource.CSV
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{instrument} {timeframe}: {parsed.count} rows read, {changed} changed "
                f"(inserted or updated), {parsed.count - changed} already up to date."
            )
        )
