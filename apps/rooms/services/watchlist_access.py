"""The room's shared watchlist: members see and edit it through the watchlists app.

Room membership is mirrored into `WatchlistMember` rows (accepted, editor). Everything the
watchlists app already does — REST, the `watchlist` WebSocket topic and its live sync, alerts
on a watchlist, the pages — then works for room members unchanged, with no room lookups on
the watchlist read paths. A mirrored row is told apart from a manual share by `invited_by`
being empty (a manual invitation always names the owner who sent it). The watchlist's own
sharing cap (50) does not apply to mirrored rows: the room's member cap does.

Rules: a user has a mirrored row while they are a member of at least one room sharing the
watchlist (and do not own it). Joining replaces a weaker manual share (viewer, pending,
declined) by the mirrored one; leaving removes only mirrored rows. The watchlist's owner
can still remove anyone from their list (the room member then loses edit access until
they rejoin). Changes to the watchlist's items add a `watchlist_changed` activity row to
every room sharing it (`room_watchlist_changed`, called by the watchlist services).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.accounts.models import User
from apps.realtime.events import publish, user_group, watchlist_group
from apps.rooms.models import ActivityVerb, Room, RoomMember
from apps.rooms.services.common import activity_record
from apps.watchlists.models import MemberStatus, Role, Watchlist, WatchlistMember
from apps.watchlists.selectors import user_brief, watchlist_snapshot

# Watchlist changes worth a line in the room's feed (not member changes: the room has its own).
_LOGGED = {"item_added", "item_removed", "item_note", "items_reordered", "renamed"}


def watchlist_access_sync(*, watchlist_id: int | None, user_ids: Iterable[int], by: User) -> None:
    """Give or take away the watchlist access each user's room memberships grant now.
    Call after the membership rows changed, inside the same transaction (locks the
    watchlist row, like every watchlist write)."""
    wanted_ids = sorted(set(user_ids))
    if watchlist_id is None or not wanted_ids:
        return
    watchlist = (
        Watchlist.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=watchlist_id)
        .first()
    )
    if watchlist is None:
        return
    granted_by_room = set(
        RoomMember.objects.filter(
            room__watchlist_id=watchlist_id, user_id__in=wanted_ids
        ).values_list("user_id", flat=True)
    )
    rows = {
        row.user_id: row
        for row in WatchlistMember.objects.filter(watchlist=watchlist, user_id__in=wanted_ids)
    }
    now = timezone.now()
    granted: list[int] = []
    revoked: list[int] = []
    closed: list[tuple[int, int]] = []
    for user_id in wanted_ids:
        if user_id == watchlist.owner_id:
            continue
        row = rows.get(user_id)
        if user_id in granted_by_room:
            if row is None:
                WatchlistMember.objects.create(
                    watchlist=watchlist,
                    user_id=user_id,
                    role=Role.EDITOR,
                    status=MemberStatus.ACCEPTED,
                    invited_by=None,
                    responded_at=now,
                )
                granted.append(user_id)
            elif row.status != MemberStatus.ACCEPTED or row.role != Role.EDITOR:
                if row.status == MemberStatus.INVITED:
                    closed.append((row.pk, user_id))
                row.role, row.status = Role.EDITOR, MemberStatus.ACCEPTED
                row.invited_by, row.responded_at = None, now
                row.save(update_fields=["role", "status", "invited_by", "responded_at"])
                granted.append(user_id)
        elif row is not None and row.invited_by_id is None and row.status == MemberStatus.ACCEPTED:
            row.delete()
            revoked.append(user_id)
    if not granted and not revoked:
        return
    watchlist.updated_at = max(now, watchlist.updated_at + timedelta(microseconds=1))
    watchlist.save(update_fields=["updated_at"])
    _publish(watchlist, by=by, granted=granted, revoked=revoked, closed=closed)


def _publish(
    watchlist: Watchlist,
    *,
    by: User,
    granted: list[int],
    revoked: list[int],
    closed: list[tuple[int, int]],
) -> None:
    """The same events as the watchlist services send for accepted and removed members."""
    for user_id in revoked:
        publish(user_group(user_id), {"type": "watchlist.revoked", "id": watchlist.pk})
    for member_id, user_id in closed:
        publish(
            user_group(user_id),
            {
                "type": "watchlist.invitation_closed",
                "id": member_id,
                "watchlist_id": watchlist.pk,
                "reason": MemberStatus.ACCEPTED.value,
            },
        )
    snapshot = watchlist_snapshot(watchlist=watchlist, role=None)
    users = {u.pk: u for u in User.objects.filter(pk__in=[*granted, *revoked])}
    for user_ids, status in ((granted, MemberStatus.ACCEPTED.value), (revoked, "removed")):
        if not user_ids:
            continue
        briefs = [user_brief(users[uid]) for uid in user_ids if uid in users]
        change: dict[str, Any] = {
            "action": "members_changed",
            "user": briefs[0] if briefs else None,
            "users": briefs,
            "status": status,
            "role": Role.EDITOR.value,
            "via": "room",
        }
        publish(
            watchlist_group(watchlist.pk),
            {
                "type": "watchlist.updated",
                "watchlist": snapshot,
                "by": user_brief(by),
                "change": change,
            },
        )
        # A new member's open pages learn of the list (one user: a join; many: a relink,
        # where they see it on their next load instead of 500 snapshots at once).
        if status == MemberStatus.ACCEPTED and len(user_ids) == 1:
            publish(
                user_group(user_ids[0]),
                {
                    "type": "watchlist.updated",
                    "watchlist": {**snapshot, "role": Role.EDITOR.value},
                    "by": user_brief(by),
                    "change": change,
                },
            )


def room_watchlist_changed(*, watchlist_id: int, by: User, change: dict[str, Any]) -> None:
    """Log a change of a shared watchlist's items or name in every room sharing it
    (`watchlist_changed` activity, published as `room.activity`). Called by the watchlist
    services inside their transaction; one query when no room shares the list."""
    if change.get("action") not in _LOGGED:
        return
    rooms = list(Room.objects.filter(watchlist_id=watchlist_id))
    if not rooms:
        return
    logged = {k: v for k, v in change.items() if k != "item_ids"}
    name = Watchlist.objects.filter(pk=watchlist_id).values_list("name", flat=True).first() or ""
    for room in rooms:
        activity_record(
            room=room,
            actor=by,
            verb=ActivityVerb.WATCHLIST_CHANGED,
            data={"watchlist": {"id": watchlist_id, "name": name}, "change": logged},
        )
