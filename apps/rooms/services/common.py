"""What every room service shares: errors, the room lock, roles, events, activity rows.

Concurrency: a write that changes membership or room settings first locks the room row
(`SELECT … FOR NO KEY UPDATE`), then checks the acting user's role, so caps and the single
owner hold under races. NO KEY: inserting a message, an activity row or a reaction (foreign
keys to the room) does not wait for that lock, and a watchlist write that logs activity into
the room cannot deadlock with a room write that updates the watchlist's members.

Permissions: a user who is not a member gets `RoomNotFound` (HTTP 404, the body of a missing
id); a member whose role does not allow the action gets `RoomPermissionDenied` (HTTP 403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.realtime.events import publish, room_group, user_group
from apps.rooms.models import Activity, Room, RoomMember, RoomRole
from apps.rooms.ratelimit import retry_after_seconds
from apps.rooms.selectors import activity_data, room_data
from apps.watchlists.selectors import user_brief

RANK = {RoomRole.MEMBER.value: 0, RoomRole.MODERATOR.value: 1, RoomRole.OWNER.value: 2}


class RoomNotFound(Http404):
    """No such room (message, member, invitation), or the user is not a member."""


class RoomPermissionDenied(PermissionDenied):
    """The user is a member but their role does not allow this."""


class RoomRateLimited(ValidationError):
    """Too many messages from one user in one room: wait `retry_after` seconds (REST
    answers 429 with a Retry-After header; the WebSocket an `error` frame)."""

    def __init__(self, wait: float) -> None:
        self.retry_after = retry_after_seconds(wait)
        self.wait = wait
        super().__init__(
            {
                "body": [
                    _("You are sending messages too fast. Wait %(n)d s and try again.")
                    % {"n": self.retry_after}
                ]
            }
        )


class InviteLinkGone(Exception):
    """The invite link expired, was revoked or has been used up (HTTP 410)."""

    def __init__(self, message: str, *, state: str) -> None:
        super().__init__(message)
        self.message = message
        self.state = state


def room_lock(*, room_id: int, by: User, need: str | None = None) -> tuple[Room, RoomMember]:
    """Lock the room row; return it with `by`'s membership, whose role must be at least
    `need` (None: any member)."""
    room = (
        Room.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner")
        .filter(pk=room_id)
        .first()
    )
    if room is None:
        raise RoomNotFound
    member = RoomMember.objects.filter(room=room, user=by).first()
    if member is None:
        raise RoomNotFound
    member.user = by
    role_require(member, need)
    return room, member


def role_require(member: RoomMember, need: str | None) -> None:
    if need is None or RANK[member.role] >= RANK[need]:
        return
    if need == RoomRole.OWNER:
        raise RoomPermissionDenied(_("Only the room's owner can do this."))
    raise RoomPermissionDenied(_("Only the room's owner and moderators can do this."))


def membership_get(*, room_id: int, user: User) -> RoomMember:
    """`user`'s membership of the room (no lock), or RoomNotFound."""
    member = RoomMember.objects.filter(room_id=room_id, user=user).first()
    if member is None:
        raise RoomNotFound
    member.user = user
    return member


def activity_record(
    *, room: Room, actor: User | None, verb: str, data: dict[str, Any] | None = None
) -> Activity:
    """Store one activity row and publish it as `room.activity` after commit."""
    activity = Activity.objects.create(room=room, actor=actor, verb=verb, data=data or {})
    activity.room = room
    publish(room_group(room.pk), {"type": "room.activity", "activity": activity_data(activity)})
    return activity


def publish_member(*, room: Room, action: str, user: User, role: str | None) -> None:
    """`room.member` to the room: `action` is joined, left, removed, role_changed or
    owner_changed; `role` the user's role after it (null once they are out)."""
    publish(
        room_group(room.pk),
        {
            "type": "room.member",
            "room": room.pk,
            "action": action,
            "user": user_brief(user),
            "role": role,
        },
    )


def publish_revoked(*, room_id: int, user_id: int) -> None:
    """`room.revoked` to every connection of a user who is no longer a member: the
    consumer stops sending them that room."""
    publish(user_group(user_id), {"type": "room.revoked", "id": room_id})


def publish_room_updated(room: Room) -> None:
    """`room.updated` to the room: its name, description, visibility, owner or shared
    watchlist changed (`room`: the public fields, as in `GET /api/v1/rooms/{id}/`)."""
    publish(room_group(room.pk), {"type": "room.updated", "room": room_data(room)})
