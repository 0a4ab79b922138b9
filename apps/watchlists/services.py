"""Writes for watchlists. Each runs in one transaction and publishes its events after commit.

Concurrency: every write first locks the watchlist row (`SELECT ... FOR UPDATE`), then
checks the acting user's role and reads the items or members it changes. Writes to one list
therefore run one after another, the event each publishes is a snapshot taken under the lock,
and `updated_at` strictly increases from one write to the next (clients drop an event older
than the state they already have: events of two writes can reach Redis out of order).

Permissions: a user who cannot see the list (not the owner, no accepted membership) gets
`WatchlistNotFound` (HTTP 404, the same body as a missing id, so ids leak nothing); a user
who can see it but lacks the role gets `WatchlistPermissionDenied` (HTTP 403).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from apps.accounts.models import User
from apps.market.models import Instrument
from apps.market.selectors import instrument_get
from apps.realtime.events import publish, user_group, watchlist_group
from apps.watchlists.models import (
    MAX_ITEMS_PER_WATCHLIST,
    MAX_MEMBERS_PER_WATCHLIST,
    MAX_WATCHLISTS_PER_OWNER,
    MemberRole,
    MemberStatus,
    Role,
    Watchlist,
    WatchlistItem,
    WatchlistMember,
)
from apps.watchlists.selectors import invitation_data, user_brief, watchlist_snapshot

NAME_MAX_LENGTH = 80
NOTE_MAX_LENGTH = 500
_RANK = {Role.VIEWER.value: 0, Role.EDITOR.value: 1, Role.OWNER.value: 2}


class WatchlistNotFound(Http404):
    """No such watchlist (or item, member, invitation), or the user may not see it."""


class WatchlistPermissionDenied(PermissionDenied):
    """The user can see the watchlist but their role does not allow this change."""


# --- helpers ----------------------------------------------------------------------------------


def _lock(*, watchlist_id: int, by: User, need: str) -> tuple[Watchlist, str]:
    """Lock the watchlist row and return it with `by`'s role, which must be at least `need`."""
    watchlist = (
        Watchlist.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=watchlist_id)
        .first()
    )
    if watchlist is None:
        raise WatchlistNotFound
    if watchlist.owner_id == by.pk:
        role: str | None = Role.OWNER.value
    else:
        role = (
            WatchlistMember.objects.filter(
                watchlist=watchlist, user=by, status=MemberStatus.ACCEPTED
            )
            .values_list("role", flat=True)
            .first()
        )
    if role is None:
        raise WatchlistNotFound
    if _RANK[role] < _RANK[need]:
        raise WatchlistPermissionDenied(
            "Only the owner can do this." if need == Role.OWNER else
            "Viewers cannot change this watchlist."
        )
    return watchlist, role


def _touch(watchlist: Watchlist) -> None:
    # Strictly increasing even if the clock steps back or two writes share a microsecond.
    now = timezone.now()
    watchlist.updated_at = max(now, watchlist.updated_at + timedelta(microseconds=1))
    watchlist.save(update_fields=["updated_at"])


def _publish_updated(watchlist: Watchlist, *, by: User, change: dict[str, Any]) -> None:
    """`watchlist.updated` to everyone subscribed to the list. `watchlist.role` is None:
    subscribers hold different roles, the consumer fills it in per connection."""
    publish(
        watchlist_group(watchlist.pk),
        {
            "type": "watchlist.updated",
            "watchlist": watchlist_snapshot(watchlist=watchlist, role=None),
            "by": user_brief(by),
            "change": change,
        },
    )
    # Rooms sharing this list log the change in their activity feed (imported here: the
    # rooms app builds on this one).
    from apps.rooms.services import room_watchlist_changed

    room_watchlist_changed(watchlist_id=watchlist.pk, by=by, change=change)


