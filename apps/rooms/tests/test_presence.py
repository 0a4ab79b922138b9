"""Room presence in Redis: per user, across processes, expiring, announced with a debounce.

Each `RoomPresence` here stands for one `ws` process: two instances sharing one Redis are
two processes. A process that dies is one whose heartbeats stop (`close()` cancels them
without removing its entries, as a killed process would).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import redis
from channels.layers import get_channel_layer
from django.conf import settings as django_settings

from apps.realtime.events import room_group
from apps.rooms import presence
from apps.rooms.presence import RoomPresence, online_from, presence_keys

ROOM = 7


@pytest.fixture
def fast(settings: Any) -> Any:
    settings.ROOMS_PRESENCE_TTL_SECONDS = 1.0
    settings.ROOMS_PRESENCE_HEARTBEAT_SECONDS = 0.3
    settings.ROOMS_PRESENCE_SWEEP_SECONDS = 0.2
    settings.ROOMS_PRESENCE_DEBOUNCE_SECONDS = 0.1
    return settings


@pytest_asyncio.fixture
async def processes(fast: Any) -> AsyncIterator[list[RoomPresence]]:
    made: list[RoomPresence] = []
    yield made
    for process in made:
        await process.close()


class Listener:
    """A channel in a room's group on the real channel layer."""

    def __init__(self, room_id: int) -> None:
        self.layer: Any = get_channel_layer()
        self.group = room_group(room_id)
        self.channel = ""

    async def __aenter__(self) -> Listener:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.layer.group_discard(self.group, self.channel)

    async def events(self, seconds: float) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        end = asyncio.get_running_loop().time() + seconds
        while (left := end - asyncio.get_running_loop().time()) > 0:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), left)
            except TimeoutError:
                break
            got.append(message["event"])
        return got

    async def presence(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        end = asyncio.get_running_loop().time() + timeout
        while (left := end - asyncio.get_running_loop().time()) > 0:
            try:
                message = await asyncio.wait_for(self.layer.receive(self.channel), left)
            except TimeoutError:
                break
            if message["event"]["type"] == "room.presence":
                online: list[dict[str, Any]] = message["event"]["online"]
                return online
        raise AssertionError("no room.presence")


def _ids(online: list[dict[str, Any]]) -> list[int]:
    return [person["id"] for person in online]


class TestOnlineFrom:
    def test_a_user_with_two_tabs_shows_once_with_the_latest_open_chart(self) -> None:
        entries = [
            json.dumps({"user": 1, "name": "Asha", "viewing": {"symbol": "NSE:TCS"}, "at": 5}),
            json.dumps({"user": 2, "name": "bina", "viewing": None, "at": 0}),
            json.dumps({"user": 1, "name": "Asha", "viewing": {"symbol": "NSE:ITC"}, "at": 9}),
            json.dumps({"user": 1, "name": "Asha", "viewing": None, "at": 0}),
        ]
        assert online_from(entries) == [
            {"id": 1, "name": "Asha", "viewing": {"symbol": "NSE:ITC"}},
            {"id": 2, "name": "bina", "viewing": None},
        ]

    def test_unreadable_entries_are_skipped(self) -> None:
        assert online_from([b"not json", json.dumps({"name": "x"})]) == []


@pytest.mark.asyncio
class TestPresence:
    async def test_join_shows_me_and_leave_removes_me(self, processes: list[RoomPresence]) -> None:
        process = RoomPresence()
        processes.append(process)
        online = await process.join(room_id=ROOM, conn="c1", user_id=1, name="Asha")
        assert online == [{"id": 1, "name": "Asha", "viewing": None}]
        await process.leave(room_id=ROOM, conn="c1")
        assert await process.online(ROOM) == []
        assert process.entries == {}
        assert process.rooms == {}

    async def test_two_processes_see_the_same_people(self, processes: list[RoomPresence]) -> None:
        one, two = RoomPresence(), RoomPresence()
        processes += [one, two]
        await one.join(room_id=ROOM, conn="a", user_id=1, name="Asha")
        await two.join(room_id=ROOM, conn="b", user_id=2, name="Bina")
        await two.join(room_id=ROOM, conn="c", user_id=1, name="Asha")  # a second tab
        assert await one.online(ROOM) == await two.online(ROOM)
        assert _ids(await one.online(ROOM)) == [1, 2]

    async def test_viewing_comes_from_the_tab_that_opened_a_chart_last(
        self, processes: list[RoomPresence]
    ) -> None:
        process = RoomPresence()
        processes.append(process)
        await process.join(room_id=ROOM, conn="t1", user_id=1, name="Asha")
        await process.join(room_id=ROOM, conn="t2", user_id=1, name="Asha")
        await process.set_viewing(
            room_id=ROOM, conn="t1", viewing={"symbol": "NSE:RELIANCE", "timeframe": "15m"}
        )
        assert (await process.online(ROOM))[0]["viewing"] == {
            "symbol": "NSE:RELIANCE",
            "timeframe": "15m",
        }
        await process.set_viewing(
            room_id=ROOM, conn="t2", viewing={"symbol": "NSE:TCS", "timeframe": "1d"}
        )
        assert (await process.online(ROOM))[0]["viewing"]["symbol"] == "NSE:TCS"
        await process.set_viewing(room_id=ROOM, conn="t2", viewing=None)  # closed its chart
        assert (await process.online(ROOM))[0]["viewing"]["symbol"] == "NSE:RELIANCE"
        await process.set_viewing(room_id=ROOM, conn="t1", viewing=None)
        assert (await process.online(ROOM))[0]["viewing"] is None

    async def test_heartbeats_keep_entries_past_their_ttl(
        self, processes: list[RoomPresence]
    ) -> None:
        process = RoomPresence()
        processes.append(process)
        await process.join(room_id=ROOM, conn="c1", user_id=1, name="Asha")
        await asyncio.sleep(2.5)  # 2.5 TTLs
        assert _ids(await process.online(ROOM)) == [1]

    async def test_a_dead_processs_connections_disappear_after_the_ttl_and_are_announced(
        self, processes: list[RoomPresence]
    ) -> None:
        alive, doomed = RoomPresence(), RoomPresence()
        processes += [alive, doomed]
        async with Listener(ROOM) as listener:
            await alive.join(room_id=ROOM, conn="a", user_id=1, name="Asha")
            await doomed.join(room_id=ROOM, conn="b", user_id=2, name="Bina")
            assert _ids(await listener.presence()) == [1, 2]
            await doomed.close()  # killed: no more heartbeats, entries left in Redis
            started = asyncio.get_running_loop().time()
            online = await listener.presence(timeout=5)
            while _ids(online) != [1]:
                online = await listener.presence(timeout=5)
            took = asyncio.get_running_loop().time() - started
        # TTL 1 s, sweep every 0.2 s, debounce 0.1 s.
        assert 0.5 < took < 2.5

    async def test_reads_never_show_expired_entries_even_without_a_sweeper(
        self, processes: list[RoomPresence]
    ) -> None:
        doomed = RoomPresence()
        processes.append(doomed)
        await doomed.join(room_id=ROOM, conn="b", user_id=2, name="Bina")
        await doomed.close()
        await asyncio.sleep(1.2)
        reader = RoomPresence()
        processes.append(reader)
        assert await reader.online(ROOM) == []

    async def test_many_joins_are_announced_once(self, processes: list[RoomPresence]) -> None:
        process = RoomPresence()
        processes.append(process)
        async with Listener(ROOM) as listener:
            for n in range(25):
                await process.join(room_id=ROOM, conn=f"c{n}", user_id=n + 1, name=f"U{n:02}")
            events = await listener.events(0.6)
        announced = [e for e in events if e["type"] == "room.presence"]
        assert len(announced) == 1
        assert len(announced[0]["online"]) == 25
        assert process.publishes == 1

    async def test_keys_expire_when_nobody_refreshes_them(
        self, processes: list[RoomPresence]
    ) -> None:
        process = RoomPresence()
        processes.append(process)
        await process.join(room_id=ROOM, conn="c1", user_id=1, name="Asha")
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        try:
            ttls = [client.pttl(key) for key in presence_keys(ROOM)]
        finally:
            client.close()
        assert all(0 < ttl <= 2000 for ttl in ttls)  # 2 × TTL

    async def test_the_heartbeat_stops_with_the_last_connection(
        self, processes: list[RoomPresence]
    ) -> None:
        process = RoomPresence()
        processes.append(process)
        await process.join(room_id=ROOM, conn="c1", user_id=1, name="Asha")
        task = process._task
        assert task is not None
        await process.leave(room_id=ROOM, conn="c1")
        await asyncio.wait_for(task, 2)


@pytest.mark.asyncio
async def test_typing_goes_to_the_room_group_and_is_not_stored(fast: Any) -> None:
    async with Listener(ROOM) as listener:
        await presence.typing_publish(room_id=ROOM, user={"id": 1, "name": "Asha"}, typing=True)
        events = await listener.events(0.3)
    assert events == [
        {"type": "room.typing", "room": ROOM, "user": {"id": 1, "name": "Asha"}, "typing": True}
    ]
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        assert not client.exists(*presence_keys(ROOM))
    finally:
        client.close()
