"""The long-lived engine loop (`manage.py run_alert_engine`): one index, every tick batch.

Loop: apply rule-change messages → (every second) follow watchlist edits and expiries →
skip evaluation while the feed is stale → read the next batches from the stream (consumer
group) → evaluate → record firings (outbox) → acknowledge.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from apps.alerts.engine import loader
from apps.alerts.engine.firing import firing_record, firings_record
from apps.alerts.engine.index import AlertIndex, Firing
from apps.alerts.engine.stream import batch_decode, channel_name, redis_client, stream_name
from apps.alerts.models import AlertRule, RuleStatus
from apps.market.feed import feed_status
from apps.watchlists.models import Watchlist

logger = logging.getLogger(__name__)


def _feed_stale() -> bool:
    return bool(feed_status()["stale"])


class AlertEngine:
    def __init__(self, *, shard: int | None = None, shards: int | None = None,
                 consumer: str | None = None, block_ms: int = 200) -> None:
        self.shards = shards or int(getattr(settings, "ALERTS_ENGINE_SHARDS", 1))
        self.shard = shard if shard is not None else int(
            getattr(settings, "ALERTS_ENGINE_SHARD", 0))
        if not 0 <= self.shard < self.shards:
            raise ValueError(f"shard {self.shard} outside 0..{self.shards - 1}")
        self.group = f"alerts-{self.shard}-of-{self.shards}"
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.block_ms = block_ms
        self.redis: redis.Redis = redis_client()
        self.index = AlertIndex()
        self.instruments = loader.Instruments()
        self.pubsub: Any = None
        self.stale = False
        self.watched: dict[int, Any] = {}  # watchlist id -> updated_at when loaded
        self._next_sweep = 0.0
        self.batches = 0
        self.skipped_stale = 0

    # --- start ---------------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe first, then build: a change committed during the build is not lost."""
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel_name())
        try:
            self.redis.xgroup_create(stream_name(), self.group, id="$", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.index, self.instruments = loader.index_build(shard=self.shard, shards=self.shards)
        # The index is millions of long-lived objects: keep them out of the cyclic GC's
        # scans, which otherwise run every few thousand firings and cost ~40 % of tick time.
        gc.collect()
        gc.freeze()
        self._remember_watchlists()
        logger.info("alert engine %s: %d rules", self.group, len(self.index))

    def _remember_watchlists(self) -> None:
        ids = {r.spec.watchlist_id for r in self.index.rules.values() if r.spec.watchlist_id}
        self.watched = dict(Watchlist.objects.filter(pk__in=ids).values_list("pk", "updated_at"))

    # --- rule changes --------------------------------------------------------------------

    def reload(self, rule_ids: list[int]) -> None:
        specs = loader.rule_specs(rule_ids=rule_ids, shard=self.shard, shards=self.shards)
        self.instruments.preload(symbol for spec in specs for symbol in spec.symbols)
        for rule_id in rule_ids:
            self.index.remove(rule_id)
        self.index.add_many(specs)
        loader.seed_prices(self.index)
        for spec in specs:
            if spec.watchlist_id and spec.watchlist_id not in self.watched:
                self._remember_watchlists()
                break

    def _apply_messages(self) -> None:
        changed: list[int] = []
        while True:
            message = self.pubsub.get_message(timeout=0)
            if message is None:
                break
            try:
                changed.append(int(json.loads(message["data"])["rule"]))
            except (ValueError, KeyError, TypeError):
                logger.warning("ignored rule-change message %r", message)
        if changed:
            self.reload(sorted(set(changed)))

    def _sweep(self) -> None:
        """Once a second: watchlist edits (its `updated_at` moves with every item change),
        expiries, and a safety net for lost pub/sub messages."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        self.stale = _feed_stale()
        if self.watched:
            moved = [pk for pk, at in Watchlist.objects.filter(pk__in=list(self.watched))
                     .values_list("pk", "updated_at") if self.watched.get(pk) != at]
            gone = set(self.watched) - set(
                Watchlist.objects.filter(pk__in=list(self.watched)).values_list("pk", flat=True))
            if moved or gone:
                ids = [r.spec.id for r in self.index.rules.values()
                       if r.spec.watchlist_id in set(moved) | gone]
                ids += list(AlertRule.objects.filter(watchlist_id__in=moved,
                                                     status=RuleStatus.ACTIVE)
                            .values_list("pk", flat=True))
                self.reload(sorted(set(ids)))
                self._remember_watchlists()
        expired = AlertRule.objects.filter(status=RuleStatus.ACTIVE,
                                           expires_at__lte=timezone.now())
        expired_ids = list(expired.values_list("pk", flat=True))
        if expired_ids:
            expired.update(status=RuleStatus.EXPIRED)
            for rule_id in expired_ids:
                self.index.remove(rule_id)
        recent = list(AlertRule.objects.filter(
            updated_at__gte=timezone.now() - timedelta(seconds=90)
        ).values_list("pk", flat=True)) if self.batches % 300 == 299 else []
        if recent:
            self.reload(recent)

    # --- ticks ---------------------------------------------------------------------------

    def evaluate(self, rows: list[list[Any]]) -> int:
        """Feed one decoded batch to the index and record what fired; returns events written."""
        process = self.index.process
        for symbol, at, price, prev_close, volume in rows:
            process(symbol, int(at), float(Decimal(price)), float(Decimal(prev_close)),
                    float(volume))
        firings = self.index.drain()
        written = self._record(firings) if firings else 0
        for rule_id in self.index.expired:
            AlertRule.objects.filter(pk=rule_id, status=RuleStatus.ACTIVE).update(
                status=RuleStatus.EXPIRED)
        self.index.expired.clear()
        return written

    def _record(self, firings: list[Firing]) -> int:
        # One transaction per batch and one bulk write of all its firings (a constant number
        # of queries, `firings_record`). Deliveries and `alert.fired` go out only after the
        # commit (on_commit hooks). If the bulk write fails, its transaction rolls back (with
        # its hooks) and the firings are recorded one by one, each in its own transaction,
        # so one bad firing does not lose the others. (No savepoint around the batch: the
        # transaction holds nothing else, and a savepoint costs two round trips a batch.)
        try:
            with transaction.atomic():
                return len(firings_record(firings, self.instruments))
        except Exception:
            logger.exception("alert engine: batch write of %d firings failed; "
                             "recording them one by one", len(firings))
        written = 0
        for firing in firings:
            try:
                with transaction.atomic():
                    if firing_record(firing, self.instruments) is not None:
                        written += 1
            except Exception:
                logger.exception("alert engine: recording a firing of rule %s failed",
                                 firing.rule_id)
        return written

    def run_once(self) -> int:
        """One turn of the loop; returns the number of events written."""
        self._apply_messages()
        self._sweep()
        entries: Any = self.redis.xreadgroup(self.group, self.consumer, {stream_name(): ">"},
                                        count=50, block=self.block_ms)
        written = 0
        for _stream, items in entries or []:
            for entry_id, fields in items:
                if self.stale:
                    # No evaluation on stale data: the batch is dropped, the index keeps
                    # the last fresh prices, and the first fresh tick compares against them.
                    self.skipped_stale += 1
                else:
                    written += self.evaluate(batch_decode(fields[b"b"]))
                self.redis.xack(stream_name(), self.group, entry_id)
                self.batches += 1
        return written

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        self.start()
        while not stop.is_set():
            try:
                self.run_once()
            except redis.RedisError:
                logger.exception("alert engine: Redis error; retrying")
                time.sleep(1)
            finally:
                close_old_connections()
        if self.pubsub is not None:
            self.pubsub.close()
        connection.close()  # this thread's connection (tests run the engine in a thread)