def _publish_to_user(
    watchlist: Watchlist, *, user_id: int, role: str, by: User, change: dict[str, Any]
) -> None:
    """`watchlist.updated` to every connection of one user (who may not have subscribed yet,
    e.g. their other tabs after creating or joining a list)."""
    publish(
        user_group(user_id),
        {
            "type": "watchlist.updated",
            "watchlist": watchlist_snapshot(watchlist=watchlist, role=role),
            "by": user_brief(by),
            "change": change,
        },
    )


def _publish_revoked(*, watchlist_id: int, user_id: int) -> None:
    publish(user_group(user_id), {"type": "watchlist.revoked", "id": watchlist_id})


def _publish_invited(member: WatchlistMember, watchlist: Watchlist) -> None:
    """`watchlist.invited` to every connection of the invitee: a new pending invitation, or
    a changed one (role, list name). Clients replace an invitation they hold by `id`."""
    member.watchlist = watchlist  # the locked row, with its owner loaded
    publish(
        user_group(member.user_id),
        {"type": "watchlist.invited", "invitation": invitation_data(member)},
    )


def _publish_invitation_closed(
    *, member_id: int, watchlist_id: int, user_id: int, reason: str
) -> None:
    """`watchlist.invitation_closed` to every connection of the invitee: the invitation is
    no longer pending (`reason`: withdrawn, deleted, accepted, declined)."""
    publish(
        user_group(user_id),
        {"type": "watchlist.invitation_closed", "id": member_id, "watchlist_id": watchlist_id,
         "reason": reason},
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the watchlist a name."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": [f"A watchlist name has at most {NAME_MAX_LENGTH} characters."]}
        )
    return name


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": [f"A note has at most {NOTE_MAX_LENGTH} characters."]})
    return note


def _clean_role(role: str) -> str:
    if role not in MemberRole.values:
        raise ValidationError({"role": ["Choose editor or viewer."]})
    return role


def _name_taken(name: str) -> ValidationError:
    return ValidationError({"name": [f"You already have a watchlist named “{name}”."]})


def instrument_resolve(*, symbol: str) -> Instrument:
    """`"TCS"` is the NSE listing; `"BSE:SENSEX"` names the exchange. Active instruments only."""
    exchange, _, code = symbol.strip().upper().rpartition(":")
    instrument = instrument_get(symbol=code, exchange=exchange.strip() or "NSE") if code else None
    if instrument is None:
        raise ValidationError(
            {
                "symbol": [
                    f"No active instrument “{symbol.strip()}”. Use an NSE symbol such as TCS, "
                    "or EXCHANGE:SYMBOL such as BSE:SENSEX."
                ]
            }
        )
    return instrument


def _item_in(watchlist: Watchlist, item_id: int) -> WatchlistItem:
    item = (
        WatchlistItem.objects.select_related("instrument__exchange")
        .filter(watchlist=watchlist, pk=item_id)
        .first()
    )
    if item is None:
        raise WatchlistNotFound
    return item


def _member_in(watchlist: Watchlist, member_id: int) -> WatchlistMember:
    member = (
        WatchlistMember.objects.select_related("user")
        .filter(watchlist=watchlist, pk=member_id)
        .first()
    )
    if member is None:
        raise WatchlistNotFound
    return member


# --- watchlists -------------------------------------------------------------------------------


@transaction.atomic
def watchlist_create(*, name: str, by: User) -> Watchlist:
    """A new, empty list owned by `by`, placed after their other lists."""
    name = _clean_name(name)
    # Serialises one owner's creates, so the count limit and positions hold under races.
    User.objects.select_for_update().filter(pk=by.pk).first()
    owned = Watchlist.objects.filter(owner=by)
    if owned.count() >= MAX_WATCHLISTS_PER_OWNER:
        raise ValidationError(
            {
                "name": [
                    f"You can have at most {MAX_WATCHLISTS_PER_OWNER} watchlists. "
                    "Delete one to create another."
                ]
            }
        )
    if owned.filter(name__iexact=name).exists():
        raise _name_taken(name)
    last = owned.aggregate(last=Max("position"))["last"]
    watchlist = Watchlist.objects.create(
        owner=by, name=name, position=0 if last is None else last + 1
    )
    _publish_to_user(
        watchlist, user_id=by.pk, role=Role.OWNER, by=by, change={"action": "created"}
    )
    return watchlist


