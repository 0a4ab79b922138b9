"""Rooms over the WebSocket: what `RealtimeConsumer` calls for room frames and room events.

A connection opens a room with `{"type": "subscribe", "topic": "room", "id": N}`: membership
is checked (an outsider gets `not_found`, as for a missing room), the connection joins the
group `room.<id>` and the room's presence, and gets `subscribed` then `room.snapshot` (last
50 messages, unread state, who is online). From then on the group's events are forwarded;
`room.revoked` on the user's own group closes the room at once. Messages are stored by
`services.message_create` (in a task: the socket keeps receiving meanwhile) and reach every
subscribed socket (the sender's other tabs too) as `room.message`; the sending socket also
gets `room.sent`. Presence: `apps/rooms/presence.py`. Design notes: docs/realtime.md, "Rooms".
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404
from django.utils.translation import gettext as _

from apps.realtime import protocol
from apps.realtime.events import room_group
from apps.realtime.protocol import ProtocolError
from apps.realtime.sync import ws_sync
from apps.rooms import presence

logger = logging.getLogger(__name__)

MAX_ROOMS = 50  # open at once per connection
MAX_SENDING = 10  # `room.send`s waiting to be stored per connection (the flood burst)
TYPING_INTERVAL = 2.0  # at most one `typing: true` per connection and room per this many s


class RoomSocket(Protocol):
    """What this module needs of the consumer."""

    user: Any  # apps.realtime.auth.SocketUser
    channel_name: str
    channel_layer: Any

    async def send_frame(self, frame: dict[str, Any]) -> None: ...


@dataclass(slots=True)
class OpenRoom:
    typing: bool = False
    typing_sent_at: float = 0.0  # monotonic time of the last `typing: true` published


# -- database calls (the sync thread) ---------------------------------------------------------


def _not_found(ref: Any) -> ProtocolError:
    return ProtocolError("not_found", _("No such room."), ref)


@ws_sync
def room_open(*, user_id: int, room_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The room's snapshot for this member and the member's `{id, name}`; None when the
    user is not a member (or there is no such room)."""
    from apps.accounts.models import User
    from apps.rooms import selectors
    from apps.watchlists.selectors import user_brief

    found = selectors.room_get_for_member(user=User(pk=user_id), room_id=room_id)
    if found is None:
        return None
    room, member = found
    return selectors.room_snapshot(room=room, member=member), user_brief(member.user)


@ws_sync
def message_send(*, user_id: int, frame: protocol.RoomSendFrame) -> dict[str, Any]:
    """Store the message (`services.message_create`); its JSON as the sender sees it."""
    from apps.accounts.models import User
    from apps.rooms import selectors, services

    found = selectors.room_get_for_member(user=User(pk=user_id), room_id=frame.room_id)
    if found is None:
        raise _not_found(frame.ref)
    room, member = found
    try:
        message = services.message_create(
            room=room,
            author=member.user,
            body=frame.body,
            parent_id=frame.parent_id,
            share=frame.share,
            client_id=frame.client_id,
        )
    except ValidationError as exc:
        raise _refused(exc, frame.ref) from exc
    except Http404 as exc:  # the membership ended meanwhile
        raise _not_found(frame.ref) from exc
    except PermissionDenied as exc:
        raise ProtocolError(
            "forbidden", str(exc) or _("You may not do that here."), frame.ref
        ) from exc
    return selectors.message_data(message, viewer_id=user_id)


def _refused(exc: ValidationError, ref: Any) -> ProtocolError:
    """The service's first field message as a `bad_message` error, or `rate_limited` with
    `retry_after` for the flood limit (`services.RoomRateLimited`)."""
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        text = "; ".join(str(m) for m in exc.messages)
        return ProtocolError(
            "rate_limited",
            text or _("You are sending messages too fast."),
            ref,
            retry_after=retry_after,
        )
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.message_dict.items()))
        text = str(errors[0]) if errors else ""
    else:
        field, text = None, str(exc.messages[0]) if exc.messages else ""
    if field == "__all__":
        field = None
    return ProtocolError("bad_message", text or _("The message was refused."), ref, field=field)


# -- one connection's rooms -------------------------------------------------------------------


def event_room_id(event: dict[str, Any]) -> int | None:
    """The room a room-group event is about: `room`, else `message.room` or `activity.room`
    (an id, or an object with `id`)."""
    for value in (
        event.get("room"),
        *(
            (event.get(key) or {}).get("room")
            for key in ("message", "activity")
            if isinstance(event.get(key), dict)
        ),
    ):
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


