"""The one way services send events to WebSocket clients: `publish(group, event)`.

Events go through the channel layer (Redis) after the current transaction commits, so a
client never hears about a change that was rolled back. The database stays the record: a
client that missed an event re-fetches over REST (every frame carries a sequence number so
it can tell). Quote ticks do not use this path — see `apps/realtime/hub.py`.

Groups: `user.<id>` (every connection of a user), `watchlist.<id>` and `room.<id>`
(connections subscribed to that watchlist or room), `signals.all`,
`signals.instrument.<id>` and `signals.strategy.<key>` (signal subscriptions). Event
`type`s are dotted (`watchlist.updated`); the consumer turns the dot into its handler name
and forwards the event as a frame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def watchlist_group(watchlist_id: int) -> str:
    return f"watchlist.{watchlist_id}"


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def signals_all_group() -> str:
    return "signals.all"


def signals_instrument_group(instrument_id: int) -> str:
    return f"signals.instrument.{instrument_id}"


def signals_strategy_group(strategy_key: str) -> str:
    return f"signals.strategy.{strategy_key}"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send `event` (a dict with a dotted `type`) to `group` once the transaction commits."""
    publish_many([(group, event)])


def publish_many(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Send each `(group, event)` once the transaction commits, in order, in one pass of
    one event loop: a batch (e.g. an alert engine's firings) pays one `async_to_sync`
    instead of one per event (~6.5 ms each, measured)."""
    for _group, event in events:
        if "." not in str(event.get("type", "")):
            raise ValueError(f"Event type must be dotted, got {event.get('type')!r}")
    if events:
        batch = list(events)
        transaction.on_commit(lambda: _send_many(batch))


def publish_batch(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """`publish_many` for a hot path's batch (the alert engine's firings): once the
    transaction commits, every event goes out in ONE Redis round trip — a pipeline of the
    PUBLISHes that channels_redis' pub/sub layer's own `group_send` would make, with the
    layer's serializer. `publish_many` pays a new event loop and Redis connection per call
    and a round trip per event (10–30 ms for 100 events, measured; this: ~1 ms). Any other
    layer or layer configuration goes through `publish_many`'s path."""
    for _group, event in events:
        if "." not in str(event.get("type", "")):
            raise ValueError(f"Event type must be dotted, got {event.get('type')!r}")
    if events:
        batch = list(events)
        transaction.on_commit(lambda: _send_pipelined(batch))


_pipeline_clients: dict[str, Any] = {}


def _pubsub_target(layer: Any) -> tuple[Any, str] | None:
    """(sync Redis client, prefix) when `layer` is channels_redis' pub/sub layer on one plain
    Redis address, the configuration whose group channel names we can reproduce."""
    from channels.layers import DEFAULT_CHANNEL_LAYER
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from channels_redis.utils import decode_hosts
    from django.conf import settings

    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    layers: dict[str, Any] = settings.CHANNEL_LAYERS
    config: dict[str, Any] = layers[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    hosts = decode_hosts(config.get("hosts"))
    if len(hosts) != 1 or "address" not in hosts[0]:
        return None  # sharded or Sentinel: the layer picks the server per group
    options = dict(hosts[0])
    address = str(options.pop("address"))
    if address not in _pipeline_clients:
        import redis

        options.setdefault("socket_timeout", 2)
        options.setdefault("socket_connect_timeout", 2)
        _pipeline_clients[address] = redis.Redis.from_url(address, **options)
    return _pipeline_clients[address], str(config.get("prefix", "asgi"))


def _send_pipelined(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    target = _pubsub_target(layer)
    if target is None:
        _send_many(events)
        return
    client, prefix = target
    try:
        pipe = client.pipeline(transaction=False)
        for group, event in events:
            # channels_redis' RedisPubSubLoopLayer.group_send: PUBLISH to this name.
            pipe.publish(
                f"{prefix}__group__{group}",
                layer.serialize({"type": "realtime.event", "event": event}),
            )
        pipe.execute()
    except Exception:  # a push is a courtesy; the database already has the change
        logger.exception("publishing %d events failed", len(events))


def publish_now(group: str, event: dict[str, Any]) -> None:
    """Send immediately (for callers outside a transaction, e.g. signal receivers)."""
    _send_many([(group, event)])


def _send_many(events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group, event in events:
            try:
                await layer.group_send(group, {"type": "realtime.event", "event": event})
            except Exception:  # a push is a courtesy; the database already has the change
                logger.exception("publish to %s failed", group)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.exception("publishing %d events failed", len(events))