@transaction.atomic
def watchlist_rename(*, watchlist_id: int, name: str, by: User) -> Watchlist:
    """Owner only."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.OWNER)
    name = _clean_name(name)
    old_name = watchlist.name
    if name == old_name:
        return watchlist
    if Watchlist.objects.filter(owner=by, name__iexact=name).exclude(pk=watchlist.pk).exists():
        raise _name_taken(name)
    watchlist.name = name
    try:
        # A concurrent create of the same name slips past the check above; the constraint
        # catches it, and the savepoint keeps the outer transaction usable.
        with transaction.atomic():
            watchlist.save(update_fields=["name"])
    except IntegrityError as exc:
        raise _name_taken(name) from exc
    _touch(watchlist)
    _publish_updated(
        watchlist, by=by, change={"action": "renamed", "name": name, "old_name": old_name}
    )
    for member in WatchlistMember.objects.filter(
        watchlist=watchlist, status=MemberStatus.INVITED
    ).select_related("invited_by"):
        _publish_invited(member, watchlist)
    return watchlist


@transaction.atomic
def watchlist_delete(*, watchlist_id: int, by: User) -> None:
    """Owner only. Everyone who could see the list gets `watchlist.revoked`; everyone with
    a pending invitation gets `watchlist.invitation_closed`."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.OWNER)
    members = WatchlistMember.objects.filter(watchlist=watchlist)
    user_ids = [watchlist.owner_id, *members.filter(
        status=MemberStatus.ACCEPTED
    ).values_list("user_id", flat=True)]
    pending = list(members.filter(status=MemberStatus.INVITED).values_list("pk", "user_id"))
    watchlist.delete()
    for user_id in user_ids:
        _publish_revoked(watchlist_id=watchlist_id, user_id=user_id)
    for member_id, user_id in pending:
        _publish_invitation_closed(
            member_id=member_id, watchlist_id=watchlist_id, user_id=user_id, reason="deleted"
        )


# --- items ------------------------------------------------------------------------------------


@transaction.atomic
def watchlist_item_add(
    *, watchlist_id: int, symbol: str, note: str = "", by: User
) -> WatchlistItem:
    """Editor or owner. Appends the instrument at the end of the list."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.EDITOR)
    note = _clean_note(note)
    instrument = instrument_resolve(symbol=symbol)
    items = WatchlistItem.objects.filter(watchlist=watchlist)
    if items.filter(instrument=instrument).exists():
        raise ValidationError(
            {"symbol": [f"{instrument.exchange.code}:{instrument.symbol} is already on this "
                        "watchlist."]}
        )
    if items.count() >= MAX_ITEMS_PER_WATCHLIST:
        raise ValidationError(
            {"symbol": [f"A watchlist holds at most {MAX_ITEMS_PER_WATCHLIST} instruments. "
                        "Remove one to add another."]}
        )
    last = items.aggregate(last=Max("position"))["last"]
    item = WatchlistItem.objects.create(
        watchlist=watchlist,
        instrument=instrument,
        note=note,
        position=0 if last is None else last + 1,
    )
    _touch(watchlist)
    _publish_updated(
        watchlist,
        by=by,
        change={
            "action": "item_added",
            "item_id": item.pk,
            "symbol": instrument.symbol,
            "exchange": instrument.exchange.code,
        },
    )
    return item


@transaction.atomic
def watchlist_item_remove(*, watchlist_id: int, item_id: int, by: User) -> None:
    """Editor or owner."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.EDITOR)
    item = _item_in(watchlist, item_id)
    item.delete()
    _touch(watchlist)
    _publish_updated(
        watchlist,
        by=by,
        change={
            "action": "item_removed",
            "item_id": item_id,
            "symbol": item.instrument.symbol,
            "exchange": item.instrument.exchange.code,
        },
    )


