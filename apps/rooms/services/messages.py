"""Chat messages: post (stored first, then pushed), edit, soft delete, reactions, copying a
shared alert. Every change publishes `room.message` or `room.message_updated` after commit.

Replies are one level deep: a reply to a reply attaches to the thread's top message.
Edits: the author only, within MESSAGE_EDIT_WINDOW. Deletes: the author, or the owner and
moderators; soft (the row stays as "message deleted", the text, card and reactions go).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.alerts.models import AlertRule
from apps.alerts.services import alert_create
from apps.market.selectors import instruments_by_symbols
from apps.notifications.models import Priority
from apps.notifications.services import NotificationRequest, notifications_send_many
from apps.realtime.events import publish, room_group
from apps.rooms.models import (
    MAX_REACTIONS_PER_MESSAGE,
    ActivityVerb,
    Message,
    MessageKind,
    Reaction,
    Room,
    RoomMember,
    RoomRole,
    ShareKind,
)
from apps.rooms.ratelimit import message_slot_take
from apps.rooms.selectors import message_data
from apps.rooms.services.common import (
    RANK,
    RoomNotFound,
    RoomPermissionDenied,
    RoomRateLimited,
    activity_record,
    membership_get,
)
from apps.rooms.services.shares import share_freeze, share_title
from apps.rooms.text import (
    MentionCandidate,
    body_validate,
    emoji_validate,
    mentions_find,
    symbol_tokens,
)

MESSAGE_EDIT_WINDOW = timedelta(hours=24)
MAX_CLIENT_ID = 64
NOTIFICATION_EXCERPT = 300


def _mentions(room: Room, body: str, author: User) -> list[int]:
    if "@" not in body:
        return []
    members = RoomMember.objects.filter(room=room).select_related("user")
    candidates = [
        MentionCandidate(m.user_id, (m.user.display_name, m.user.email.split("@")[0]))
        for m in members
    ]
    return [uid for uid in mentions_find(body, candidates) if uid != author.pk]


def _symbols(body: str) -> list[str]:
    tokens = symbol_tokens(body)
    if not tokens:
        return []
    by_exchange: dict[str, list[str]] = {}
    for exchange, symbol in tokens:
        by_exchange.setdefault(exchange, []).append(symbol)
    found: dict[tuple[str, str], str] = {}
    for exchange, symbols in by_exchange.items():
        for symbol, instrument in instruments_by_symbols(
            symbols=symbols, exchange=exchange
        ).items():
            found[(exchange, symbol)] = f"{instrument.exchange.code}:{instrument.symbol}"
    return list(dict.fromkeys(found[t] for t in tokens if t in found))


def _parent(room: Room, parent_id: int | None) -> Message | None:
    if parent_id is None:
        return None
    parent = (
        Message.objects.filter(room=room, pk=parent_id).first()
        if isinstance(parent_id, int) and 0 < parent_id < 2**63
        else None
    )
    if parent is None:
        raise ValidationError({"parent": [_("No such message in this room.")]})
    if parent.parent_id is not None:  # one level deep: join the thread of the top message
        parent = Message.objects.get(pk=parent.parent_id)
    if parent.deleted_at is not None:
        raise ValidationError({"parent": [_("That message was deleted; it takes no replies.")]})
    return parent


def _notify_mentions(message: Message, room: Room, author: User, user_ids: list[int]) -> None:
    """Each newly mentioned member gets a notification (normal priority, their channels)."""
    if not user_ids:
        return
    excerpt = message.body
    if len(excerpt) > NOTIFICATION_EXCERPT:
        excerpt = excerpt[: NOTIFICATION_EXCERPT - 1] + "…"
    url = f"/rooms/{room.pk}/#message-{message.pk}"
    requests = []
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        with translation.override(user.language or None):
            requests.append(
                NotificationRequest(
                    user=user,
                    title=_("%(name)s mentioned you in %(room)s")
                    % {"name": author.get_short_name(), "room": room.name},
                    message=f"{excerpt}\n{url}",
                    priority=Priority.NORMAL,
                    data={"room": room.pk, "message": message.pk, "url": url},
                    source="rooms",
                )
            )
    notifications_send_many(requests)


def _publish(kind: str, message: Message, *, client_id: str = "") -> None:
    event: dict[str, Any] = {"type": kind, "message": message_data(message)}
    if kind == "room.message":
        event["client_id"] = client_id
    publish(room_group(message.room_id), event)


def message_create(
    *,
    room: Room,
    author: User,
    body: str,
    parent_id: int | None = None,
    share: dict[str, Any] | None = None,
    client_id: str = "",
) -> Message:
    """Post a message (see `message_post`); returns the stored message."""
    message, _created = message_post(
        room=room,
        author=author,
        body=body,
        parent_id=parent_id,
        share=share,
        client_id=client_id,
    )
    return message


@transaction.atomic
def message_post(
    *,
    room: Room,
    author: User,
    body: str,
    parent_id: int | None = None,
    share: dict[str, Any] | None = None,
    client_id: str = "",
) -> tuple[Message, bool]:
    """Validate, rate-limit, store, then (after commit) publish `room.message` and notify
    the members mentioned. Returns the message and whether it is new: a `client_id` the
    author already used in this room returns the stored message, unchanged, and nothing is
    sent again.

    Errors: `RoomNotFound` (not a member), ValidationError on `body` (empty, too long),
    `parent`, `share.*` or `client_id`; `RoomRateLimited` when flooding.
    """
    client_id = client_id.strip() if isinstance(client_id, str) else ""
    if len(client_id) > MAX_CLIENT_ID:
        raise ValidationError(
            {"client_id": [_("At most %(n)d characters.") % {"n": MAX_CLIENT_ID}]}
        )
    membership_get(room_id=room.pk, user=author)
    if client_id:
        existing = Message.objects.filter(room=room, author=author, client_id=client_id).first()
        if existing is not None:
            return existing, False
    body = body_validate(body, allow_empty=share is not None)
    parent = _parent(room, parent_id)
    card = share_freeze(share=share, author=author) if share is not None else None
    mentions = _mentions(room, body, author)
    symbols = _symbols(body)
    if card is not None and card.get("symbol") and card["symbol"] not in symbols:
        symbols.insert(0, card["symbol"])
    wait = message_slot_take(room_id=room.pk, user_id=author.pk)
    if wait > 0:
        raise RoomRateLimited(wait)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                room=room,
                author=author,
                kind=MessageKind.SHARE if card else MessageKind.TEXT,
                body=body,
                share=card,
                parent=parent,
                mentions=mentions,
                symbols=symbols,
                client_id=client_id,
            )
    except IntegrityError:  # the same client_id, posted concurrently: that one wins
        existing = Message.objects.filter(room=room, author=author, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    message.author = author
    if card is not None:
        activity_record(
            room=room,
            actor=author,
            verb=ActivityVerb.SHARED,
            data={
                "message": message.pk,
                "share_type": card["type"],
                "title": share_title(card),
            },
        )
    _publish("room.message", message, client_id=client_id)
    _notify_mentions(message, room, author, mentions)
    return message, True


def _locked_message(room: Room, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update(no_key=True, of=("self",))
        .select_related("author", "deleted_by")
        .filter(room=room, pk=message_id)
        .first()
        if 0 < message_id < 2**63
        else None
    )
    if message is None:
        raise RoomNotFound
    return message


@transaction.atomic
def message_edit(*, room: Room, message_id: int, body: str, by: User) -> Message:
    """The author changes the text within MESSAGE_EDIT_WINDOW (a share's card stays).
    Members mentioned for the first time are notified."""
    membership_get(room_id=room.pk, user=by)
    message = _locked_message(room, message_id)
    if message.author_id != by.pk:
        raise RoomPermissionDenied(_("Only the author can edit a message."))
    if message.deleted_at is not None:
        raise ValidationError({"body": [_("A deleted message cannot be edited.")]})
    if timezone.now() - message.created_at > MESSAGE_EDIT_WINDOW:
        raise ValidationError(
            {
                "body": [
                    _("Messages can be edited for %(h)d hours after sending.")
                    % {"h": MESSAGE_EDIT_WINDOW.total_seconds() // 3600}
                ]
            }
        )
    body = body_validate(body, allow_empty=message.share is not None)
    if body == message.body:
        return message
    mentions = _mentions(room, body, by)
    new_mentions = [uid for uid in mentions if uid not in (message.mentions or [])]
    symbols = _symbols(body)
    card_symbol = (message.share or {}).get("symbol")
    if card_symbol and card_symbol not in symbols:
        symbols.insert(0, card_symbol)
    message.body, message.mentions, message.symbols = body, mentions, symbols
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "mentions", "symbols", "edited_at"])
    _publish("room.message_updated", message)
    _notify_mentions(message, room, by, new_mentions)
    return message


@transaction.atomic
def message_delete(*, room: Room, message_id: int, by: User) -> Message:
    """Soft delete by the author, or by the owner or a moderator: text, card, mentions and
    reactions are cleared, `deleted_by` set; replies stay. Deleting twice changes nothing."""
    member = membership_get(room_id=room.pk, user=by)
    message = _locked_message(room, message_id)
    if message.author_id != by.pk and RANK[member.role] < RANK[RoomRole.MODERATOR]:
        raise RoomPermissionDenied(_("Only the author, the owner or a moderator can delete it."))
    if message.deleted_at is not None:
        return message
    message.body, message.share, message.mentions, message.symbols = "", None, [], []
    message.deleted_at, message.deleted_by = timezone.now(), by
    message.save(update_fields=["body", "share", "mentions", "symbols", "deleted_at", "deleted_by"])
    Reaction.objects.filter(message=message).delete()
    _publish("room.message_updated", message)
    return message


@transaction.atomic
def reaction_toggle(*, room: Room, message_id: int, emoji: str, by: User) -> tuple[Message, bool]:
    """Add `by`'s `emoji` to the message, or take it away if there; returns the message
    and whether the reaction is now there. At most MAX_REACTIONS_PER_MESSAGE distinct emoji
    per message."""
    membership_get(room_id=room.pk, user=by)
    emoji = emoji_validate(emoji)
    message = _locked_message(room, message_id)  # serialises toggles on one message
    if message.deleted_at is not None:
        raise ValidationError({"emoji": [_("That message was deleted.")]})
    reactions = Reaction.objects.filter(message=message)
    mine = reactions.filter(user=by, emoji=emoji)
    if mine.exists():
        mine.delete()
        added = False
    else:
        if (
            not reactions.filter(emoji=emoji).exists()
            and reactions.values("emoji").distinct().count() >= MAX_REACTIONS_PER_MESSAGE
        ):
            raise ValidationError(
                {
                    "emoji": [
                        _("A message takes at most %(n)d different emoji.")
                        % {"n": MAX_REACTIONS_PER_MESSAGE}
                    ]
                }
            )
        Reaction.objects.create(message=message, user=by, emoji=emoji)
        added = True
    _publish("room.message_updated", message)
    return message, added


def message_alert_copy(*, room: Room, message_id: int, by: User) -> AlertRule:
    """Create an alert rule for `by` from an alert card in the room (`alert_create`: their
    cap and validation apply; in-app notifications; a watchlist rule needs access to that
    watchlist)."""
    membership_get(room_id=room.pk, user=by)
    message = (
        Message.objects.filter(room=room, pk=message_id).first() if 0 < message_id < 2**63 else None
    )
    if message is None:
        raise RoomNotFound
    card = message.share or {}
    if message.deleted_at is not None or card.get("type") != ShareKind.ALERT:
        raise ValidationError({"message": [_("This message does not share an alert.")]})
    data: dict[str, Any] = {
        "name": card.get("name") or "",
        "conditions": [dict(c) for c in card.get("conditions") or []],
        "combine": card.get("combine") or "all",
        "trigger_mode": card.get("trigger_mode") or "once",
        "bar_timeframe": card.get("bar_timeframe") or "",
        "cooldown_seconds": int(card.get("cooldown_seconds") or 0),
        "channels": ["websocket"],
        "priority": "normal",
    }
    if card.get("symbol"):
        data["symbol"] = card["symbol"]
    elif card.get("watchlist"):
        data["watchlist"] = card["watchlist"]["id"]
    else:
        raise ValidationError({"message": [_("This alert has no instrument or watchlist.")]})
    return alert_create(by=by, data=data)
