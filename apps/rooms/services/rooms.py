"""Rooms and their members: create, update, delete, join, leave, roles, ownership, read marks."""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.realtime.events import publish, user_group
from apps.rooms.models import (
    MAX_MEMBERS_PER_ROOM,
    MAX_ROOMS_OWNED,
    ActivityVerb,
    Message,
    Room,
    RoomMember,
    RoomRole,
    Visibility,
)
from apps.rooms.selectors import room_unread
from apps.rooms.services.common import (
    RoomNotFound,
    RoomPermissionDenied,
    activity_record,
    publish_member,
    publish_revoked,
    publish_room_updated,
    room_lock,
)
from apps.rooms.services.watchlist_access import watchlist_access_sync
from apps.watchlists.models import MAX_WATCHLISTS_PER_OWNER, Watchlist
from apps.watchlists.selectors import user_brief
from apps.watchlists.services import NAME_MAX_LENGTH as WATCHLIST_NAME_MAX
from apps.watchlists.services import watchlist_create

NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 500


class _Unset:
    pass


UNSET: Final = _Unset()


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Give the room a name.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": [_("A room name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]}
        )
    return name


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {
                "description": [
                    _("A description has at most %(max)d characters.")
                    % {"max": DESCRIPTION_MAX_LENGTH}
                ]
            }
        )
    return description


def _clean_visibility(visibility: str) -> str:
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": [_("Choose private or discoverable.")]})
    return visibility


def _own_watchlist(watchlist_id: int, by: User) -> Watchlist:
    watchlist = Watchlist.objects.filter(pk=watchlist_id, owner=by).first()
    if watchlist is None:
        raise ValidationError({"watchlist": [_("Link one of your own watchlists.")]})
    return watchlist


def _new_watchlist(room_name: str, by: User) -> Watchlist:
    """A watchlist for a new room, named after it (made unique among `by`'s lists)."""
    owned = Watchlist.objects.filter(owner=by)
    if owned.count() >= MAX_WATCHLISTS_PER_OWNER:
        raise ValidationError(
            {
                "watchlist": [
                    _(
                        "You already have %(max)d watchlists, the most allowed, so the room "
                        "cannot get a new one. Link one of yours instead, or delete one."
                    )
                    % {"max": MAX_WATCHLISTS_PER_OWNER}
                ]
            }
        )
    taken = {name.casefold() for name in owned.values_list("name", flat=True)}
    name = room_name[:WATCHLIST_NAME_MAX]
    number = 1
    while name.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        name = room_name[: WATCHLIST_NAME_MAX - len(suffix)] + suffix
    return watchlist_create(name=name, by=by)


def _check_owned_cap(user: User, *, field: str) -> None:
    # Serialises one user's room creations: the cap holds under races.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Room.objects.filter(owner=user).count() >= MAX_ROOMS_OWNED:
        raise ValidationError(
            {
                field: [
                    _("%(name)s already owns %(max)d rooms, the most allowed.")
                    % {"name": user.get_short_name(), "max": MAX_ROOMS_OWNED}
                ]
            }
        )


@transaction.atomic
def room_create(
    *,
    by: User,
    name: str,
    description: str = "",
    visibility: str = Visibility.PRIVATE,
    watchlist_id: int | None = None,
) -> Room:
    """A room owned by `by`, with a new shared watchlist named after it, or with
    `watchlist_id` (one of `by`'s watchlists) linked. At most MAX_ROOMS_OWNED per owner."""
    name = _clean_name(name)
    description = _clean_description(description)
    visibility = _clean_visibility(visibility)
    _check_owned_cap(by, field="name")
    watchlist = (
        _own_watchlist(watchlist_id, by) if watchlist_id is not None else _new_watchlist(name, by)
    )
    now = timezone.now()
    room = Room.objects.create(
        name=name,
        description=description,
        visibility=visibility,
        owner=by,
        watchlist=watchlist,
        created_at=now,
        updated_at=now,
    )
    RoomMember.objects.create(room=room, user=by, role=RoomRole.OWNER, joined_at=now)
    activity_record(room=room, actor=by, verb=ActivityVerb.CREATED, data={"name": name})
    return room


