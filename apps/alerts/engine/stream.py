"""Redis plumbing between the tick path, the API and the engine processes.

* `quotes_ingest` → early tick listener → one XADD per batch to the `ALERTS_STREAM` stream (capped
  with MAXLEN ~ `ALERTS_STREAM_MAXLEN`). Each engine shard reads it through its own consumer
  group, so a restarted engine resumes after the last batch it acknowledged.
* Rule writes → after commit, PUBLISH `{"rule": id}` on `ALERTS_CHANNEL`; every engine
  reloads that rule from the database (a missing or inactive rule is dropped).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from apps.market.ingest import tick_listener
from apps.market.providers.base import Quote

logger = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _clients[url]


def stream_name() -> str:
    return str(getattr(settings, "ALERTS_STREAM", "stocksense:alerts:ticks"))


def channel_name() -> str:
    return str(getattr(settings, "ALERTS_CHANNEL", "stocksense:alerts:rules"))


def batch_encode(batch: Sequence[Quote]) -> bytes:
    """Compact rows: [instrument key, epoch µs, price, prev close, cumulative volume].
    Prices travel as strings so no precision is lost on the way."""
    rows = [
        [
            q.symbol if q.exchange == "NSE" else f"{q.exchange}:{q.symbol}",
            (q.at - EPOCH) // _MICRO, str(q.last_price), str(q.prev_close), q.volume,
        ]
        for q in batch
    ]
    return json.dumps(rows, separators=(",", ":")).encode()


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH


def batch_decode(raw: bytes) -> list[list[Any]]:
    rows: list[list[Any]] = json.loads(raw)
    return rows


@tick_listener("alerts.stream", early=True)
def batch_append(batch: Sequence[Quote]) -> None:
    """Hand the batch to the engine processes. An early listener: it runs inside the ingest
    once the batch's quote rows are locked, before the candle writes, because the engine
    needs prices only and this is the head of the alert latency (docs/alerts.md)."""
    if not batch:
        return
    redis_client().xadd(
        stream_name(), {"b": batch_encode(batch)},
        maxlen=int(getattr(settings, "ALERTS_STREAM_MAXLEN", 10_000)), approximate=True,
    )


def rule_changed_publish(rule_id: int) -> None:
    """Tell every engine, once the change is committed, to reload `rule_id`."""

    def send() -> None:
        try:
            redis_client().publish(channel_name(), json.dumps({"rule": rule_id}))
        except redis.RedisError:
            # The engine also re-reads rules changed in the last minutes periodically.
            logger.exception("could not announce change of alert rule %s", rule_id)

    transaction.on_commit(send)
