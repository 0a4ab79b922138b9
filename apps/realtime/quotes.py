"""Quote ticks leave the worker here: one Redis PUBLISH per symbol per ingested batch.

Ticks bypass the channel layer on purpose (docs/realtime.md): each `ws` process subscribes
once per symbol its clients watch and writes the already-serialised quote to every local
socket, instead of the channel layer dispatching one message per consumer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from urllib.parse import quote as urlquote

import redis
from django.conf import settings

from apps.market.ingest import tick_listener
from apps.market.providers.base import Quote
from apps.market.serializers import quote_data

logger = logging.getLogger(__name__)
_client: redis.Redis | None = None


def quote_channel(exchange: str, symbol: str) -> str:
    return f"{settings.REALTIME_CHANNEL_PREFIX}:quote:{exchange}:{urlquote(symbol, safe='')}"


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return _client


def quotes_publish(batch: Sequence[Quote]) -> int:
    """Publish the latest quote of each symbol in `batch`; returns the messages sent."""
    latest: dict[tuple[str, str], Quote] = {}
    for q in batch:
        latest[(q.exchange, q.symbol)] = q
    if not latest:
        return 0
    # MULTI/EXEC: Redis runs the batch's PUBLISHes as one command, so every `ws` process
    # receives the batch in one piece. A plain pipeline longer than Redis's 16 KB read is
    # run over several turns of its event loop; a pause between two (Redis shares the
    # cores) reached the hubs as two batches, and the second waited for each socket's next
    # quote interval (docs/realtime.md, "Sixth round").
    pipe = _redis().pipeline(transaction=True)
    for (exchange, symbol), q in latest.items():
        # `stale`/`as_of` describe the feed, which clients get from `feed.status`.
        payload = quote_data(q, stale=False)
        pipe.publish(quote_channel(exchange, symbol), json.dumps(payload, separators=(",", ":")))
    pipe.execute()
    return len(latest)


@tick_listener("realtime.quotes")
def _on_ticks(batch: Sequence[Quote]) -> None:
    quotes_publish(batch)
