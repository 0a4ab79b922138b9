"""Reads for watchlists. Each returns only what the given user may see.

Access: the owner, and members whose invitation is `accepted`. Everyone else (including a
user with a pending invitation) gets `None` / an empty result, exactly as for a missing id.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    CharField,
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from apps.accounts.models import User
from apps.watchlists.models import MemberStatus, Role, Watchlist, WatchlistItem, WatchlistMember


def user_brief(user: User) -> dict[str, Any]:
    """`{"id", "name"}` as in every frame: the display name, else the e-mail's local part
    (never the whole address, which members of a shared list need not see)."""
    return {"id": user.pk, "name": user.get_short_name()}


def _accepted_role(user: User) -> Subquery:
    return Subquery(
        WatchlistMember.objects.filter(
            watchlist=OuterRef("pk"), user=user, status=MemberStatus.ACCEPTED
        ).values("role")[:1],
        output_field=CharField(),
    )


def watchlist_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Watchlist]:
    """Owned lists (in the owner's order), then lists shared with the user (by name), each
    annotated with `role` and `item_count`; one query."""
    if not user.is_authenticated:
        return Watchlist.objects.none()
    accepted = WatchlistMember.objects.filter(user=user, status=MemberStatus.ACCEPTED)
    return (
        Watchlist.objects.filter(Q(owner=user) | Q(pk__in=accepted.values("watchlist_id")))
        .select_related("owner")
        .annotate(
            role=Case(
                When(owner=user, then=Value(Role.OWNER.value)),
                default=_accepted_role(user),
                output_field=CharField(),
            ),
            item_count=Count("items", distinct=True),
            shared=Case(When(owner=user, then=Value(0)), default=Value(1)),
        )
        .order_by("shared", "position", "name", "id")
    )


def watchlist_get_for_user(
    *, user: User | AnonymousUser, watchlist_id: int
) -> tuple[Watchlist, str] | None:
    """The watchlist and the user's role in it (`owner`, `editor`, `viewer`), or None when it
    does not exist or the user may not see it. One query; sync (wrap it in
    `database_sync_to_async` from a consumer)."""
    if not user.is_authenticated:
        return None
    watchlist = (
        Watchlist.objects.select_related("owner")
        .annotate(member_role=_accepted_role(user))  # type: ignore[arg-type]
        .filter(pk=watchlist_id)
        .first()
    )
    if watchlist is None:
        return None
    if watchlist.owner_id == user.pk:
        return watchlist, Role.OWNER.value
    role: str | None = watchlist.member_role  # type: ignore[attr-defined]
    return (watchlist, role) if role else None


def watchlist_item_list(*, watchlist: Watchlist) -> QuerySet[WatchlistItem]:
    return (
        WatchlistItem.objects.filter(watchlist=watchlist)
        .select_related("instrument__exchange")
        .order_by("position", "id")
    )


def watchlist_member_list(*, watchlist: Watchlist) -> QuerySet[WatchlistMember]:
    return (
        WatchlistMember.objects.filter(watchlist=watchlist)
        .select_related("user")
        .order_by("created_at", "id")
    )


def watchlist_invitation_list_for_user(*, user: User) -> QuerySet[WatchlistMember]:
    """Invitations the user has not answered yet, newest first."""
    return (
        WatchlistMember.objects.filter(user=user, status=MemberStatus.INVITED)
        .select_related("watchlist__owner", "invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_data(member: WatchlistMember) -> dict[str, Any]:
    """A pending invitation as in `GET /api/v1/invitations/` and the `watchlist.invited`
    frame: `id` (the membership's, for accept/decline), `watchlist` (`id`, `name`, `owner`),
    `role`, `invited_by`, `created_at`."""
    watchlist = member.watchlist
    return {
        "id": member.pk,
        "watchlist": {
            "id": watchlist.pk, "name": watchlist.name, "owner": user_brief(watchlist.owner)
        },
        "role": member.role,
        "invited_by": user_brief(member.invited_by) if member.invited_by else None,
        "created_at": timezone.localtime(member.created_at).isoformat(),
    }


def item_data(item: WatchlistItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "symbol": item.instrument.symbol,
        "exchange": item.instrument.exchange.code,
        "name": item.instrument.name,
        "note": item.note,
        "position": item.position,
    }


def watchlist_snapshot(*, watchlist: Watchlist, role: str | None) -> dict[str, Any]:
    """The Watchlist object of docs/websocket.md (and of `GET /api/v1/watchlists/{id}/`).

    `role` is the receiving user's; events sent to a whole `watchlist.<id>` group carry
    `None` and the consumer fills it in per connection with `watchlist_snapshot_for_user`.
    Three queries at most (owner, items with instruments, members with users) whatever the
    size of the list.
    """
    items = watchlist_item_list(watchlist=watchlist)
    members = watchlist_member_list(watchlist=watchlist)
    return {
        "id": watchlist.pk,
        "name": watchlist.name,
        "owner": user_brief(watchlist.owner),
        "role": role,
        "items": [item_data(item) for item in items],
        "members": [
            {"user": user_brief(m.user), "role": m.role, "status": m.status} for m in members
        ],
        "updated_at": timezone.localtime(watchlist.updated_at).isoformat(),
    }


def watchlist_snapshot_for_user(
    *, snapshot: dict[str, Any], user_id: int
) -> dict[str, Any] | None:
    """`snapshot` with `role` set for `user_id`, or None when that user has no access in it
    (then drop the frame: a `watchlist.revoked` is on its way). No database access."""
    if snapshot["owner"]["id"] == user_id:
        return {**snapshot, "role": Role.OWNER.value}
    for member in snapshot["members"]:
        if member["user"]["id"] == user_id and member["status"] == MemberStatus.ACCEPTED:
            return {**snapshot, "role": member["role"]}
    return None
