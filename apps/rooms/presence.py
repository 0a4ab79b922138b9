"""Who is online in a room, and who is typing: in Redis, shared by every `ws` process.

Per room, two keys in one Redis Cluster hash slot (`{room:<id>}`):

    <prefix>:presence:{room:<id>}:conns   sorted set: connection → expiry (Redis clock, seconds)
    <prefix>:presence:{room:<id>}:info    hash: connection → {"user", "name", "viewing", "at"}

A connection is the consumer's channel name (unique across processes). Its entry is written
when it subscribes, rewritten when its chart changes, removed when it unsubscribes or
disconnects, and refreshed by its process every HEARTBEAT seconds; an entry whose process
died is not refreshed and expires TTL seconds after its last refresh. Every process sweeps
the rooms it has connections in every SWEEP seconds (a Lua script removes expired entries
atomically, so one sweeper sees them go and announces it), and any read removes them too, so
nobody is ever shown an expired entry. Expiry uses Redis' clock, so processes on different
machines never compare their own clocks. Both keys expire (2 × TTL) when no process
refreshes them: a room nobody has open costs nothing.

Presence is per user, not per connection: two tabs show once, with `viewing` from the tab
that changed its chart last (a tab without a chart does not hide another tab's chart).
Each change schedules one `room.presence` frame for the room after DEBOUNCE seconds (per
process): 25 members joining at once cost each process one publish, i.e. 25 frames, not 25².

Typing is not stored: `room.typing` goes straight to the room group.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from channels.layers import get_channel_layer
from django.conf import settings
from redis.exceptions import RedisError

from apps.realtime.events import room_group
from apps.realtime.loops import PerLoop, task_stop

logger = logging.getLogger(__name__)

PRESENCE_ERRORS = (RedisError, OSError, TimeoutError)

# Writes entries: KEYS conns, info; ARGV ttl (s), key ttl (ms), then connection, info pairs.
_TOUCH = """
local t = redis.call('TIME')
local expiry = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# Removes expired entries; with ARGV[1] == '1' also returns the live entries' info.
# Returns {number removed, {info, ...}}.
_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #expired, 1000 do
  redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 999, #expired)))
