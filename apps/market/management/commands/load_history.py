"""Load candle history from a market data provider:

    python manage.py load_history --provider simulated --symbols ALL --timeframe 1d \\
        --start 2025-01-01
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.market import history, selectors
from apps.market.models import Instrument
from apps.market.providers import MarketDataProvider, ProviderError, get_provider

LOADABLE_TIMEFRAMES = ("1m", "1d")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD).") from exc


def _provider(name: str) -> MarketDataProvider:
    try:
        return get_provider(name)
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = (
        "Load 1d or 1m bars for some or all active instruments of an exchange from a "
        "provider and store them (existing bars are replaced). 1m history is also rolled up "
        "into 3m, 5m, 15m, 30m, 1h, 1d and 1w bars (1d/1w: unless --no-daily-rollup); 1d "
        "history into 1w bars. Days and weeks only partly inside --start..--end are not "
        "rolled up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", default="", help="Provider (default: settings)")
        parser.add_argument(
            "--symbols", required=True, help="Comma-separated symbols, or ALL (active ones)"
        )
        parser.add_argument("--timeframe", required=True, choices=LOADABLE_TIMEFRAMES)
        first = parser.add_mutually_exclusive_group(required=True)
        first.add_argument("--start", help="First day, YYYY-MM-DD (IST)")
        first.add_argument(
            "--days", type=int, help="Instead of --start: the N calendar days up to --end"
        )
        parser.add_argument("--end", default="", help="Last day, YYYY-MM-DD (default today)")
        parser.add_argument("--exchange", default="NSE", help="Exchange code (default NSE)")
        parser.add_argument(
            "--no-daily-rollup",
            action="store_true",
            help="With 1m: do not build 1d/1w bars from it (load 1d separately instead).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        exchange = selectors.exchange_get(code=options["exchange"])
        if exchange is None:
            raise CommandError(f"Unknown exchange {options['exchange']!r}.")
        end = _date(options["end"]) if options["end"] else timezone.localdate()
        if options["days"] is not None:
            if options["days"] < 1:
                raise CommandError("--days must be at least 1.")
            start = end - timedelta(days=options["days"] - 1)
        else:
            start = _date(options["start"])
        if end < start:
            raise CommandError("--end is before --start.")
        instruments = self._instruments(options["symbols"], exchange.code)
        provider = _provider(options["provider"] or "")
        verbose = int(options["verbosity"]) >= 2
        try:
            changed = history.history_load(
                provider=provider,
                instruments=instruments,
                timeframe=options["timeframe"],
                start=start,
                end=end,
                daily_rollup=not options["no_daily_rollup"],
                progress=self.stdout.write if verbose else None,
            )
        except (ProviderError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{provider.name}: {len(instruments)} instrument(s), {options['timeframe']} "
                f"{start}..{end}: {changed} candle rows inserted or changed "
                f"in {time.monotonic() - started:.1f}s."
            )
        )

    def _instruments(self, symbols_text: str, exchange: str) -> list[Instrument]:
        queryset = Instrument.objects.filter(exchange__code=exchange).select_related("exchange")
        if symbols_text.strip().upper() == "ALL":
            return list(queryset.filter(active=True).order_by("symbol"))
        symbols = list(
            dict.fromkeys(s.strip().upper() for s in symbols_text.split(",") if s.strip())
        )
        if not symbols:
            raise CommandError("--symbols is empty.")
        found = {i.symbol.upper(): i for i in queryset.filter(symbol__in=symbols)}
        missing = [s for s in symbols if s not in found]
        if missing:
            raise CommandError(f"Unknown symbol(s) on {exchange}: {', '.join(missing)}.")
        return [found[s] for s in symbols]
