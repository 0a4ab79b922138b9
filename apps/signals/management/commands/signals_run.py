"""Run the live-signal pass now: judge open signals, then issue the last closed bar's.

What beat runs after each bar close (``signals_bar_close``), without its market-hours guard:
for operators after loading history, and for `make run`'s demo data.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market.models import Timeframe
from apps.signals.evidence import evidence_refresh_all
from apps.signals.generation import signals_generate
from apps.signals.tracking import signals_track


class Command(BaseCommand):
    help = "Judge open signals and issue new ones for the last closed bar of a timeframe."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeframe", default="1d", help="bar timeframe (default 1d)")
        parser.add_argument(
            "--evidence", action="store_true", help="recompute every backtested record first"
        )

    def handle(self, *args: Any, timeframe: str, evidence: bool, **options: Any) -> None:
        if timeframe not in Timeframe.values:
            raise CommandError(
                f"Unknown timeframe {timeframe!r}: use one of {', '.join(Timeframe.values)}."
            )
        if evidence:
            self.stdout.write(f"Backtested records refreshed: {evidence_refresh_all()}")
        resolved = signals_track(timeframe=timeframe)
        created = signals_generate(timeframe=timeframe)
        self.stdout.write(f"{timeframe}: {len(created)} new signal(s), {resolved} resolved.")