@transaction.atomic
def watchlist_item_note(*, watchlist_id: int, item_id: int, note: str, by: User) -> WatchlistItem:
    """Editor or owner. An empty note clears it."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.EDITOR)
    item = _item_in(watchlist, item_id)
    note = _clean_note(note)
    if note == item.note:
        return item
    item.note = note
    item.save(update_fields=["note"])
    _touch(watchlist)
    _publish_updated(
        watchlist,
        by=by,
        change={
            "action": "item_note",
            "item_id": item.pk,
            "symbol": item.instrument.symbol,
            "exchange": item.instrument.exchange.code,
            "note": note,
        },
    )
    return item


@transaction.atomic
def watchlist_items_reorder(*, watchlist_id: int, item_ids: Sequence[int], by: User) -> None:
    """Editor or owner. `item_ids` is the complete new order: every current item exactly
    once. Two reorders at the same time run one after the other (row lock); the second one
    must then list the items as they are after the first, or it is refused."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.EDITOR)
    items = {item.pk: item for item in WatchlistItem.objects.filter(watchlist=watchlist)}
    wanted = list(item_ids)
    duplicated = sorted(i for i, n in Counter(wanted).items() if n > 1)
    unknown = sorted(set(wanted) - set(items))
    missing = sorted(set(items) - set(wanted))
    if duplicated or unknown or missing:
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if unknown:
            problems.append(f"not on this watchlist {unknown}")
        if duplicated:
            problems.append(f"repeated {duplicated}")
        raise ValidationError(
            {"item_ids": ["List every item of the watchlist exactly once: "
                          + "; ".join(problems) + "."]}
        )
    changed = []
    for position, item_id in enumerate(wanted):
        if items[item_id].position != position:
            items[item_id].position = position
            changed.append(items[item_id])
    WatchlistItem.objects.bulk_update(changed, ["position"])
    _touch(watchlist)
    _publish_updated(watchlist, by=by, change={"action": "items_reordered", "item_ids": wanted})


# --- members ----------------------------------------------------------------------------------