end
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
end
local info = {}
if ARGV[1] == '1' then
  local alive = redis.call('ZRANGE', KEYS[1], 0, -1)
  for i = 1, #alive, 1000 do
    local part = redis.call('HMGET', KEYS[2], unpack(alive, i, math.min(i + 999, #alive)))
    for _, value in ipairs(part) do
      if value then info[#info + 1] = value end
    end
  end
end
return {#expired, info}
"""


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def presence_keys(room_id: int) -> tuple[str, str]:
    base = f"{settings.REALTIME_CHANNEL_PREFIX}:presence:{{room:{room_id}}}"
    return f"{base}:conns", f"{base}:info"


@dataclass(slots=True)
class Entry:
    """One local connection in one room."""

    user_id: int
    name: str
    viewing: dict[str, Any] | None = None
    at: float = 0.0  # when `viewing` last changed (0: never): the latest tab wins

    def info(self) -> str:
        return json.dumps(
            {"user": self.user_id, "name": self.name, "viewing": self.viewing, "at": self.at},
            separators=(",", ":"),
        )


def _rank(data: dict[str, Any]) -> tuple[bool, float]:
    return data.get("viewing") is not None, float(data.get("at") or 0)


def online_from(entries: Iterable[bytes | str]) -> list[dict[str, Any]]:
    """`[{id, name, viewing}]` by name, one per user: `viewing` is the chart of the tab that
    opened or changed one last; null only when none of the user's tabs has a chart open."""
    by_user: dict[int, dict[str, Any]] = {}
    for raw in entries:
        try:
            data = json.loads(raw)
            user_id = int(data["user"])
        except (ValueError, KeyError, TypeError):
            continue
        seen = by_user.get(user_id)
        if seen is None or _rank(data) > _rank(seen):
            by_user[user_id] = data
    people = sorted(
        (str(data.get("name") or "").casefold(), user_id, data) for user_id, data in by_user.items()
    )
    return [
        {"id": user_id, "name": str(data.get("name") or ""), "viewing": data.get("viewing")}
        for _key, user_id, data in people
    ]


async def group_event(room_id: int, event: dict[str, Any]) -> None:
    """Send `event` to the room's group now (no transaction in the `ws` process)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(room_group(room_id), {"type": "realtime.event", "event": event})


async def typing_publish(*, room_id: int, user: dict[str, Any], typing: bool) -> None:
    """`room.typing` to the room group; not stored. Clients drop it after ~5 s unrefreshed."""
    await group_event(
        room_id, {"type": "room.typing", "room": room_id, "user": user, "typing": typing}
    )


class RoomPresence:
    """This process's connections in rooms, mirrored to Redis; one per process (event loop)."""

    def __init__(self) -> None:
        self.ttl = _setting("ROOMS_PRESENCE_TTL_SECONDS", 25.0)
        self.heartbeat = _setting("ROOMS_PRESENCE_HEARTBEAT_SECONDS", 10.0)
        self.sweep_every = _setting("ROOMS_PRESENCE_SWEEP_SECONDS", 5.0)
        self.debounce = _setting("ROOMS_PRESENCE_DEBOUNCE_SECONDS", 0.5)
        self.entries: dict[tuple[int, str], Entry] = {}  # (room, connection) → entry
        self.rooms: dict[int, int] = {}  # room → local connections in it
        self.publishes = 0  # `room.presence` events sent (the benchmark reads it)
        self._redis: aioredis.Redis | None = None
        self._touch: Any = None
        self._sweep: Any = None
        # Serialises writes: a heartbeat must not re-add an entry a leave just removed.
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last_refresh = 0.0

    # -- Redis ------------------------------------------------------------------------------

    def _client(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5
            )
            self._touch = self._redis.register_script(_TOUCH)
            self._sweep = self._redis.register_script(_SWEEP)
        return self._redis

    def _touch_args(self, pairs: list[tuple[str, Entry]]) -> list[Any]:
        args: list[Any] = [self.ttl, int(self.ttl * 2000)]
        for conn, entry in pairs:
            args += [conn, entry.info()]
        return args

    async def _write(self, room_id: int, conn: str, entry: Entry) -> None:
        self._client()
        await self._touch(keys=presence_keys(room_id), args=self._touch_args([(conn, entry)]))

    async def _read(self, room_id: int, *, with_info: bool) -> tuple[int, list[bytes]]:
        self._client()
        removed, info = await self._sweep(
            keys=presence_keys(room_id), args=["1" if with_info else "0"]
        )
        return int(removed), list(info)

    # -- connections ------------------------------------------------------------------------

    async def join(
        self, *, room_id: int, conn: str, user_id: int, name: str
    ) -> list[dict[str, Any]]:
        """Add the connection; returns who is online now (including it)."""
        async with self._lock:
            entry = self.entries.get((room_id, conn))
            if entry is None:  # else subscribing again: keep its chart
                entry = self.entries[(room_id, conn)] = Entry(user_id=user_id, name=name)
                self.rooms[room_id] = self.rooms.get(room_id, 0) + 1
            await self._write(room_id, conn, entry)
        self._start()
        self.changed(room_id)
        return await self.online(room_id)

    async def leave(self, *, room_id: int, conn: str) -> None:
        async with self._lock:
            if self.entries.pop((room_id, conn), None) is None:
                return
            left = self.rooms.get(room_id, 1) - 1
            if left > 0:
                self.rooms[room_id] = left
            else:
                self.rooms.pop(room_id, None)
            conns, info = presence_keys(room_id)
            pipe = self._client().pipeline(transaction=True)
            pipe.zrem(conns, conn)
            pipe.hdel(info, conn)
            await pipe.execute()
        self.changed(room_id)

    async def set_viewing(self, *, room_id: int, conn: str, viewing: dict[str, Any] | None) -> None:
        async with self._lock:
            entry = self.entries.get((room_id, conn))
            if entry is None or entry.viewing == viewing:
                return
            entry.viewing, entry.at = viewing, time.time()
            await self._write(room_id, conn, entry)
        self.changed(room_id)

    async def online(self, room_id: int) -> list[dict[str, Any]]:
        removed, info = await self._read(room_id, with_info=True)
        if removed:
            self.changed(room_id)
        return online_from(info)

    # -- announcing -------------------------------------------------------------------------

    def changed(self, room_id: int) -> None:
        """Announce the room's presence after DEBOUNCE seconds (once for any number of
        changes meanwhile)."""
        if room_id not in self._pending:
            self._pending[room_id] = asyncio.get_running_loop().create_task(self._announce(room_id))

    async def _announce(self, room_id: int) -> None:
        try:
            await asyncio.sleep(self.debounce)
        finally:
            # A change from here on schedules the next announcement: this one may read
            # the state just before it.
            self._pending.pop(room_id, None)
        try:
            _, info = await self._read(room_id, with_info=True)
            await group_event(
                room_id, {"type": "room.presence", "room": room_id, "online": online_from(info)}
            )
            self.publishes += 1
        except PRESENCE_ERRORS as exc:
            logger.warning("room presence: announcing room %s failed: %s", room_id, exc)
        except Exception:
            logger.exception("room presence: announcing room %s failed", room_id)

    # -- heartbeat and sweep ----------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._last_refresh = time.monotonic()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.entries:  # ends with the process's last room connection
            await asyncio.sleep(min(self.sweep_every, self.heartbeat))
            try:
                if time.monotonic() - self._last_refresh >= self.heartbeat:
                    await self.refresh()
                await self.sweep()
            except PRESENCE_ERRORS as exc:
                logger.warning("room presence: heartbeat failed: %s", exc)
            except Exception:  # the loop must outlive any one failure, or entries expire
                logger.exception("room presence: heartbeat failed")

    async def refresh(self) -> None:
        """Extend every local entry (one pipelined round trip)."""
        async with self._lock:
            self._last_refresh = time.monotonic()
            by_room: dict[int, list[tuple[str, Entry]]] = {}
            for (room_id, conn), entry in self.entries.items():
                by_room.setdefault(room_id, []).append((conn, entry))
            if not by_room:
                return
            pipe = self._client().pipeline(transaction=False)
            for room_id, pairs in by_room.items():
                await self._touch(
                    keys=presence_keys(room_id), args=self._touch_args(pairs), client=pipe
                )
            await pipe.execute()

    async def sweep(self) -> None:
        """Drop expired entries of the rooms this process has connections in; announce
        the rooms that lost someone."""
        rooms = list(self.rooms)
        if not rooms:
            return
        pipe = self._client().pipeline(transaction=False)
        for room_id in rooms:
            await self._sweep(keys=presence_keys(room_id), args=["0"], client=pipe)
        results = await pipe.execute()
        for room_id, (removed, _info) in zip(rooms, results, strict=True):
            if int(removed):
                self.changed(room_id)

    async def close(self) -> None:
        """Stop the tasks and forget local state (tests; the process exiting)."""
        await task_stop(self._task)
        self._task = None
        for task in list(self._pending.values()):
            await task_stop(task)
        self._pending.clear()
        self.entries.clear()
        self.rooms.clear()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


get_presence = PerLoop(RoomPresence)
