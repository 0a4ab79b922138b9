"""`python manage.py run_alert_engine [--shard I --shards N]`: the `alerts` process."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.alerts.engine.runner import AlertEngine


class Command(BaseCommand):
    help = "Evaluate alert rules against every ingested tick batch (one shard of symbols)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=int, default=None,
                            help="this process's shard (default ALERTS_ENGINE_SHARD)")
        parser.add_argument("--shards", type=int, default=None,
                            help="number of shards (default ALERTS_ENGINE_SHARDS)")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        engine = AlertEngine(shard=options["shard"], shards=options["shards"])
        self.stdout.write(f"alert engine shard {engine.shard}/{engine.shards} starting")
        engine.run(stop)