@transaction.atomic
def watchlist_member_invite(
    *, watchlist_id: int, email: str, role: str, by: User
) -> WatchlistMember:
    """Owner only. Invites an existing account by e-mail; it sees the list once it accepts.
    A user who declined earlier can be invited again. The invitee's open pages get
    `watchlist.invited`."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.OWNER)
    role = _clean_role(role)
    invitee = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if invitee is None:
        raise ValidationError({"email": ["No StockSense account uses this e-mail address."]})
    if invitee.pk == watchlist.owner_id:
        raise ValidationError({"email": ["You own this watchlist: invite someone else."]})
    members = WatchlistMember.objects.filter(watchlist=watchlist)
    member = members.filter(user=invitee).first()
    if member is not None and member.status != MemberStatus.DECLINED:
        already = "invited" if member.status == MemberStatus.INVITED else "a member"
        raise ValidationError({"email": [f"{email.strip()} is already {already}."]})
    active = members.exclude(status=MemberStatus.DECLINED).count()
    if active >= MAX_MEMBERS_PER_WATCHLIST:
        raise ValidationError(
            {"email": [f"A watchlist can be shared with at most {MAX_MEMBERS_PER_WATCHLIST} "
                       "people. Remove someone to invite another."]}
        )
    if member is None:
        member = WatchlistMember.objects.create(
            watchlist=watchlist, user=invitee, role=role, invited_by=by
        )
    else:
        member.role = role
        member.status = MemberStatus.INVITED
        member.invited_by = by
        member.created_at = timezone.now()
        member.responded_at = None
        member.save()
    _touch(watchlist)
    _publish_updated(
        watchlist,
        by=by,
        change={"action": "members_changed", "user": user_brief(invitee), "status": "invited",
                "role": role},
    )
    _publish_invited(member, watchlist)
    return member


@transaction.atomic
def watchlist_member_respond(*, member_id: int, accept: bool, by: User) -> WatchlistMember:
    """The invitee accepts or declines a pending invitation. Their other pages get
    `watchlist.invitation_closed` (and, on accept, the list as `watchlist.updated`)."""
    watchlist_id = (
        WatchlistMember.objects.filter(pk=member_id, user=by)
        .values_list("watchlist_id", flat=True)
        .first()
    )
    if watchlist_id is None:
        raise WatchlistNotFound
    # The invitee cannot see the list yet, so no role check: the invitation is the grant.
    watchlist = (
        Watchlist.objects.select_for_update(of=("self",)).select_related("owner")
        .get(pk=watchlist_id)
    )
    member = WatchlistMember.objects.select_related("user").get(pk=member_id)
    if member.status != MemberStatus.INVITED:
        raise WatchlistNotFound
    member.status = MemberStatus.ACCEPTED if accept else MemberStatus.DECLINED
    member.responded_at = timezone.now()
    member.save(update_fields=["status", "responded_at"])
    _touch(watchlist)
    change = {"action": "members_changed", "user": user_brief(by), "status": member.status,
              "role": member.role}
    _publish_updated(watchlist, by=by, change=change)
    _publish_invitation_closed(member_id=member.pk, watchlist_id=watchlist.pk, user_id=by.pk,
                               reason=member.status)
    if accept:
        _publish_to_user(watchlist, user_id=by.pk, role=member.role, by=by, change=change)
    return member


@transaction.atomic
def watchlist_member_set_role(
    *, watchlist_id: int, member_id: int, role: str, by: User
) -> WatchlistMember:
    """Owner only. Works on pending invitations too (the invitee gets the changed
    `watchlist.invited`)."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.OWNER)
    member = _member_in(watchlist, member_id)
    role = _clean_role(role)
    if member.role == role:
        return member
    member.role = role
    member.save(update_fields=["role"])
    _touch(watchlist)
    _publish_updated(
        watchlist,
        by=by,
        change={"action": "members_changed", "user": user_brief(member.user),
                "status": member.status, "role": role},
    )
    if member.status == MemberStatus.INVITED:
        _publish_invited(member, watchlist)
    return member


@transaction.atomic
def watchlist_member_remove(*, watchlist_id: int, member_id: int, by: User) -> None:
    """The owner removes anyone (or withdraws an invitation); a member removes only
    themself (leaves). The removed user gets `watchlist.revoked`, or, when the invitation
    was still pending, `watchlist.invitation_closed` (withdrawn)."""
    watchlist, _ = _lock(watchlist_id=watchlist_id, by=by, need=Role.VIEWER)
    member = _member_in(watchlist, member_id)
    if watchlist.owner_id != by.pk and member.user_id != by.pk:
        raise WatchlistPermissionDenied("Only the owner can remove other members.")
    had_access = member.status == MemberStatus.ACCEPTED
    was_pending = member.status == MemberStatus.INVITED
    member.delete()
    _touch(watchlist)
    if had_access:
        # Sent first: the consumer unsubscribes the user before the update below reaches it.
        _publish_revoked(watchlist_id=watchlist.pk, user_id=member.user_id)
    elif was_pending:
        _publish_invitation_closed(member_id=member_id, watchlist_id=watchlist.pk,
                                   user_id=member.user_id, reason="withdrawn")
    _publish_updated(
        watchlist,
        by=by,
        change={"action": "members_changed", "user": user_brief(member.user),
                "status": "removed", "role": member.role},
    )
