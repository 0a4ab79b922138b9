"""Rooms across two real `ws` processes (uvicorn, tests/servers.py) sharing one Redis.

Asha's socket is on one server, Bina's on the other: a message sent on one reaches the
other, both see the same presence (viewing included), and when Bina's server is killed —
no disconnect, no cleanup — she goes offline on Asha's server within the presence expiry.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest
from websockets.sync.client import ClientConnection, connect

from apps.rooms.models import Room, RoomMember, RoomRole
from tests.factories import UserFactory
from tests.servers import RunningServer, asgi_server
from tests.ws import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

Frame = dict[str, Any]

# A short presence expiry, so the killed process's entries go within seconds (the defaults
# are a 25 s TTL, refreshed every 10 s and swept every 5 s); the mechanism is the same.
PRESENCE_TTL, PRESENCE_HEARTBEAT, PRESENCE_SWEEP = 5.0, 1.0, 1.0
PRESENCE_ENV = {
    "ROOMS_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
    "ROOMS_PRESENCE_HEARTBEAT_SECONDS": str(PRESENCE_HEARTBEAT),
    "ROOMS_PRESENCE_SWEEP_SECONDS": str(PRESENCE_SWEEP),
}


def _connect(stack: contextlib.ExitStack, server: RunningServer, user: Any) -> ClientConnection:
    ws = stack.enter_context(
        connect(
            server.ws_url,
            additional_headers={
                "Cookie": session_cookie(user).decode(),
                "Origin": "http://localhost",
            },
            open_timeout=10,
            ping_interval=None,
        )
    )
    assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    return ws


def _until(ws: ClientConnection, test: Callable[[Frame], bool], timeout: float = 10) -> Frame:
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        try:
            frame: Frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            break
        if test(frame):
            return frame
    raise AssertionError("no such frame")


def _of(kind: str) -> Callable[[Frame], bool]:
    return lambda frame: frame["type"] == kind


def _subscribe(ws: ClientConnection, room_id: int) -> Frame:
    ws.send(json.dumps({"type": "subscribe", "topic": "room", "id": room_id}))
    return _until(ws, _of("room.snapshot"))


def _ids(online: list[Frame]) -> list[int]:
    return sorted(person["id"] for person in online)


def _presence(ids: list[int]) -> Callable[[Frame], bool]:
    return lambda frame: frame["type"] == "room.presence" and _ids(frame["online"]) == ids


def _kill(server: RunningServer) -> None:
    """SIGKILL the uvicorn process listening on the server's port (ours: tests/servers.py)."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == server.port and conn.status == psutil.CONN_LISTEN:
            assert conn.pid is not None
            psutil.Process(conn.pid).kill()
            return
    raise AssertionError("server process not found")


@pytest.fixture
def team(market_seed: None) -> dict[str, Any]:
    asha: Any = UserFactory(display_name="Asha")
    bina: Any = UserFactory(display_name="Bina")
    room = Room.objects.create(name="Banks", owner=asha)
    RoomMember.objects.create(room=room, user=asha, role=RoomRole.OWNER)
    RoomMember.objects.create(room=room, user=bina, role=RoomRole.MEMBER)
    return {"room": room, "asha": asha, "bina": bina}


def test_messages_and_presence_cross_processes_and_a_killed_process_goes_offline(
    team: dict[str, Any], settings: Any
) -> None:
    room_id, asha, bina = team["room"].pk, team["asha"], team["bina"]
    both = sorted([asha.pk, bina.pk])
    with (
        asgi_server(settings, env=PRESENCE_ENV) as one,
        asgi_server(settings, env=PRESENCE_ENV) as two,
        contextlib.ExitStack() as stack,
    ):
        on_one = _connect(stack, one, asha)
        on_two = _connect(stack, two, bina)
        _subscribe(on_one, room_id)
        assert _ids(_subscribe(on_two, room_id)["online"]) == both
        # Presence is the same on both processes.
        seen_one = _until(on_one, _presence(both))
        seen_two = _until(on_two, _presence(both))
        assert seen_one["online"] == seen_two["online"]

        # A message sent on one process reaches the other.
        on_one.send(
            json.dumps(
                {"type": "room.send", "room": room_id, "body": "From one", "client_id": "x1"}
            )
        )
        sent = _until(on_one, _of("room.sent"))
        arrived = _until(on_two, _of("room.message"))
        assert arrived["message"]["id"] == sent["message"]["id"]
        assert arrived["message"]["body"] == "From one"
        on_two.send(json.dumps({"type": "room.send", "room": room_id, "body": "From two"}))
        _until(on_one, lambda f: f["type"] == "room.message" and f["message"]["body"] == "From two")

        # What one process's socket views shows in the other's presence; typing crosses too.
        on_two.send(
            json.dumps(
                {"type": "room.viewing", "room": room_id, "symbol": "RELIANCE", "timeframe": "15m"}
            )
        )

        def bina_viewing(frame: Frame) -> bool:
            return frame["type"] == "room.presence" and any(
                p["id"] == bina.pk and p["viewing"] for p in frame["online"]
            )

        viewing_one = _until(on_one, bina_viewing)
        viewing_two = _until(on_two, bina_viewing)
        assert viewing_one["online"] == viewing_two["online"]
        bina_entry = next(p for p in viewing_one["online"] if p["id"] == bina.pk)
        assert bina_entry["viewing"] == {"symbol": "NSE:RELIANCE", "timeframe": "15m"}
        on_two.send(json.dumps({"type": "room.typing", "room": room_id, "typing": True}))
        typing = _until(on_one, _of("room.typing"))
        assert (typing["user"]["id"], typing["typing"]) == (bina.pk, True)

        # A late subscriber on either process gets the same presence in its snapshot.
        late_one = _connect(stack, one, asha)
        late_two = _connect(stack, two, asha)
        assert _subscribe(late_one, room_id)["online"] == _subscribe(late_two, room_id)["online"]

        # Process two dies without a word: Bina goes offline on process one after the
        # expiry (PRESENCE_TTL, swept every PRESENCE_SWEEP).
        _kill(two)
        killed_at = time.monotonic()
        _until(on_one, _presence([asha.pk]), timeout=PRESENCE_TTL + PRESENCE_SWEEP + 10)
        assert time.monotonic() - killed_at <= PRESENCE_TTL + PRESENCE_SWEEP + 5
