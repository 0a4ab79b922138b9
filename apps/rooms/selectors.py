"""Reads for rooms. Each returns only what the given user may see.

Access: members only. A room the user is not a member of — private or discoverable — reads
as missing (`None`), exactly like an id that does not exist; discoverable rooms show in
`room_discover_list` with their public fields and are readable once joined.

The JSON of a message (`message_data`) is the same over REST and WebSocket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, IntegerField, Min, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import User
from apps.rooms.models import (
    Activity,
    InvitationStatus,
    Message,
    Reaction,
    Room,
    RoomInvitation,
    RoomMember,
    RoomRole,
    Visibility,
)
from apps.rooms.text import links_find
from apps.watchlists.selectors import user_brief

MAX_ID = 2**63 - 1  # bigint: a larger id cannot exist
PREVIEW_LENGTH = 140
_ROLE_ORDER = {RoomRole.OWNER.value: 0, RoomRole.MODERATOR.value: 1, RoomRole.MEMBER.value: 2}


def _time(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _brief(user: User | None) -> dict[str, Any] | None:
    return user_brief(user) if user is not None else None


# --- rooms --------------------------------------------------------------------------------------


def room_get_for_member(
    *, user: User | AnonymousUser, room_id: int
) -> tuple[Room, RoomMember] | None:
    """The room and the user's membership, or None when it does not exist or the user is
    not a member (discoverable rooms included: join first). One query."""
    if not user.is_authenticated or not 0 < room_id <= MAX_ID:
        return None
    member = (
        RoomMember.objects.select_related("room__owner", "user")
        .filter(room_id=room_id, user=user)
        .first()
    )
    if member is None:
        return None
    return member.room, member


def room_discoverable_get(*, room_id: int) -> Room | None:
    """A discoverable room (for joining), or None."""
    if not 0 < room_id <= MAX_ID:
        return None
    return Room.objects.filter(pk=room_id, visibility=Visibility.DISCOVERABLE).first()


def _member_count() -> Subquery:
    return Subquery(
        RoomMember.objects.filter(room=OuterRef("pk"))
        .order_by()
        .values("room")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def room_data(room: Room, *, member_count: int | None = None) -> dict[str, Any]:
    """The public fields of a room: `id`, `name`, `description`, `visibility`, `owner`
    (`id`, `name`), `watchlist` (the shared watchlist's id or null), `member_count`,
    `created_at`, `updated_at`."""
    if member_count is None:
        member_count = getattr(room, "member_count", None)
    if member_count is None:
        member_count = RoomMember.objects.filter(room=room).count()
    return {
        "id": room.pk,
        "name": room.name,
        "description": room.description,
        "visibility": room.visibility,
        "owner": user_brief(room.owner),
        "watchlist": room.watchlist_id,
        "member_count": member_count,
        "created_at": _time(room.created_at),
        "updated_at": _time(room.updated_at),
    }


def _unread_messages(member_field: str = "last_read_message_id") -> QuerySet[Message]:
    """Messages after the member's last read one, by others, not deleted; for a subquery
    on RoomMember rows (`room_id`, `user_id`, `member_field` come from the outer row)."""
    return Message.objects.filter(
        room_id=OuterRef("room_id"),
        id__gt=Coalesce(OuterRef(member_field), Value(0)),
        deleted_at__isnull=True,
    ).exclude(author_id=OuterRef("user_id"))


def room_unread(*, member: RoomMember) -> tuple[int, int | None]:
    """(unread count, id of the first unread message or None) for one member: messages by
    others after `last_read_message_id`, deleted ones left out. One query."""
    found = (
        Message.objects.filter(
            room_id=member.room_id,
            id__gt=member.last_read_message_id or 0,
            deleted_at__isnull=True,
        )
        .exclude(author_id=member.user_id)
        .aggregate(n=Count("id"), first=Min("id"))
    )
    return int(found["n"] or 0), found["first"]


def room_membership_list(*, user: User | AnonymousUser) -> QuerySet[RoomMember]:
    """The user's memberships, each with its `room` (and owner) and annotated with
    `unread_count`, `first_unread_id`, `member_count` and `last_message_id`; rooms with the
    newest message first. One query (previews: `room_list_data`)."""
    if not user.is_authenticated:
        return RoomMember.objects.none()
    unread = _unread_messages()
    return (
        RoomMember.objects.filter(user=user)
        .select_related("room__owner")
        .annotate(
            unread_count=Coalesce(
                Subquery(
                    unread.order_by().values("room_id").annotate(n=Count("id")).values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            first_unread_id=Subquery(unread.order_by("id").values("id")[:1]),
            member_count=Subquery(
                RoomMember.objects.filter(room_id=OuterRef("room_id"))
                .order_by()
                .values("room_id")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            last_message_id=Subquery(
                Message.objects.filter(room_id=OuterRef("room_id")).order_by("-id").values("id")[:1]
            ),
        )
        .order_by(F("last_message_id").desc(nulls_last=True), "-room__created_at", "-room_id")
    )


def message_preview(message: Message) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    body = "" if deleted else message.body
    if len(body) > PREVIEW_LENGTH:
        body = body[: PREVIEW_LENGTH - 1] + "…"
    return {
        "id": message.pk,
        "author": _brief(message.author),
        "kind": message.kind,
        "body": body,
        "share_type": (message.share or {}).get("type") if not deleted else None,
        "created_at": _time(message.created_at),
        "deleted": deleted,
    }


def room_list_data(memberships: Sequence[RoomMember]) -> list[dict[str, Any]]:
    """Rows of the room list: the room, the caller's `role`, `unread_count`,
    `first_unread_id`, `last_read_message_id` and `last_message` (a preview, or null).
    One query for the previews of every row (from `room_membership_list`)."""
    last_ids = [m.last_message_id for m in memberships if m.last_message_id]  # type: ignore[attr-defined]
    previews = {
        message.pk: message_preview(message)
        for message in Message.objects.filter(pk__in=last_ids).select_related("author")
    }
    rows = []
    for member in memberships:
        rows.append(
            {
                **room_data(member.room, member_count=member.member_count),  # type: ignore[attr-defined]
                "role": member.role,
                "unread_count": member.unread_count,  # type: ignore[attr-defined]
                "first_unread_id": member.first_unread_id,  # type: ignore[attr-defined]
                "last_read_message_id": member.last_read_message_id,
                "last_message": previews.get(member.last_message_id),  # type: ignore[attr-defined]
            }
        )
    return rows


def room_member_view(*, room: Room, member: RoomMember) -> dict[str, Any]:
    """One room as its member sees it (`GET /api/v1/rooms/{id}/`): `room_data` plus `role`,
    `unread_count`, `first_unread_id`, `last_read_message_id`."""
    unread, first = room_unread(member=member)
    return {
        **room_data(room),
        "role": member.role,
        "unread_count": unread,
        "first_unread_id": first,
        "last_read_message_id": member.last_read_message_id,
    }


def room_discover_list(*, user: User | AnonymousUser, query: str = "") -> QuerySet[Room]:
    """Discoverable rooms the user is not in, matching `query` in the name (any case),
    the most populated first, annotated with `member_count`."""
    if not user.is_authenticated:
        return Room.objects.none()
    rooms = (
        Room.objects.filter(visibility=Visibility.DISCOVERABLE)
        .exclude(members__user=user)
        .select_related("owner")
        .annotate(member_count=_member_count())
    )
    query = query.strip()
    if query:
        rooms = rooms.filter(name__icontains=query)
    return rooms.order_by(F("member_count").desc(nulls_last=True), "name", "id")


def room_discover_data(room: Room) -> dict[str, Any]:
    """What a non-member sees of a discoverable room."""
    return {
        "id": room.pk,
        "name": room.name,
        "description": room.description,
        "owner": user_brief(room.owner),
        "member_count": getattr(room, "member_count", 0) or 0,
        "created_at": _time(room.created_at),
    }


def room_owned_count(*, user: User) -> int:
    return Room.objects.filter(owner=user).count()


# --- members ------------------------------------------------------------------------------------


def room_member_list(*, room: Room) -> list[RoomMember]:
    """Owner, then moderators, then members, each group by join time. One query."""
    members = list(RoomMember.objects.filter(room=room).select_related("user"))
    members.sort(key=lambda m: (_ROLE_ORDER.get(m.role, 9), m.joined_at, m.pk))
    return members


def room_member_get(*, room: Room, user_id: int) -> RoomMember | None:
    if not 0 < user_id <= MAX_ID:
        return None
    return RoomMember.objects.select_related("user").filter(room=room, user_id=user_id).first()


def member_data(member: RoomMember) -> dict[str, Any]:
    return {
        "user": user_brief(member.user),
        "role": member.role,
        "joined_at": _time(member.joined_at),
    }


# --- invitations --------------------------------------------------------------------------------


def room_invitation_list(*, room: Room) -> QuerySet[RoomInvitation]:
    """Pending invitations of individual users, newest first."""
    return (
        RoomInvitation.objects.filter(
            room=room, user__isnull=False, status=InvitationStatus.PENDING
        )
        .select_related("user", "invited_by", "room__owner")
        .order_by("-created_at", "-id")
    )


def room_invite_link_list(*, room: Room) -> QuerySet[RoomInvitation]:
    """Invite links not revoked (expired and used-up ones included, marked), newest first."""
    return (
        RoomInvitation.objects.filter(room=room, user__isnull=True)
        .exclude(status=InvitationStatus.REVOKED)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def room_invitation_list_for_user(*, user: User | AnonymousUser) -> QuerySet[RoomInvitation]:
    """Invitations the user has not answered yet, newest first."""
    if not user.is_authenticated:
        return RoomInvitation.objects.none()
    return (
        RoomInvitation.objects.filter(user=user, status=InvitationStatus.PENDING)
        .select_related("room__owner", "invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_data(invitation: RoomInvitation) -> dict[str, Any]:
    """A user's invitation: `id`, `room` (`id`, `name`, `description`, `owner`), `user`,
    `invited_by`, `status`, `created_at`, `responded_at`."""
    room = invitation.room
    return {
        "id": invitation.pk,
        "room": {
            "id": room.pk,
            "name": room.name,
            "description": room.description,
            "owner": user_brief(room.owner),
        },
        "user": _brief(invitation.user),
        "invited_by": _brief(invitation.invited_by),
        "status": invitation.status,
        "created_at": _time(invitation.created_at),
        "responded_at": _time(invitation.responded_at),
    }


def invite_link_state(invitation: RoomInvitation, *, now: datetime | None = None) -> str:
    """`active`, `expired`, `used_up` or `revoked`."""
    now = now or timezone.now()
    if invitation.status == InvitationStatus.REVOKED:
        return "revoked"
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return "expired"
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return "used_up"
    return "active"


def invite_link_data(invitation: RoomInvitation) -> dict[str, Any]:
    """An invite link: `id`, `token`, `path` (the join page; the API joins with
    `POST /api/v1/rooms/join/{token}/`), `expires_at`, `max_uses`, `uses`, `state`,
    `invited_by`, `created_at`."""
    return {
        "id": invitation.pk,
        "token": invitation.token,
        "path": f"/rooms/join/{invitation.token}/",
        "expires_at": _time(invitation.expires_at),
        "max_uses": invitation.max_uses,
        "uses": invitation.uses,
        "state": invite_link_state(invitation),
        "invited_by": _brief(invitation.invited_by),
        "created_at": _time(invitation.created_at),
    }


# --- messages -----------------------------------------------------------------------------------


def message_get(*, room: Room, message_id: int) -> Message | None:
    if not 0 < message_id <= MAX_ID:
        return None
    return (
        Message.objects.select_related("author", "deleted_by")
        .filter(room=room, pk=message_id)
        .first()
    )


def message_list(
    *,
    room: Room,
    before: int | None = None,
    after: int | None = None,
    parent: int | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:
    """A page of the room's messages (replies included; `parent` = one thread's replies)
    and whether there are more beyond it. Without `after`: the newest `limit` messages
    older than `before` (or the newest), newest first. With `after`: the oldest `limit`
    messages newer than `after`, oldest first (catching up). One query."""
    messages = Message.objects.filter(room=room).select_related("author", "deleted_by")
    if parent is not None:
        messages = messages.filter(parent_id=parent)
    if after is not None:
        messages = messages.filter(id__gt=after).order_by("id")
    else:
        if before is not None:
            messages = messages.filter(id__lt=before)
        messages = messages.order_by("-id")
    page = list(messages[: limit + 1])
    return page[:limit], len(page) > limit


def messages_data(
    messages: Sequence[Message], *, viewer_id: int | None = None
) -> list[dict[str, Any]]:
    """`message_data` for many messages in at most three more queries (reactions, reply
    counts, mentioned users), whatever their number."""
    live_ids = [m.pk for m in messages if m.deleted_at is None]
    reactions: dict[int, dict[str, list[int]]] = {}
    if live_ids:
        rows = (
            Reaction.objects.filter(message_id__in=live_ids)
            .order_by("created_at", "id")
            .values_list("message_id", "emoji", "user_id")
        )
        for message_id, emoji, user_id in rows:
            reactions.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    top_ids = [m.pk for m in messages if m.parent_id is None]
    replies: dict[int, int] = {}
    if top_ids:
        replies = dict(
            Message.objects.filter(parent_id__in=top_ids, deleted_at__isnull=True)
            .order_by()
            .values("parent_id")
            .annotate(n=Count("id"))
            .values_list("parent_id", "n")
        )
    mentioned = {uid for m in messages if m.deleted_at is None for uid in m.mentions or []}
    names = {u.pk: u for u in User.objects.filter(pk__in=mentioned)} if mentioned else {}
    return [
        _message_data(m, reactions.get(m.pk, {}), replies.get(m.pk, 0), names, viewer_id)
        for m in messages
    ]


def message_data(message: Message, *, viewer_id: int | None = None) -> dict[str, Any]:
    """The JSON of one message, the same in REST and WebSocket frames:

    `id`, `room`, `author` (`id`, `name`; null once the account is gone), `kind` (`text`,
    `share`), `body` (plain text as typed — render it as text; "" when deleted), `share`
    (the frozen card or null), `parent` (the thread's top message or null), `reply_count`,
    `mentions` ([`id`, `name`]), `symbols` (["NSE:RELIANCE"]), `links` (the http(s) URLs in
    the body, the only text a client may make clickable), `reactions` ([`emoji`, `count`,
    `mine`, `users` (ids)] — `mine` is for `viewer_id`: false in events sent to a whole
    room, where clients look for their id in `users`), `created_at`, `edited_at`,
    `deleted` (bool), `deleted_by` (`id`, `name` or null).
    """
    return messages_data([message], viewer_id=viewer_id)[0]


def _message_data(
    message: Message,
    reactions: dict[str, list[int]],
    reply_count: int,
    names: dict[int, User],
    viewer_id: int | None,
) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "room": message.room_id,
        "author": _brief(message.author),
        "kind": message.kind,
        "body": "" if deleted else message.body,
        "share": None if deleted else message.share,
        "parent": message.parent_id,
        "reply_count": reply_count,
        "mentions": []
        if deleted
        else [user_brief(names[uid]) for uid in message.mentions or [] if uid in names],
        "symbols": [] if deleted else list(message.symbols or []),
        "links": [] if deleted else links_find(message.body),
        "reactions": [
            {"emoji": emoji, "count": len(users), "mine": viewer_id in users, "users": users}
            for emoji, users in reactions.items()
        ],
        "created_at": _time(message.created_at),
        "edited_at": _time(message.edited_at),
        "deleted": deleted,
        "deleted_by": _brief(message.deleted_by) if deleted else None,
    }


def room_snapshot(*, room: Room, member: RoomMember, limit: int = 50) -> dict[str, Any]:
    """What a member gets on subscribing to a room: `room` (`room_data`), `role`,
    `messages` (the last `limit`, oldest first), `has_more` (older ones exist),
    `unread_count`, `first_unread_id`, `last_read_message_id`, `watchlist` (the shared
    watchlist's id or null). About seven queries whatever the room's size."""
    page, has_more = message_list(room=room, limit=limit)
    page.reverse()
    unread, first = room_unread(member=member)
    return {
        "room": room_data(room),
        "role": member.role,
        "messages": messages_data(page, viewer_id=member.user_id),
        "has_more": has_more,
        "unread_count": unread,
        "first_unread_id": first,
        "last_read_message_id": member.last_read_message_id,
        "watchlist": room.watchlist_id,
    }


# --- activity -----------------------------------------------------------------------------------


def activity_data(activity: Activity) -> dict[str, Any]:
    """`id`, `room` (`id`, `name`), `actor` (`id`, `name` or null), `verb`, `text` (the verb
    in the reader's language), `data` (verb-specific: `user`, `role`, `share_type`,
    `message`, `watchlist`, `change`…), `created_at`."""
    return {
        "id": activity.pk,
        "room": {"id": activity.room_id, "name": activity.room.name},
        "actor": _brief(activity.actor),
        "verb": activity.verb,
        "text": str(activity.get_verb_display()),
        "data": activity.data,
        "created_at": _time(activity.created_at),
    }


def _activity_page(
    activity: QuerySet[Activity], before: int | None, limit: int
) -> tuple[list[Activity], bool]:
    if before is not None:
        activity = activity.filter(id__lt=before)
    page = list(activity.select_related("room", "actor").order_by("-id")[: limit + 1])
    return page[:limit], len(page) > limit


def activity_list_for_room(
    *, room: Room, before: int | None = None, limit: int = 50
) -> tuple[list[Activity], bool]:
    """The room's feed, newest first, `limit` rows older than `before`, and whether there
    are more."""
    return _activity_page(Activity.objects.filter(room=room), before, limit)


def activity_list_for_user(
    *, user: User, before: int | None = None, limit: int = 50
) -> tuple[list[Activity], bool]:
    """The feed of every room the user is a member of now, newest first."""
    rooms = RoomMember.objects.filter(user=user).values("room_id")
    return _activity_page(Activity.objects.filter(room_id__in=rooms), before, limit)


def room_ids_with_watchlist(*, watchlist_id: int) -> list[int]:
    return list(Room.objects.filter(watchlist_id=watchlist_id).values_list("pk", flat=True))