# Sent to `room.<id>` groups: forwarded only for rooms open on the socket. Other `room.*`
# events (`room.revoked`, `room.read`, …) come on the user's own group and always pass.
ROOM_GROUP_EVENTS = frozenset(
    {
        "room.message",
        "room.message_updated",
        "room.member",
        "room.activity",
        "room.updated",
        "room.presence",
        "room.typing",
    }
)


async def room_event(rooms: ConnectionRooms | None, event: dict[str, Any]) -> dict[str, Any] | None:
    """What the consumer sends for a `room.*` channel-layer event (None: nothing)."""
    kind = event.get("type")
    if kind in ROOM_GROUP_EVENTS:
        return None if rooms is None else await rooms.event(event)
    if kind == "room.revoked" and rooms is not None:
        room_id = event.get("id")
        if isinstance(room_id, int):
            await rooms.revoked(room_id)  # stop sending that room before saying so
    return event


class ConnectionRooms:
    """The rooms one WebSocket connection has open (made on its first room frame)."""

    def __init__(self, socket: RoomSocket) -> None:
        self.socket = socket
        self.open: dict[int, OpenRoom] = {}
        self.me: dict[str, Any] = {"id": socket.user.pk, "name": ""}
        self.sending: set[asyncio.Task[None]] = set()  # `room.send`s not yet stored

    async def handle(self, frame: protocol.RoomClientFrame) -> None:
        if isinstance(frame, protocol.RoomFrame):
            if frame.action == "subscribe":
                await self.subscribe(frame)
            else:
                await self.unsubscribe(frame)
        elif isinstance(frame, protocol.RoomSendFrame):
            await self.send(frame)
        elif isinstance(frame, protocol.RoomTypingFrame):
            await self.typing(frame)
        else:
            await self.viewing(frame)

    async def subscribe(self, frame: protocol.RoomFrame) -> None:
        room_id, socket = frame.room_id, self.socket
        if room_id not in self.open and len(self.open) >= MAX_ROOMS:
            raise ProtocolError(
                "too_many_rooms",
                _("At most %(n)d rooms per connection.") % {"n": MAX_ROOMS},
                frame.ref,
            )
        # Join first, read second: a message stored after the snapshot's query still
        # arrives as an event (the client drops what it already has, by id). Events queue
        # while this handler runs and are filtered by `event()`: an outsider's socket never
        # forwards what arrived during the check.
        group = room_group(room_id)
        await socket.channel_layer.group_add(group, socket.channel_name)
        try:
            found = await room_open(user_id=socket.user.pk, room_id=room_id)
        except BaseException as exc:
            if room_id not in self.open:
                await socket.channel_layer.group_discard(group, socket.channel_name)
            if isinstance(exc, DatabaseError):  # e.g. PostgreSQL out of connections
                logger.warning("room subscribe: database unavailable: %s", exc)
                raise ProtocolError(
                    "unavailable",
                    _("Rooms are unavailable right now; subscribe again shortly."),
                    frame.ref,
                ) from exc
            raise
        if found is None:  # not a member (any more)
            if room_id in self.open:
                await self._close(room_id)
            else:
                await socket.channel_layer.group_discard(group, socket.channel_name)
            raise _not_found(frame.ref)
        snapshot, self.me = found
        self.open.setdefault(room_id, OpenRoom())
        try:
            online = await presence.get_presence().join(
                room_id=room_id,
                conn=socket.channel_name,
                user_id=socket.user.pk,
                name=self.me["name"],
            )
        except presence.PRESENCE_ERRORS as exc:  # presence is a courtesy; chat still works
            logger.warning("room presence unavailable: %s", exc)
            online = [{**self.me, "viewing": None}]
        await socket.send_frame(
            {"type": "subscribed", "topic": "room", "id": room_id, "ref": frame.ref}
        )
        await socket.send_frame({"type": "room.snapshot", **snapshot, "online": online})

    async def unsubscribe(self, frame: protocol.RoomFrame) -> None:
        await self._close(frame.room_id)
        await self.socket.send_frame(
            {"type": "unsubscribed", "topic": "room", "id": frame.room_id, "ref": frame.ref}
        )

    async def send(self, frame: protocol.RoomSendFrame) -> None:
        """Store the message in the background and ack it when stored. The consumer handles
        one frame or event at a time: waiting here for the database (queued behind other
        sockets' sends in a burst) would hold back every room event for this socket."""
        if len(self.sending) >= MAX_SENDING:
            raise ProtocolError(
                "rate_limited",
                _("Wait until your earlier messages are stored."),
                frame.ref,
                retry_after=1,
            )
        task = asyncio.get_running_loop().create_task(self._send(frame))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _send(self, frame: protocol.RoomSendFrame) -> None:
        socket = self.socket
        try:
            message = await message_send(user_id=socket.user.pk, frame=frame)
        except ProtocolError as error:
            await socket.send_frame(error.frame())
            return
        except Exception:
            logger.exception("room.send failed")
            await socket.send_frame(
                ProtocolError(
                    "unavailable", _("The message could not be stored; send it again."), frame.ref
                ).frame()
            )
            return
        state = self.open.get(frame.room_id)
        if state is not None and state.typing:
            # Sending ends typing, and every client knows it from the message: no frame.
            state.typing = False
        await socket.send_frame(
            {
                "type": "room.sent",
                "ref": frame.ref,
                "client_id": frame.client_id,
                "message": message,
            }
        )

    def _subscribed(self, room_id: int, ref: Any) -> OpenRoom:
        state = self.open.get(room_id)
        if state is None:
            raise ProtocolError("not_subscribed", _("Subscribe to the room first."), ref)
        return state

    async def typing(self, frame: protocol.RoomTypingFrame) -> None:
        """Fan out to the room, at most one `typing: true` per TYPING_INTERVAL; the rest
        are dropped silently (clients repeat it while the user types)."""
        state = self._subscribed(frame.room_id, frame.ref)
        now = time.monotonic()
        if frame.typing:
            if now - state.typing_sent_at < TYPING_INTERVAL:
                return
            state.typing_sent_at = now
        elif not state.typing:
            return
        state.typing = frame.typing
        try:
            await presence.typing_publish(room_id=frame.room_id, user=self.me, typing=frame.typing)
        except presence.PRESENCE_ERRORS as exc:  # a courtesy: the next one may get through
            logger.warning("room typing: publish failed: %s", exc)

    async def viewing(self, frame: protocol.RoomViewingFrame) -> None:
        self._subscribed(frame.room_id, frame.ref)
        viewing = None
        if frame.symbol is not None:
            from apps.realtime.consumers import known_instrument_keys

            label = protocol.key_label(frame.symbol)
            if frame.symbol not in await known_instrument_keys():
                raise ProtocolError(
                    "bad_symbol",
                    _("Unknown symbol: %(s)s") % {"s": label},
                    frame.ref,
                    symbols=[label],
                )
            viewing = {"symbol": label, "timeframe": frame.timeframe}
        try:
            await presence.get_presence().set_viewing(
                room_id=frame.room_id, conn=self.socket.channel_name, viewing=viewing
            )
        except presence.PRESENCE_ERRORS as exc:
            logger.warning("room presence unavailable: %s", exc)
            raise ProtocolError(
                "unavailable",
                _("Presence is unavailable right now; try again shortly."),
                frame.ref,
            ) from exc

    async def event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """A room-group event → the frame to send, or None to drop it."""
        kind = event.get("type")
        room_id = event_room_id(event)
        if room_id is None or room_id not in self.open:
            return None  # not (or no longer) subscribed: e.g. queued during a failed check
        if kind == "room.typing" and (event.get("user") or {}).get("id") == self.socket.user.pk:
            return None  # your own typing, from another tab
        if (
            kind == "room.member"
            and event.get("action") in ("removed", "left")
            and (event.get("user") or {}).get("id") == self.socket.user.pk
        ):
            await self._close(room_id)  # `room.revoked` follows; do not wait for it
        return event

    async def revoked(self, room_id: int) -> None:
        await self._close(room_id)

    async def _close(self, room_id: int) -> None:
        state = self.open.pop(room_id, None)
        if state is None:
            return
        socket = self.socket
        await socket.channel_layer.group_discard(room_group(room_id), socket.channel_name)
        try:
            if state.typing:
                await presence.typing_publish(room_id=room_id, user=self.me, typing=False)
            await presence.get_presence().leave(room_id=room_id, conn=socket.channel_name)
        except presence.PRESENCE_ERRORS as exc:
            logger.warning("room presence: leaving room %s failed: %s", room_id, exc)

    async def close(self) -> None:
        """The connection ended. A message being stored is stored (the sync thread finishes
        it); only its ack is dropped."""
        for task in list(self.sending):
            task.cancel()
        for room_id in list(self.open):
            await self._close(room_id)
