"""The one way services send events to WebSocket clients: `publish(group, event)`.

Events go through the channel layer (Redis) after the current transaction commits, so a
client never hears about a change that was rolled back. The database stays the record: a
client that missed an event re-fetches over REST (every frame carries a sequence number so
it can tell). Quote ticks do not use this path — see `apps/realtime/hub.py`.

Groups: `user.<id>` (every connection of a user), `watchlist.<id>` (connections that
subscribed to that watchlist). Event `type`s are dotted (`watchlist.updated`); the consumer
turns the dot into its handler name and forwards the event as a frame.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def watchlist_group(watchlist_id: int) -> str:
    return f"watchlist.{watchlist_id}"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send `event` (a dict with a dotted `type`) to `group` once the transaction commits."""
    if "." not in str(event.get("type", "")):
        raise ValueError(f"Event type must be dotted, got {event.get('type')!r}")
    transaction.on_commit(lambda: _send(group, event))


def publish_now(group: str, event: dict[str, Any]) -> None:
    """Send immediately (for callers outside a transaction, e.g. signal receivers)."""
    _send(group, event)


def _send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "realtime.event", "event": event})
    except Exception:  # a push is a courtesy; the database already has the change
        logger.exception("publish to %s failed", group)