@transaction.atomic
def room_update(
    *,
    room_id: int,
    by: User,
    name: str | _Unset = UNSET,
    description: str | _Unset = UNSET,
    visibility: str | _Unset = UNSET,
    watchlist_id: int | None | _Unset = UNSET,
) -> Room:
    """Owner or moderator: name, description. Owner only: visibility and the shared
    watchlist (one of the owner's watchlists, or None to unlink it). Members get
    `room.updated`; relinking moves the members' watchlist access."""
    owner_only = not isinstance(visibility, _Unset) or not isinstance(watchlist_id, _Unset)
    room, _member = room_lock(
        room_id=room_id, by=by, need=RoomRole.OWNER if owner_only else RoomRole.MODERATOR
    )
    fields: list[str] = []
    if not isinstance(name, _Unset):
        room.name = _clean_name(name)
        fields.append("name")
    if not isinstance(description, _Unset):
        room.description = _clean_description(description)
        fields.append("description")
    if not isinstance(visibility, _Unset):
        room.visibility = _clean_visibility(visibility)
        fields.append("visibility")
    old_watchlist_id = room.watchlist_id
    if not isinstance(watchlist_id, _Unset) and watchlist_id != old_watchlist_id:
        room.watchlist = _own_watchlist(watchlist_id, by) if watchlist_id is not None else None
        fields.append("watchlist")
    if not fields:
        return room
    room.updated_at = timezone.now()
    room.save(update_fields=[*fields, "updated_at"])
    if "watchlist" in fields:
        member_ids = list(RoomMember.objects.filter(room=room).values_list("user_id", flat=True))
        watchlist_access_sync(watchlist_id=old_watchlist_id, user_ids=member_ids, by=by)
        watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=member_ids, by=by)
    publish_room_updated(room)
    return room


@transaction.atomic
def room_delete(*, room_id: int, by: User) -> None:
    """Owner only. Messages and activity go with it; the shared watchlist stays with its
    owner, and members lose the access the room gave them. Every member gets
    `room.revoked`."""
    room, _member = room_lock(room_id=room_id, by=by, need=RoomRole.OWNER)
    member_ids = list(RoomMember.objects.filter(room=room).values_list("user_id", flat=True))
    watchlist_id = room.watchlist_id
    room.delete()
    watchlist_access_sync(watchlist_id=watchlist_id, user_ids=member_ids, by=by)
    for user_id in member_ids:
        publish_revoked(room_id=room_id, user_id=user_id)


def member_add(*, room: Room, user: User, via: str) -> RoomMember:
    """Add `user` to the locked `room` as a member (cap checked), log and publish it.
    `via`: how they came in (discover, invitation, link)."""
    if RoomMember.objects.filter(room=room).count() >= MAX_MEMBERS_PER_ROOM:
        raise ValidationError(
            {
                "room": [
                    _("This room is full: it has %(max)d members, the most allowed.")
                    % {"max": MAX_MEMBERS_PER_ROOM}
                ]
            }
        )
    member = RoomMember.objects.create(room=room, user=user, role=RoomRole.MEMBER)
    # A newcomer starts with nothing unread: the history is there to scroll, not a backlog.
    last = Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True).first()
    if last is not None:
        member.last_read_message_id = last
        member.save(update_fields=["last_read_message_id"])
    activity_record(room=room, actor=user, verb=ActivityVerb.JOINED, data={"via": via})
    publish_member(room=room, action="joined", user=user, role=member.role)
    watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[user.pk], by=user)
    return member


def room_lock_any(*, room_id: int) -> Room | None:
    """Lock a room row whatever the caller's membership (joining paths)."""
    return (
        Room.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner")
        .filter(pk=room_id)
        .first()
    )


@transaction.atomic
def room_join(*, room_id: int, by: User) -> RoomMember:
    """Join a discoverable room (a private one answers 404 as if missing). Joining a room
    one is already in returns the membership."""
    room = room_lock_any(room_id=room_id)
    if room is None:
        raise RoomNotFound
    member = RoomMember.objects.filter(room=room, user=by).first()
    if member is not None:
        return member
    if room.visibility != Visibility.DISCOVERABLE:
        raise RoomNotFound
    return member_add(room=room, user=by, via="discover")


def _member_gone(*, room: Room, user: User, role: str, action: str, by: User) -> None:
    verb = ActivityVerb.LEFT if action == "left" else ActivityVerb.REMOVED
    data = {} if action == "left" else {"user": user_brief(user), "role": role}
    activity_record(room=room, actor=by, verb=verb, data=data)
    # Sent first: the consumer drops the room before the member event reaches the group.
    publish_revoked(room_id=room.pk, user_id=user.pk)
    publish_member(room=room, action=action, user=user, role=None)
    watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[user.pk], by=by)


@transaction.atomic
def room_leave(*, room_id: int, by: User) -> None:
    """Leave a room. The owner must transfer ownership first (or delete the room)."""
    room, member = room_lock(room_id=room_id, by=by)
    if member.role == RoomRole.OWNER:
        raise ValidationError(
            {
                "room": [
                    _(
                        "You own this room: transfer ownership to another member before leaving, "
                        "or delete the room."
                    )
                ]
            }
        )
    member.delete()
    _member_gone(room=room, user=by, role=member.role, action="left", by=by)


