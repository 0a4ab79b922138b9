"""Alert firings that their owner chose to share with a room (`AlertRule.share_room`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.realtime.events import room_group
from apps.rooms.models import Activity, ActivityVerb, Room, RoomMember
from apps.rooms.selectors import activity_data


@dataclass(frozen=True)
class SharedFiring:
    room_id: int
    user: Any  # the rule's owner
    rule_id: int
    rule_name: str
    event_id: int
    symbol: str
    message: str
    fired_at: datetime


def room_alert_firings_share(
    *, firings: Sequence[SharedFiring]
) -> list[tuple[str, dict[str, Any]]]:
    """Add an `alert_fired` activity row for each firing whose owner is still a member of
    the room (one query to check, one bulk insert), inside the caller's transaction.
    Returns the `room.activity` events for the caller to publish after commit with its own
    (the alert engine sends a batch's events in one round trip)."""
    if not firings:
        return []
    members = set(
        RoomMember.objects.filter(
            room_id__in={f.room_id for f in firings}, user_id__in={f.user.pk for f in firings}
        ).values_list("room_id", "user_id")
    )
    kept = [f for f in firings if (f.room_id, f.user.pk) in members]
    if not kept:
        return []
    rooms = Room.objects.in_bulk({f.room_id for f in kept})
    rows = Activity.objects.bulk_create([
        Activity(
            room=rooms[f.room_id], actor=f.user, verb=ActivityVerb.ALERT_FIRED,
            data={"alert": {"id": f.rule_id, "name": f.rule_name}, "event_id": f.event_id,
                  "symbol": f.symbol, "message": f.message,
                  "fired_at": f.fired_at.isoformat()},
        )
        for f in kept
    ])
    return [
        (room_group(row.room_id), {"type": "room.activity", "activity": activity_data(row)})
        for row in rows
    ]
