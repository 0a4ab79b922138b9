"""Invitations: to one user (by e-mail or display name), or by link (a token anyone signed
in can use until it expires, is revoked or is used up). Only the owner and moderators invite.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.notifications.services import notification_send
from apps.rooms.models import (
    INVITE_LINK_DAYS,
    InvitationStatus,
    Room,
    RoomInvitation,
    RoomMember,
    RoomRole,
)
from apps.rooms.selectors import invite_link_state
from apps.rooms.services.common import InviteLinkGone, RoomNotFound, room_lock
from apps.rooms.services.rooms import member_add, room_lock_any

MAX_LINK_USES = 10_000
_GONE = {
    "expired": lambda: _("This invite link has expired. Ask for a new one."),
    "revoked": lambda: _("This invite link was withdrawn. Ask for a new one."),
    "used_up": lambda: _("This invite link has been used as many times as allowed."),
}


def _invitee(query: str) -> User:
    """An active account by e-mail address or exact display name (any case)."""
    query = query.strip()
    if not query:
        raise ValidationError({"user": [_("Give an e-mail address or a name.")]})
    users = User.objects.filter(is_active=True)
    if "@" in query:
        found = list(users.filter(email__iexact=query)[:2])
    else:
        found = list(users.filter(display_name__iexact=query)[:2])
    if not found:
        raise ValidationError(
            {"user": [_("No StockSense account matches “%(q)s”.") % {"q": query}]}
        )
    if len(found) > 1:
        raise ValidationError(
            {
                "user": [
                    _("Several people are called “%(q)s”: invite by e-mail address.") % {"q": query}
                ]
            }
        )
    return found[0]


def _notify_invited(invitation: RoomInvitation, room: Room, by: User) -> None:
    invitee = invitation.user
    if invitee is None:  # a link: nobody to tell
        return
    with translation.override(invitee.language or None):
        notification_send(
            user=invitee,
            title=_("Room invitation"),
            message=_("%(name)s invited you to the room “%(room)s”.")
            % {"name": by.get_short_name(), "room": room.name},
            channels=["in_app"],
            data={"room": room.pk, "invitation": invitation.pk, "url": "/rooms/"},
            source="rooms",
        )


@transaction.atomic
def room_invitation_create(*, room_id: int, user: str, by: User) -> RoomInvitation:
    """Owner or moderator: invite an existing account (`user`: e-mail address or display
    name). The invitee is notified in the app and sees it in their invitation list."""
    room, _member = room_lock(room_id=room_id, by=by, need=RoomRole.MODERATOR)
    invitee = _invitee(user)
    if RoomMember.objects.filter(room=room, user=invitee).exists():
        raise ValidationError(
            {"user": [_("%(name)s is already a member.") % {"name": invitee.get_short_name()}]}
        )
    try:
        with transaction.atomic():
            invitation = RoomInvitation.objects.create(room=room, user=invitee, invited_by=by)
    except IntegrityError as exc:  # one pending invitation per user and room
        raise ValidationError(
            {"user": [_("%(name)s is already invited.") % {"name": invitee.get_short_name()}]}
        ) from exc
    _notify_invited(invitation, room, by)
    return invitation


def _room_invitation(room: Room, invitation_id: int, *, link: bool) -> RoomInvitation:
    invitation = (
        RoomInvitation.objects.select_for_update(of=("self",))
        .select_related("user", "invited_by", "room__owner")
        .filter(room=room, pk=invitation_id, user__isnull=link)
        .first()
        if 0 < invitation_id < 2**63
        else None
    )
    if invitation is None:
        raise RoomNotFound
    return invitation


@transaction.atomic
def room_invitation_revoke(*, room_id: int, invitation_id: int, by: User) -> None:
    """Owner or moderator: withdraw a pending invitation (an answered one stays as is)."""
    room, _member = room_lock(room_id=room_id, by=by, need=RoomRole.MODERATOR)
    invitation = _room_invitation(room, invitation_id, link=False)
    if invitation.status == InvitationStatus.PENDING:
        invitation.status = InvitationStatus.REVOKED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])


@transaction.atomic
def room_invitation_respond(*, invitation_id: int, accept: bool, by: User) -> RoomInvitation:
    """The invitee accepts (joins the room; the member cap applies) or declines a pending
    invitation. Anyone else, or an invitation no longer pending, gets 404."""
    room_id = (
        RoomInvitation.objects.filter(pk=invitation_id, user=by, status=InvitationStatus.PENDING)
        .values_list("room_id", flat=True)
        .first()
        if 0 < invitation_id < 2**63
        else None
    )
    if room_id is None:
        raise RoomNotFound
    room = room_lock_any(room_id=room_id)  # the room first, as every room write
    if room is None:
        raise RoomNotFound
    invitation = _room_invitation(room, invitation_id, link=False)
    if invitation.user_id != by.pk or invitation.status != InvitationStatus.PENDING:
        raise RoomNotFound
    if accept and not RoomMember.objects.filter(room=room, user=by).exists():
        member_add(room=room, user=by, via="invitation")
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation


@transaction.atomic
def room_invite_link_create(
    *, room_id: int, by: User, max_uses: int | None = None
) -> RoomInvitation:
    """Owner or moderator: a link valid INVITE_LINK_DAYS days, for at most `max_uses`
    joins (None: unlimited)."""
    room, _member = room_lock(room_id=room_id, by=by, need=RoomRole.MODERATOR)
    if max_uses is not None and not 1 <= max_uses <= MAX_LINK_USES:
        raise ValidationError(
            {
                "max_uses": [
                    _("Between 1 and %(max)d, or empty for no limit.") % {"max": MAX_LINK_USES}
                ]
            }
        )
    now = timezone.now()
    return RoomInvitation.objects.create(
        room=room,
        invited_by=by,
        token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(days=INVITE_LINK_DAYS),
        max_uses=max_uses,
    )


@transaction.atomic
def room_invite_link_revoke(*, room_id: int, link_id: int, by: User) -> None:
    """Owner or moderator: the link stops working at once."""
    room, _member = room_lock(room_id=room_id, by=by, need=RoomRole.MODERATOR)
    link = _room_invitation(room, link_id, link=True)
    if link.status != InvitationStatus.REVOKED:
        link.status = InvitationStatus.REVOKED
        link.responded_at = timezone.now()
        link.save(update_fields=["status", "responded_at"])


@transaction.atomic
def room_join_by_link(*, token: str, by: User) -> Room:
    """Join the room of an invite link. Unknown token: 404. Expired, revoked or used-up
    link: `InviteLinkGone` (410) with the reason. Already a member: nothing changes (no use
    counted)."""
    room_id = (
        RoomInvitation.objects.filter(token=token, user__isnull=True)
        .values_list("room_id", flat=True)
        .first()
        if token and len(token) <= 64
        else None
    )
    if room_id is None:
        raise RoomNotFound
    room = room_lock_any(room_id=room_id)
    if room is None:
        raise RoomNotFound
    link = RoomInvitation.objects.select_for_update(of=("self",)).get(
        token=token, user__isnull=True
    )
    if RoomMember.objects.filter(room=room, user=by).exists():
        return room
    state = invite_link_state(link)
    if state != "active":
        raise InviteLinkGone(str(_GONE[state]()), state=state)
    member_add(room=room, user=by, via="link")
    RoomInvitation.objects.filter(pk=link.pk).update(uses=F("uses") + 1)
    return room
