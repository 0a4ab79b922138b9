"""Rooms over /ws/ on the real Redis channel layer: subscribe, send, typing, presence, removal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async

from apps.realtime import consumers, hub
from apps.realtime.events import publish_now, room_group
from apps.rooms import presence, realtime
from apps.rooms.models import Message, Room, RoomMember, RoomRole, Visibility
from tests.factories import UserFactory
from tests.ws import signed_in_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

Socket = Any  # channels.testing.WebsocketCommunicator (untyped)


@pytest.fixture(autouse=True)
def _fast(settings: Any, market_seed: None) -> None:
    settings.ROOMS_PRESENCE_TTL_SECONDS = 1.0
    settings.ROOMS_PRESENCE_HEARTBEAT_SECONDS = 0.3
    settings.ROOMS_PRESENCE_SWEEP_SECONDS = 0.2
    settings.ROOMS_PRESENCE_DEBOUNCE_SECONDS = 0.05
    consumers._known["at"] = 0.0


@pytest_asyncio.fixture(autouse=True)
async def _process_state() -> AsyncIterator[None]:
    yield
    for instance in list(presence.get_presence.instances.values()):
        await instance.close()
    presence.get_presence.instances.clear()
    for quote_hub in list(hub._hubs.values()):
        await quote_hub.close()
    hub._hubs.clear()


@database_sync_to_async
def _team(visibility: str = Visibility.PRIVATE, messages: int = 0) -> dict[str, Any]:
    owner: Any = UserFactory()
    member: Any = UserFactory()
    outsider: Any = UserFactory()
    room = Room.objects.create(name="Banks", owner=owner, visibility=visibility)
    RoomMember.objects.create(room=room, user=owner, role=RoomRole.OWNER)
    RoomMember.objects.create(room=room, user=member, role=RoomRole.MEMBER)
    Message.objects.bulk_create(
        Message(room=room, author=owner, body=f"message {n}") for n in range(messages)
    )
    return {"room": room, "owner": owner, "member": member, "outsider": outsider}


async def _next(socket: Socket, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next frame of `kind`, skipping others (presence updates, acks…)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (left := end - loop.time()) > 0:
        frame: dict[str, Any] = await socket.receive_json_from(timeout=left)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


async def _until(
    socket: Socket, test: Callable[[dict[str, Any]], bool], timeout: float = 5
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (left := end - loop.time()) > 0:
        frame: dict[str, Any] = await socket.receive_json_from(timeout=left)
        if test(frame):
            return frame
    raise AssertionError("no such frame")


async def _drain(socket: Socket, seconds: float = 0.3) -> list[dict[str, Any]]:
    """Every frame until none arrives for `seconds` (a receive that times out would cancel
    the application: `receive_nothing` does not)."""
    frames = []
    while not await socket.receive_nothing(timeout=seconds):
        frames.append(await socket.receive_json_from(timeout=1))
    return frames


async def _subscribed(sockets: list[Any], user: Any, room_id: int) -> tuple[Socket, dict]:
    socket = await signed_in_socket(sockets, user)
    await socket.send_json_to({"type": "subscribe", "topic": "room", "id": room_id, "ref": "s"})
    ack = await socket.receive_json_from(timeout=5)
    assert ack == {
        "type": "subscribed",
        "topic": "room",
        "id": room_id,
        "ref": "s",
        "seq": ack["seq"],
    }
    snapshot = await _next(socket, "room.snapshot")
    return socket, snapshot


def _online(frame: dict[str, Any]) -> list[int]:
    return sorted(person["id"] for person in frame["online"])  # (listed by name)


def _presence_of(room_id: int, ids: list[int]) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == "room.presence" and f["room"] == room_id and _online(f) == ids


class TestSubscribe:
    async def test_a_member_gets_the_last_50_messages_oldest_first_and_is_online(
        self, sockets: list[Any]
    ) -> None:
        team = await _team(messages=60)
        _, snapshot = await _subscribed(sockets, team["member"], team["room"].pk)
        assert snapshot["room"]["id"] == team["room"].pk
        assert snapshot["role"] == "member"
        bodies = [m["body"] for m in snapshot["messages"]]
        assert bodies == [f"message {n}" for n in range(10, 60)]
        assert snapshot["has_more"] is True
        assert snapshot["unread_count"] == 60
        assert snapshot["first_unread_id"] == snapshot["messages"][0]["id"] - 10
        assert snapshot["online"] == [
            {"id": team["member"].pk, "name": team["member"].get_short_name(), "viewing": None}
        ]

    @pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.DISCOVERABLE])
    async def test_an_outsider_gets_not_found_like_for_a_missing_room(
        self, sockets: list[Any], visibility: str
    ) -> None:
        team = await _team(visibility=visibility)
        socket = await signed_in_socket(sockets, team["outsider"])
        answers = []
        for room_id in (team["room"].pk, team["room"].pk + 1000):
            await socket.send_json_to({"type": "subscribe", "topic": "room", "id": room_id})
            frame = await socket.receive_json_from(timeout=5)
            answers.append({k: v for k, v in frame.items() if k != "seq"})
        assert answers[0] == answers[1]
        assert answers[0]["code"] == "not_found"

    async def test_an_outsider_hears_nothing_published_to_the_room_meanwhile_or_after(
        self, sockets: list[Any]
    ) -> None:
        team = await _team()
        room_id = team["room"].pk
        socket = await signed_in_socket(sockets, team["outsider"])
        await socket.send_json_to({"type": "subscribe", "topic": "room", "id": room_id})
        # Published while the membership check may still be running (events queue meanwhile).
        await database_sync_to_async(publish_now)(
            room_group(room_id), {"type": "room.message", "message": {"id": 1, "room": room_id}}
        )
        assert (await socket.receive_json_from(timeout=5))["code"] == "not_found"
        await database_sync_to_async(publish_now)(
            room_group(room_id), {"type": "room.message", "message": {"id": 2, "room": room_id}}
        )
        assert await socket.receive_nothing(timeout=0.5)

    async def test_unsubscribing_stops_events_and_leaves_presence(self, sockets: list[Any]) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        member, _ = await _subscribed(sockets, team["member"], room_id)
        await _until(owner, _presence_of(room_id, sorted([team["owner"].pk, team["member"].pk])))
        await member.send_json_to(
            {"type": "unsubscribe", "topic": "room", "id": room_id, "ref": "u"}
        )
        assert (await _next(member, "unsubscribed"))["id"] == room_id
        await _until(owner, _presence_of(room_id, [team["owner"].pk]))
        await database_sync_to_async(publish_now)(
            room_group(room_id), {"type": "room.message", "message": {"id": 3, "room": room_id}}
        )
        assert await member.receive_nothing(timeout=0.5)

    async def test_rooms_per_connection_are_capped(
        self, sockets: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(realtime, "MAX_ROOMS", 1)
        first, second = await _team(), await _team()

        @database_sync_to_async
        def join_second() -> None:
            RoomMember.objects.create(room=second["room"], user=first["member"])

        await join_second()
        socket, _ = await _subscribed(sockets, first["member"], first["room"].pk)
        await socket.send_json_to({"type": "subscribe", "topic": "room", "id": second["room"].pk})
        assert (await _next(socket, "error"))["code"] == "too_many_rooms"


class TestSend:
    async def test_a_message_reaches_every_member_socket_and_the_sender_gets_an_ack(
        self, sockets: list[Any]
    ) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        tab_one, _ = await _subscribed(sockets, team["member"], room_id)
        tab_two, _ = await _subscribed(sockets, team["member"], room_id)
        outsider = await signed_in_socket(sockets, team["outsider"])

        await tab_one.send_json_to(
            {
                "type": "room.send",
                "room": room_id,
                "body": "Buy $TCS?",
                "client_id": "c-1",
                "ref": 9,
            }
        )
        ack = await _next(tab_one, "room.sent")
        assert (ack["ref"], ack["client_id"]) == (9, "c-1")
        assert ack["message"]["body"] == "Buy $TCS?"
        assert ack["message"]["author"]["id"] == team["member"].pk
        for socket in (tab_one, tab_two, owner):
            event = await _next(socket, "room.message")
            assert event["message"]["id"] == ack["message"]["id"]
            assert event["message"]["symbols"] == ["NSE:TCS"]
        assert await outsider.receive_nothing(timeout=0.5)
        stored = await database_sync_to_async(
            lambda: list(Message.objects.filter(room_id=room_id).values_list("body", flat=True))
        )()
        assert stored == ["Buy $TCS?"]

    async def test_an_outsider_cannot_send(self, sockets: list[Any]) -> None:
        team = await _team()
        socket = await signed_in_socket(sockets, team["outsider"])
        await socket.send_json_to({"type": "room.send", "room": team["room"].pk, "body": "hi"})
        assert (await socket.receive_json_from(timeout=5))["code"] == "not_found"
        count = await database_sync_to_async(Message.objects.count)()
        assert count == 0

    @pytest.mark.parametrize(("body", "field"), [("   ", "body"), ("x" * 4001, "body")])
    async def test_a_refused_message_gets_the_services_field_message(
        self, sockets: list[Any], body: str, field: str
    ) -> None:
        team = await _team()
        socket, _ = await _subscribed(sockets, team["member"], team["room"].pk)
        await socket.send_json_to(
            {"type": "room.send", "room": team["room"].pk, "body": body, "ref": "b"}
        )
        error = await _next(socket, "error")
        assert (error["code"], error["field"], error["ref"]) == ("bad_message", field, "b")
        assert error["message"]

    async def test_flooding_gets_rate_limited_with_retry_after(
        self, sockets: list[Any], settings: Any
    ) -> None:
        settings.ROOMS_MESSAGE_BURST = 2
        settings.ROOMS_MESSAGE_RATE = 0.1
        team = await _team()
        socket, _ = await _subscribed(sockets, team["member"], team["room"].pk)
        for n in range(3):
            await socket.send_json_to(
                {"type": "room.send", "room": team["room"].pk, "body": f"spam {n}", "ref": n}
            )
        error = await _next(socket, "error")
        assert (error["code"], error["ref"]) == ("rate_limited", 2)
        assert error["retry_after"] >= 1
        count = await database_sync_to_async(Message.objects.count)()
        assert count == 2

    @pytest.mark.parametrize(
        "frame",
        [
            {"type": "room.send", "body": "no room"},
            {"type": "room.send", "room": 1, "body": 5},
            {"type": "room.send", "room": 1, "body": "x", "parent": "a"},
            {"type": "room.send", "room": 1, "body": "x", "share": []},
            {"type": "room.send", "room": 1, "body": "x", "client_id": "c" * 65},
            {"type": "room.typing", "room": 1, "typing": "yes"},
            {"type": "room.viewing", "room": 1, "symbol": "RELIANCE", "timeframe": "2m"},
            {"type": "subscribe", "topic": "room"},
        ],
    )
    async def test_malformed_room_frames_get_bad_frame(
        self, sockets: list[Any], user: Any, frame: dict[str, Any]
    ) -> None:
        socket = await signed_in_socket(sockets, user)
        await socket.send_json_to({**frame, "ref": "r"})
        error = await socket.receive_json_from(timeout=5)
        assert (error["type"], error["code"], error["ref"]) == ("error", "bad_frame", "r")


class TestTypingAndViewing:
    async def test_typing_fans_out_to_others_at_most_once_per_interval(
        self, sockets: list[Any]
    ) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        typist, _ = await _subscribed(sockets, team["member"], room_id)
        typist_tab, _ = await _subscribed(sockets, team["member"], room_id)
        await _drain(owner)
        await _drain(typist_tab)
        for _ in range(3):
            await typist.send_json_to({"type": "room.typing", "room": room_id, "typing": True})
        await typist.send_json_to({"type": "room.typing", "room": room_id, "typing": False})
        got = [f for f in await _drain(owner, 0.5) if f["type"] == "room.typing"]
        who = {"id": team["member"].pk, "name": team["member"].get_short_name()}
        assert [(f["user"], f["typing"], f["room"]) for f in got] == [
            (who, True, room_id),
            (who, False, room_id),
        ]
        # Not echoed to the typist's own tabs.
        assert not [f for f in await _drain(typist_tab) if f["type"] == "room.typing"]

    async def test_typing_in_a_room_not_subscribed_is_refused(self, sockets: list[Any]) -> None:
        team = await _team()
        socket = await signed_in_socket(sockets, team["member"])
        await socket.send_json_to({"type": "room.typing", "room": team["room"].pk, "typing": True})
        assert (await socket.receive_json_from(timeout=5))["code"] == "not_subscribed"

    async def test_viewing_shows_in_everyones_presence(self, sockets: list[Any]) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        member, _ = await _subscribed(sockets, team["member"], room_id)
        await member.send_json_to(
            {"type": "room.viewing", "room": room_id, "symbol": "reliance", "timeframe": "15m"}
        )

        def member_viewing(frame: dict[str, Any]) -> bool:
            if frame["type"] != "room.presence":
                return False
            entry = [p for p in frame["online"] if p["id"] == team["member"].pk]
            return bool(entry) and entry[0]["viewing"] is not None

        presence_frame = await _until(owner, member_viewing)
        entry = next(p for p in presence_frame["online"] if p["id"] == team["member"].pk)
        assert entry["viewing"] == {"symbol": "NSE:RELIANCE", "timeframe": "15m"}

        await member.send_json_to({"type": "room.viewing", "room": room_id, "symbol": "NOPE"})
        error = await _next(member, "error")
        assert (error["code"], error["symbols"]) == ("bad_symbol", ["NSE:NOPE"])


class TestPresence:
    async def test_two_tabs_show_once(self, sockets: list[Any]) -> None:
        team = await _team()
        room_id = team["room"].pk
        await _subscribed(sockets, team["member"], room_id)
        _, snapshot = await _subscribed(sockets, team["member"], room_id)
        assert _online(snapshot) == [team["member"].pk]

    async def test_a_disconnected_socket_leaves_presence(self, sockets: list[Any]) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        member, _ = await _subscribed(sockets, team["member"], room_id)
        await _until(owner, _presence_of(room_id, sorted([team["owner"].pk, team["member"].pk])))
        await member.disconnect()
        sockets.remove(member)
        await _until(owner, _presence_of(room_id, [team["owner"].pk]), timeout=2)

    async def test_a_connection_of_a_dead_process_disappears_after_the_ttl(
        self, sockets: list[Any]
    ) -> None:
        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        other_process = presence.RoomPresence()
        await other_process.join(
            room_id=room_id, conn="elsewhere!1", user_id=team["member"].pk, name="Bina"
        )
        await _until(owner, _presence_of(room_id, sorted([team["owner"].pk, team["member"].pk])))
        await other_process.close()  # killed: its heartbeats stop, its entry stays in Redis
        started = asyncio.get_running_loop().time()
        await _until(owner, _presence_of(room_id, [team["owner"].pk]), timeout=5)
        assert asyncio.get_running_loop().time() - started < 2.5  # TTL 1 s + sweep 0.2 s


class TestRemoval:
    async def test_a_removed_members_socket_stops_receiving_at_once(
        self, sockets: list[Any]
    ) -> None:
        from apps.rooms import services

        team = await _team()
        room_id = team["room"].pk
        owner, _ = await _subscribed(sockets, team["owner"], room_id)
        member, _ = await _subscribed(sockets, team["member"], room_id)

        await database_sync_to_async(services.room_member_remove)(
            room_id=room_id, user_id=team["member"].pk, by=team["owner"]
        )
        revoked = await _next(member, "room.revoked", timeout=3)
        assert revoked["id"] == room_id
        await owner.send_json_to({"type": "room.send", "room": room_id, "body": "after"})
        # The owner's presence update (debounced 50 ms) may come before or after the message.
        alone = _presence_of(room_id, [team["owner"].pk])
        seen_alone = False
        while (frame := await owner.receive_json_from(timeout=5))["type"] != "room.message":
            seen_alone = seen_alone or alone(frame)
        frames = await _drain(member, 0.5)
        assert not [
            f for f in frames if f["type"].startswith("room.") and f["type"] not in ("room.member",)
        ]
        if not seen_alone:
            await _until(owner, alone)
        # And it cannot come back.
        await member.send_json_to({"type": "subscribe", "topic": "room", "id": room_id})
        assert (await _next(member, "error"))["code"] == "not_found"


class TestResources:
    async def test_closed_sockets_leave_no_group_presence_or_task_behind(
        self, sockets: list[Any]
    ) -> None:
        from channels.layers import get_channel_layer

        team = await _team()
        room_id = team["room"].pk
        for user in (team["owner"], team["member"], team["member"]):
            await _subscribed(sockets, user, room_id)
        process = presence.get_presence()
        assert len(process.entries) == 3
        for socket in sockets:
            await socket.disconnect()
        sockets.clear()
        await asyncio.sleep(0.3)
        assert process.entries == {}
        assert process.rooms == {}
        assert process._task is None or process._task.done()
        layer = get_channel_layer()._get_layer()  # type: ignore[union-attr]
        assert room_group(room_id) not in layer.groups
        assert await process.online(room_id) == []


class TestUserChannel:
    async def test_room_events_on_the_users_own_group_reach_sockets_without_rooms_open(
        self, sockets: list[Any]
    ) -> None:
        from apps.realtime.events import user_group

        team = await _team()
        room_id = team["room"].pk
        socket = await signed_in_socket(sockets, team["member"])  # e.g. the room list page
        read = {
            "type": "room.read",
            "room": room_id,
            "last_read_message_id": 5,
            "unread_count": 0,
            "first_unread_id": None,
        }
        await database_sync_to_async(publish_now)(user_group(team["member"].pk), read)
        assert {k: v for k, v in (await _next(socket, "room.read")).items() if k != "seq"} == read
        await database_sync_to_async(publish_now)(
            user_group(team["member"].pk), {"type": "room.revoked", "id": room_id}
        )
        assert (await _next(socket, "room.revoked"))["id"] == room_id


class TestSendInBackground:
    async def test_a_socket_keeps_receiving_while_its_message_waits_to_be_stored(
        self, sockets: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        team = await _team()
        room_id = team["room"].pk
        socket, _ = await _subscribed(sockets, team["member"], room_id)
        release = asyncio.Event()
        stored = realtime.message_send

        async def slow_store(**kwargs: Any) -> dict[str, Any]:
            await release.wait()  # e.g. queued behind a burst of other sockets' sends
            return await stored(**kwargs)

        monkeypatch.setattr(realtime, "message_send", slow_store)
        await socket.send_json_to(
            {"type": "room.send", "room": room_id, "body": "mine", "client_id": "m"}
        )
        await database_sync_to_async(publish_now)(
            room_group(room_id), {"type": "room.message", "message": {"id": 77, "room": room_id}}
        )
        assert (await _next(socket, "room.message"))["message"]["id"] == 77
        release.set()
        assert (await _next(socket, "room.sent"))["message"]["body"] == "mine"

    async def test_at_most_ten_sends_wait_per_connection(
        self, sockets: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        team = await _team()
        socket, _ = await _subscribed(sockets, team["member"], team["room"].pk)
        never = asyncio.Event()

        async def stuck(**kwargs: Any) -> dict[str, Any]:
            await never.wait()
            raise AssertionError

        monkeypatch.setattr(realtime, "message_send", stuck)
        for n in range(realtime.MAX_SENDING + 1):
            await socket.send_json_to(
                {"type": "room.send", "room": team["room"].pk, "body": "x", "ref": n}
            )
        error = await _next(socket, "error")
        assert (error["code"], error["ref"]) == ("rate_limited", realtime.MAX_SENDING)