def _target(room: Room, user_id: int) -> RoomMember:
    member = (
        RoomMember.objects.select_related("user").filter(room=room, user_id=user_id).first()
        if 0 < user_id < 2**63
        else None
    )
    if member is None:
        raise RoomNotFound
    return member


@transaction.atomic
def room_member_remove(*, room_id: int, user_id: int, by: User) -> None:
    """Owner: removes anyone else. Moderator: removes members (not the owner, not another
    moderator). The removed user gets `room.revoked`; the room `room.member` (removed)."""
    room, actor = room_lock(room_id=room_id, by=by, need=RoomRole.MODERATOR)
    target = _target(room, user_id)
    if target.user_id == by.pk:
        raise ValidationError({"user": [_("To leave the room, use leave.")]})
    if target.role == RoomRole.OWNER or (
        actor.role == RoomRole.MODERATOR and target.role == RoomRole.MODERATOR
    ):
        raise RoomPermissionDenied(_("Moderators can remove members only."))
    target.delete()
    _member_gone(room=room, user=target.user, role=target.role, action="removed", by=by)


@transaction.atomic
def room_member_role_set(*, room_id: int, user_id: int, role: str, by: User) -> RoomMember:
    """Owner only: make a member a moderator, or a moderator a member. Ownership moves
    with `room_owner_transfer` only."""
    room, _owner = room_lock(room_id=room_id, by=by, need=RoomRole.OWNER)
    if role not in (RoomRole.MODERATOR, RoomRole.MEMBER):
        raise ValidationError({"role": [_("Choose moderator or member.")]})
    target = _target(room, user_id)
    if target.role == RoomRole.OWNER:
        raise ValidationError(
            {"role": [_("The owner's role changes only by transferring ownership.")]}
        )
    if target.role == role:
        return target
    previous = target.role
    target.role = role
    target.save(update_fields=["role"])
    activity_record(
        room=room,
        actor=by,
        verb=ActivityVerb.ROLE_CHANGED,
        data={
            "user": user_brief(target.user),
            "role": role,
            "previous": previous,
        },
    )
    publish_member(room=room, action="role_changed", user=target.user, role=role)
    return target


@transaction.atomic
def room_owner_transfer(*, room_id: int, user_id: int, by: User) -> Room:
    """Owner only: `user_id` (a member) becomes the owner, the old owner a moderator.
    `Room.owner` and both member rows change together."""
    room, old = room_lock(room_id=room_id, by=by, need=RoomRole.OWNER)
    target = _target(room, user_id)
    if target.user_id == by.pk:
        raise ValidationError({"user": [_("You already own this room.")]})
    _check_owned_cap(target.user, field="user")
    # The old owner's row first: one owner per room is a constraint checked per statement.
    old.role = RoomRole.MODERATOR
    old.save(update_fields=["role"])
    target.role = RoomRole.OWNER
    target.save(update_fields=["role"])
    room.owner = target.user
    room.updated_at = timezone.now()
    room.save(update_fields=["owner", "updated_at"])
    activity_record(
        room=room,
        actor=by,
        verb=ActivityVerb.OWNER_CHANGED,
        data={
            "user": user_brief(target.user),
            "previous": user_brief(by),
        },
    )
    publish_member(room=room, action="role_changed", user=by, role=RoomRole.MODERATOR)
    publish_member(room=room, action="owner_changed", user=target.user, role=RoomRole.OWNER)
    publish_room_updated(room)
    return room


def room_mark_read(*, member: RoomMember, message_id: int) -> RoomMember:
    """Mark the room read up to `message_id` (a message of the room). Only moves forward:
    an older id changes nothing. The member's other connections get `room.read`
    (`room`, `last_read_message_id`, `unread_count`, `first_unread_id`)."""
    if not (
        0 < message_id < 2**63
        and Message.objects.filter(room_id=member.room_id, pk=message_id).exists()
    ):
        raise ValidationError({"message_id": [_("No such message in this room.")]})
    with transaction.atomic():
        moved = (
            RoomMember.objects.filter(pk=member.pk)
            .filter(Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=message_id))
            .update(last_read_message_id=message_id)
        )
        member.refresh_from_db(fields=["last_read_message_id"])
        if moved:
            unread, first = room_unread(member=member)
            event: dict[str, Any] = {
                "type": "room.read",
                "room": member.room_id,
                "last_read_message_id": member.last_read_message_id,
                "unread_count": unread,
                "first_unread_id": first,
            }
            publish(user_group(member.user_id), event)
    return member
