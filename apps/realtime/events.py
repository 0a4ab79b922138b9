"""The one way services send events to WebSocket clients: `publish(group, event)`.

Events go through the channel layer (Redis) after the current transaction commits, so a
client never hears about a change that was rolled back. The database stays the record: a
client that missed an event re-fetches over REST (every frame carries a sequence number so
it can tell). Quote ticks do not use this path — see `apps/realtime/hub.py`.

Groups: `user.<id>` (every connection of a user), `watchlist.<id>` and `room.<id>`
(connections subscribed to that watchlist or room). Event `type`s are dotted
(`watchlist.updated`); the consumer turns the dot into its handler name and forwards the
event as a frame.
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
