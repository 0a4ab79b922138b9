"""Rooms over WebSockets: 200 rooms × 25 members online, 20 messages a second, then a burst.

    .venv/bin/python -m bench.rooms            # ~5 minutes, rewrites the `rooms` section
    .venv/bin/python -m bench.rooms --quick    # 20 rooms × 10 members, prints only

One real `ws` server process (uvicorn `--ws websockets-sansio`, as in the Procfile) on a free
port on 127.0.0.1, and two client processes (this module with `--client`) holding ROOMS ×
MEMBERS WebSocket connections over TCP, one per member, each signed in as its own user with
its own session cookie. A room's members all live in one client process, so the process that
sends a message also sees every member receive it (one clock). Phases:

1. connect (every socket gets `hello`), then subscribe (every socket gets its
   `room.snapshot`; presence storms while 5,000 members come online);
2. steady: RATE `room.send` a second in all, spread over the rooms round-robin, each by a
   different member in turn, for STEADY_SECONDS. Latency per delivery = a member's receipt
   of the `room.message` − the sender's send time; per message "all members" = the last of
   its MEMBERS receipts (the sender's own socket included) − send time; ack = `room.sent`;
3. burst: every socket sends BURST_PER_SOCKET `room.send` at once; stored messages a second
   = acknowledged (stored) messages / (last ack − first send). Each socket stays within the
   per-user flood limit (burst 10), so the figure is the server's, not the limit's.

Server CPU (user + system, psutil) is read around each phase. The bench data (ROOMS rooms,
their messages, the sessions) is deleted at the end; the users (`bench-rooms-<n>@…`) stay
for the next run. Needs PostgreSQL and Redis (`DATABASE_URL`, `REDIS_URL`) with a migrated
database; on a machine shared with other work the figures vary from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench.procs import HOST, JsonLinesProcess, free_port, stop_group
from config.env import BASE_DIR, service_url

SECTION = "rooms"
ORIGIN = "http://127.0.0.1"
EMAIL = "bench-rooms-{}@stocksense.invalid"
ROOM_PREFIX = "bench-rooms "
ROOMS, MEMBERS = 200, 25
QUICK_ROOMS, QUICK_MEMBERS = 20, 10
RATE = 20.0  # messages a second, all rooms together
STEADY_SECONDS = 30.0
IDLE_SECONDS = 10.0
BURST_PER_SOCKET = 1
CLIENT_PROCESSES = 2
READY_TIMEOUT_S = 60.0

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DEBUG": "false",
    "DB_CONN_MAX_AGE": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
    "REALTIME_CHANNEL_PREFIX": "stocksense-bench-rooms:rt",
    "REDIS_URL": service_url("REDIS_URL"),
    "DATABASE_URL": service_url("DATABASE_URL"),
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# =============================================================================================
# The client process: `python -m bench.rooms --client …` (started by the bench, not by hand).
# Commands on stdin, one per line: subscribe | steady <rate> <seconds> | burst <n> | final |
# stop. JSON lines on stdout: {"event": "stats", …} every 0.25 s, {"event": "final", …}.
# =============================================================================================


class Conn:
    __slots__ = ("index", "room", "seq", "ws")

    def __init__(self, index: int, room: int) -> None:
        self.index, self.room = index, room
        self.seq = 0
        self.ws: Any = None


@dataclasses.dataclass(slots=True)
class Sent:
    phase: str
    at: float
    received: int = 0


class ClientState:
    def __init__(self, members: int) -> None:
        self.members = members
        self.connected = 0
        self.subscribed = 0
        self.handshake_errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.seq_gaps = 0
        self.presence_frames = 0
        self.typing_frames = 0
        self.stopping = False
        self.go = asyncio.Event()
        self.sent: dict[str, Sent] = {}
        # Per phase: 1 ms histograms and counters.
        self.hist: dict[str, Counter[int]] = {}
        self.count: Counter[str] = Counter()
        self.first_send: dict[str, float] = {}
        self.last_ack: dict[str, float] = {}
        self.last_delivery: dict[str, float] = {}

    def observe(self, name: str, ms: float) -> None:
        self.hist.setdefault(name, Counter())[int(ms)] += 1


def _on_frame(state: ClientState, conn: Conn, text: str) -> None:
    now = time.time()
    frame = json.loads(text)
    seq = frame.get("seq", 0)
    if seq:
        if conn.seq and seq != conn.seq + 1:
            state.seq_gaps += 1
        conn.seq = seq
    kind = frame.get("type")
    if kind == "room.message":
        sent = state.sent.get(frame.get("client_id") or "")
        if sent is None:
            return
        sent.received += 1
        ms = (now - sent.at) * 1000
        state.observe(f"{sent.phase}_delivery", ms)
        state.count[f"{sent.phase}_deliveries"] += 1
        if sent.received == state.members:
            state.observe(f"{sent.phase}_all", ms)
            state.count[f"{sent.phase}_complete"] += 1
        state.last_delivery[sent.phase] = now
    elif kind == "room.sent":
        sent = state.sent.get(frame.get("client_id") or "")
        if sent is not None:
            state.observe(f"{sent.phase}_ack", (now - sent.at) * 1000)
            state.count[f"{sent.phase}_acked"] += 1
            state.last_ack[sent.phase] = max(state.last_ack.get(sent.phase, 0.0), now)
    elif kind == "room.presence":
        state.presence_frames += 1
    elif kind == "room.typing":
        state.typing_frames += 1
    elif kind == "room.snapshot":
        state.subscribed += 1
    elif kind == "error":
        state.errors[str(frame.get("code"))] += 1


async def _run_conn(
    state: ClientState, conn: Conn, url: str, cookie: str, gate: asyncio.Semaphore
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    try:
        async with gate:
            conn.ws = await connect(
                url,
                additional_headers={"Origin": ORIGIN, "Cookie": cookie},
                compression=None,
                ping_interval=None,
                open_timeout=180,
                close_timeout=1,
                max_size=2**22,
            )
            hello = json.loads(await asyncio.wait_for(conn.ws.recv(), 60))
    except InvalidStatus as exc:
        state.handshake_errors[f"http {exc.response.status_code}"] += 1
        return
    except ConnectionClosed as exc:
        state.handshake_errors[f"closed {exc.rcvd.code if exc.rcvd else 'abnormal'}"] += 1
        return
    except Exception as exc:  # noqa: BLE001 - counted, reported
        state.handshake_errors[type(exc).__name__] += 1
        return
    if hello.get("type") != "hello":
        state.handshake_errors[f"first frame {hello.get('type')}"] += 1
        return
    conn.seq = hello.get("seq", 0)
    state.connected += 1
    try:
        await state.go.wait()
        await conn.ws.send(json.dumps({"type": "subscribe", "topic": "room", "id": conn.room}))
        async for text in conn.ws:
            if isinstance(text, str):
                _on_frame(state, conn, text)
    except ConnectionClosed as exc:
        if not state.stopping:
            state.closes[str(exc.rcvd.code) if exc.rcvd else "abnormal"] += 1


async def _send(state: ClientState, conn: Conn, phase: str, n: int, body: str) -> None:
    client_id = f"{phase}{os.getpid()}-{n}"
    state.sent[client_id] = Sent(phase, time.time())
    state.first_send.setdefault(phase, time.time())
    state.count[f"{phase}_sent"] += 1
    await conn.ws.send(
        json.dumps(
            {
                "type": "room.send",
                "room": conn.room,
                "body": body,
                "client_id": client_id,
                "ref": client_id,
            }
        )
    )


async def _steady(
    state: ClientState, by_room: dict[int, list[Conn]], rate: float, seconds: float
) -> None:
    rooms = list(by_room)
    start, n = time.monotonic(), 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + 1
        while n < due:
            room = rooms[n % len(rooms)]
            members = [c for c in by_room[room] if c.ws is not None]
            if members:
                sender = members[(n // len(rooms)) % len(members)]
                body = f"Steady {n}: watching $TCS near support" if n % 4 == 0 else f"steady {n}"
                with contextlib.suppress(Exception):
                    await _send(state, sender, "steady", n, body)
            n += 1
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))


async def _burst(state: ClientState, conns: list[Conn], per_socket: int) -> None:
    n = 0
    for k in range(per_socket):
        for conn in conns:
            if conn.ws is not None:
                with contextlib.suppress(Exception):
                    await _send(state, conn, "burst", n, f"burst {k} from {conn.index}")
                n += 1


def _client_stats(state: ClientState) -> dict[str, Any]:
    return {
        "event": "stats",
        "connected": state.connected,
        "subscribed": state.subscribed,
        "handshake_errors": dict(state.handshake_errors),
        "closes": dict(state.closes),
        "errors": dict(state.errors),
        "seq_gaps": state.seq_gaps,
        "presence_frames": state.presence_frames,
        "count": dict(state.count),
    }


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def client_main(args: argparse.Namespace) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    spec = json.loads(Path(args.spec).read_text())
    state = ClientState(members=spec["members"])
    conns = [Conn(i, room) for i, room in enumerate(spec["rooms"])]
    by_room: dict[int, list[Conn]] = {}
    for conn in conns:
        by_room.setdefault(conn.room, []).append(conn)
    gate = asyncio.Semaphore(50)
    tasks = [
        asyncio.create_task(_run_conn(state, conn, spec["url"], cookie, gate))
        for conn, cookie in zip(conns, spec["cookies"], strict=True)
    ]

    async def report_loop() -> None:
        while True:
            _emit(_client_stats(state))
            await asyncio.sleep(0.25)

    reporter = asyncio.create_task(report_loop())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    work: list[asyncio.Task[None]] = []
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "stop":
            break
        word, *rest = line.split()
        if word == "subscribe":
            state.go.set()
        elif word == "steady":
            work.append(
                asyncio.create_task(_steady(state, by_room, float(rest[0]), float(rest[1])))
            )
        elif word == "burst":
            work.append(asyncio.create_task(_burst(state, conns, int(rest[0]))))
        elif word == "final":
            _emit(
                {
                    **_client_stats(state),
                    "event": "final",
                    "hist": {name: dict(h) for name, h in state.hist.items()},
                    "first_send": state.first_send,
                    "last_ack": state.last_ack,
                    "last_delivery": state.last_delivery,
                }
            )
    state.stopping = True
    reporter.cancel()
    del tasks, work
    os._exit(0)  # the kernel closes the sockets


# =============================================================================================
# The bench process.
# =============================================================================================


@dataclasses.dataclass
class Team:
    rooms: list[int]  # room id of each connection
    cookies: list[str]
    room_ids: list[int]
    session_keys: list[str]


def setup(rooms: int, members: int) -> Team:
    """Users (kept between runs), fresh rooms and memberships, one session per user."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from apps.accounts.models import User
    from apps.rooms.models import Room, RoomMember, RoomRole

    teardown_rooms()
    n = rooms * members
    emails = [EMAIL.format(i) for i in range(n)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    missing = []
    for i, email in enumerate(emails):
        if email not in existing:
            user = User(email=email, display_name=f"Bench {i}")
            user.set_unusable_password()
            missing.append(user)
    User.objects.bulk_create(missing, batch_size=1000)
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    ordered = [users[email] for email in emails]

    made = Room.objects.bulk_create(
        [Room(name=f"{ROOM_PREFIX}{r}", owner=ordered[r * members]) for r in range(rooms)]
    )
    RoomMember.objects.bulk_create(
        [
            RoomMember(
                room=made[i // members],
                user=user,
                role=RoomRole.OWNER if i % members == 0 else RoomRole.MEMBER,
            )
            for i, user in enumerate(ordered)
        ],
        batch_size=2000,
    )
    backend = settings.AUTHENTICATION_BACKENDS[0]
    expire = timezone.now() + timedelta(days=1)
    store = SessionStore()
    sessions, keys = [], []
    for user in ordered:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expire)
        )
        keys.append(key)
    Session.objects.bulk_create(sessions, batch_size=2000)
    name = settings.SESSION_COOKIE_NAME
    return Team(
        rooms=[made[i // members].pk for i in range(n)],
        cookies=[f"{name}={key}" for key in keys],
        room_ids=[room.pk for room in made],
        session_keys=keys,
    )


def teardown_rooms() -> None:
    from apps.rooms.models import Room

    Room.objects.filter(
        name__startswith=ROOM_PREFIX, owner__email__startswith="bench-rooms-"
    ).delete()


def teardown(team: Team) -> None:
    from django.contrib.sessions.models import Session

    teardown_rooms()
    Session.objects.filter(session_key__in=team.session_keys).delete()


def stored_messages(team: Team, prefix: str) -> int:
    from apps.rooms.models import Message

    return Message.objects.filter(room_id__in=team.room_ids, client_id__startswith=prefix).count()


@contextlib.contextmanager
def running_server(log_dir: Path) -> Iterator[tuple[int, int]]:
    from bench.fanout import _asgi_argv

    port = free_port()
    log_path = log_dir / "ws.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            _asgi_argv("uvicorn-websockets-sansio", "config.asgi:application", port),
            cwd=BASE_DIR,
            env=os.environ | SERVER_ENV,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"ws exited:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"ws not listening after {READY_TIMEOUT_S}s")
                time.sleep(0.1)
            yield port, proc.pid
        finally:
            stop_group(proc)
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            if tail:
                _log("    ws log tail: " + " | ".join(tail)[:600])


class ClientProcess(JsonLinesProcess):
    def __init__(self, spec_path: Path) -> None:
        argv = [sys.executable, "-m", "bench.rooms", "--client", str(spec_path)]
        super().__init__(argv, BASE_DIR)


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    from bench.fanout import _merge as merge_counters

    merged = merge_counters(parts)
    for key in ("count", "errors", "closes", "handshake_errors"):
        merged.setdefault(key, {})
    return merged


class Clients:
    """ROOMS × MEMBERS connections over CLIENT_PROCESSES processes, split on room
    boundaries (a room's members in one process)."""

    def __init__(self, port: int, team: Team, members: int, spec_dir: Path) -> None:
        rooms = len(team.room_ids)
        k = CLIENT_PROCESSES if rooms >= CLIENT_PROCESSES else 1
        per = [rooms // k + (1 if i < rooms % k else 0) for i in range(k)]
        self.parts: list[ClientProcess] = []
        start = 0
        for i, count in enumerate(per):
            lo, hi = start * members, (start + count) * members
            spec = {
                "url": f"ws://{HOST}:{port}/ws/",
                "members": members,
                "rooms": team.rooms[lo:hi],
                "cookies": team.cookies[lo:hi],
            }
            path = spec_dir / f"client-{i}.json"
            path.write_text(json.dumps(spec))
            self.parts.append(ClientProcess(path))
            start += count
        self.pids = [part.proc.pid for part in self.parts]

    @property
    def latest(self) -> dict[str, Any]:
        return _merge([part.latest for part in self.parts])

    def send(self, command: str) -> None:
        for part in self.parts:
            part.send(command)

    def wait_for(self, key: str, target: int, timeout: float, failed: str) -> float:
        started = time.monotonic()
        last, last_change = -1, started
        while time.monotonic() - started < timeout:
            latest = self.latest
            value = int(latest.get(key, 0))
            if value + sum(latest.get(failed, {}).values()) >= target:
                break
            if value != last:
                last, last_change = value, time.monotonic()
            elif time.monotonic() - last_change > 30:
                break  # stuck
            if any(part.proc.poll() is not None for part in self.parts):
                raise RuntimeError("a client process died")
            time.sleep(0.2)
        return time.monotonic() - started

    def count(self, name: str) -> int:
        return int(self.latest.get("count", {}).get(name, 0))

    def final(self) -> dict[str, Any]:
        self.send("final")
        finals = [part.finals.get(timeout=60) for part in self.parts]
        nested = ("hist", "first_send", "last_ack", "last_delivery")
        merged = _merge([{k: v for k, v in part.items() if k not in nested} for part in finals])
        hist: dict[str, dict[str, int]] = {}
        for part in finals:
            for name, buckets in part["hist"].items():
                into = hist.setdefault(name, {})
                for ms, n in buckets.items():
                    into[ms] = into.get(ms, 0) + n
        merged["hist"] = hist
        merged["first_send"] = {
            phase: min(p["first_send"][phase] for p in finals if phase in p["first_send"])
            for phase in {ph for p in finals for ph in p["first_send"]}
        }
        for key in ("last_ack", "last_delivery"):
            merged[key] = {
                phase: max(p[key][phase] for p in finals if phase in p[key])
                for phase in {ph for p in finals for ph in p[key]}
            }
        return merged

    def cpu(self) -> float:
        from bench.fanout import cpu_seconds

        return sum(cpu_seconds(pid) for pid in self.pids)

    def stop(self) -> None:
        for part in self.parts:
            part.stop()


@dataclasses.dataclass
class Result:
    rooms: int
    members: int
    rate: float
    steady_planned: float
    connected: int = 0
    connect_s: float = 0.0
    subscribed: int = 0
    subscribe_s: float = 0.0
    presence_per_socket: float = 0.0
    idle_kb: float = 0.0
    steady_sent: int = 0
    steady_acked: int = 0
    steady_complete: int = 0
    steady_deliveries: int = 0
    steady_expected: int = 0
    steady_seconds: float = 0.0
    steady_cpu: float = 0.0
    steady_client_cpu: float = 0.0
    percentiles: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    burst_sent: int = 0
    burst_acked: int = 0
    burst_seconds: float = 0.0
    burst_cpu: float = 0.0
    burst_stored: int = 0
    burst_deliveries: int = 0
    burst_complete: int = 0
    burst_fanout_seconds: float = 0.0  # first send → last delivery
    idle_cpu_share: float = 0.0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    closes: dict[str, int] = dataclasses.field(default_factory=dict)
    handshake_errors: dict[str, int] = dataclasses.field(default_factory=dict)
    seq_gaps: int = 0

    @property
    def stored_per_second(self) -> float:
        return self.burst_acked / self.burst_seconds if self.burst_seconds else 0.0


def _pcts(hist: dict[str, int]) -> tuple[float, float]:
    from bench.fanout import _histogram_percentile

    return _histogram_percentile(hist, 50), _histogram_percentile(hist, 99)


def run(rooms: int, members: int, steady_seconds: float, rate: float) -> Result:
    from bench.fanout import cpu_seconds, rss_bytes

    result = Result(rooms, members, rate, steady_seconds)
    _log(f"setting up {rooms} rooms × {members} members")
    team = setup(rooms, members)
    n = rooms * members
    work = Path(tempfile.mkdtemp(prefix="bench-rooms-"))
    _log(f"logs and client specs in {work}")
    try:
        with running_server(work) as (port, pid):
            rss0 = rss_bytes(pid)
            clients = Clients(port, team, members, work)
            try:
                result.connect_s = clients.wait_for("connected", n, 300, "handshake_errors")
                result.connected = int(clients.latest.get("connected", 0))
                time.sleep(1.0)
                result.idle_kb = (rss_bytes(pid) - rss0) / max(1, result.connected) / 1024
                _log(
                    f"  {result.connected}/{n} connected in {result.connect_s:.0f} s "
                    f"({result.idle_kb:.1f} KB each)"
                )
                clients.send("subscribe")
                result.subscribe_s = clients.wait_for("subscribed", result.connected, 600, "errors")
                result.subscribed = int(clients.latest.get("subscribed", 0))
                time.sleep(2.0)  # the last presence announcements
                result.presence_per_socket = int(clients.latest.get("presence_frames", 0)) / max(
                    1, result.subscribed
                )
                _log(
                    f"  {result.subscribed} subscribed in {result.subscribe_s:.0f} s, "
                    f"{result.presence_per_socket:.1f} presence frames per socket"
                )

                # Idle: what 5,000 sockets in rooms cost with nothing said (presence
                # heartbeats and sweeps).
                c_idle = cpu_seconds(pid)
                time.sleep(IDLE_SECONDS)
                result.idle_cpu_share = (cpu_seconds(pid) - c_idle) / IDLE_SECONDS

                # Steady.
                c0, k0 = cpu_seconds(pid), clients.cpu()
                t0 = time.monotonic()
                per_process = rate / len(clients.parts)
                clients.send(f"steady {per_process} {steady_seconds}")
                time.sleep(steady_seconds)
                expected = int(rate * steady_seconds)
                deadline = time.monotonic() + 15
                while (
                    clients.count("steady_complete") < clients.count("steady_sent")
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.25)
                result.steady_seconds = time.monotonic() - t0
                result.steady_cpu = cpu_seconds(pid) - c0
                result.steady_client_cpu = clients.cpu() - k0
                result.steady_sent = clients.count("steady_sent")
                result.steady_acked = clients.count("steady_acked")
                result.steady_complete = clients.count("steady_complete")
                result.steady_deliveries = clients.count("steady_deliveries")
                result.steady_expected = result.steady_sent * members
                _log(
                    f"  steady: {result.steady_sent} sent (planned {expected}), "
                    f"{result.steady_acked} stored, {result.steady_complete} reached all "
                    f"members, server CPU {result.steady_cpu:.1f} s"
                )

                # Burst.
                c1 = cpu_seconds(pid)
                clients.send(f"burst {BURST_PER_SOCKET}")
                planned = result.subscribed * BURST_PER_SOCKET
                deadline = time.monotonic() + 300
                last, last_change = -1, time.monotonic()
                while time.monotonic() < deadline:
                    done = clients.count("burst_acked") + sum(
                        clients.latest.get("errors", {}).values()
                    )
                    if done >= planned and clients.count("burst_complete") >= clients.count(
                        "burst_acked"
                    ):
                        break
                    progress = done + clients.count("burst_deliveries")
                    if progress != last:
                        last, last_change = progress, time.monotonic()
                    elif time.monotonic() - last_change > 20:
                        break
                    time.sleep(0.25)
                result.burst_cpu = cpu_seconds(pid) - c1
                final = clients.final()
                hist = final["hist"]
                for name in (
                    "steady_delivery",
                    "steady_all",
                    "steady_ack",
                    "burst_ack",
                    "burst_delivery",
                    "burst_all",
                ):
                    if hist.get(name):
                        result.percentiles[name] = _pcts(hist[name])
                count = final.get("count", {})
                result.burst_sent = int(count.get("burst_sent", 0))
                result.burst_acked = int(count.get("burst_acked", 0))
                result.burst_deliveries = int(count.get("burst_deliveries", 0))
                result.burst_complete = int(count.get("burst_complete", 0))
                if "burst" in final["first_send"] and "burst" in final["last_ack"]:
                    result.burst_seconds = final["last_ack"]["burst"] - final["first_send"]["burst"]
                if "burst" in final["last_delivery"]:
                    result.burst_fanout_seconds = (
                        final["last_delivery"]["burst"] - final["first_send"]["burst"]
                    )
                result.errors = dict(final.get("errors", {}))
                result.closes = dict(final.get("closes", {}))
                result.handshake_errors = dict(final.get("handshake_errors", {}))
                result.seq_gaps = int(final.get("seq_gaps", 0))
                _log(
                    f"  burst: {result.burst_acked}/{result.burst_sent} stored in "
                    f"{result.burst_seconds:.1f} s = {result.stored_per_second:.0f}/s, "
                    f"server CPU {result.burst_cpu:.1f} s; errors {result.errors} "
                    f"closes {result.closes} gaps {result.seq_gaps}"
                )
            finally:
                clients.stop()
        result.burst_stored = stored_messages(team, "burst")
    finally:
        teardown(team)
    return result


def render(r: Result, started: datetime, elapsed: float, quick: bool) -> str:
    from bench.report import fmt_int, fmt_ms, machine_line, package_version

    def pct(name: str) -> str:
        p50, p99 = r.percentiles.get(name, (float("nan"), float("nan")))
        return f"{fmt_ms(p50)} / {fmt_ms(p99)}"

    trouble = {
        **{f"close {k}": v for k, v in r.closes.items()},
        **r.handshake_errors,
        **{f"error {k}": v for k, v in r.errors.items()},
    }
    if r.seq_gaps:
        trouble["seq gaps"] = r.seq_gaps
    n = r.rooms * r.members
    above_idle = r.steady_cpu - r.idle_cpu_share * r.steady_seconds
    per_message = above_idle / r.steady_sent * 1000 if r.steady_sent else 0.0
    return "\n".join(
        [
            "## Rooms over WebSockets (`bench/rooms.py`)",
            "",
            f"Run {started:%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min"
            f"{' (--quick)' if quick else ''} on {machine_line()}; uvicorn "
            f"{package_version('uvicorn')} (`--ws websockets-sansio`, one process), websockets "
            f"{package_version('websockets')}, channels-redis {package_version('channels-redis')}. "
            f"**{fmt_int(r.rooms)} rooms × {r.members} members = {fmt_int(n)} WebSocket clients** "
            "over TCP to one real `ws` server process, each signed in as its own user; two client "
            f"processes, a room's members in one of them. The server, both client processes, "
            "PostgreSQL and Redis share the machine's cores (and other work ran on it): the client "
            "processes' own queueing counts as latency, so the figures are upper bounds for the "
            "server.",
            "",
            "| phase | figure |",
            "|---|---|",
            f"| connect | {fmt_int(r.connected)} of {fmt_int(n)} in {r.connect_s:.0f} s; "
            f"{r.idle_kb:.1f} KB server RSS per idle socket |",
            f"| subscribe (snapshot of the last 50 messages + presence) | {fmt_int(r.subscribed)} "
            f"in {r.subscribe_s:.0f} s ({r.subscribed / r.subscribe_s if r.subscribe_s else 0:.0f}"
            f"/s); {r.presence_per_socket:.1f} `room.presence` frames per socket while "
            f"{r.members} members came online (debounced; undebounced would be {r.members}) |",
            f"| steady: {r.rate:.0f} `room.send`/s for {r.steady_planned:.0f} s over all rooms "
            f"| {fmt_int(r.steady_sent)} sent, {fmt_int(r.steady_acked)} stored, "
            f"{fmt_int(r.steady_complete)} reached all {r.members} members; "
            f"{fmt_int(r.steady_deliveries)} of {fmt_int(r.steady_expected)} deliveries |",
            f"| steady latency p50 / p99 ms, send → `room.sent` (stored) | {pct('steady_ack')} |",
            f"| steady latency p50 / p99 ms, send → each member's `room.message` "
            f"| {pct('steady_delivery')} |",
            f"| **steady latency p50 / p99 ms, send → the last of the {r.members} members** "
            f"| **{pct('steady_all')}** |",
            f"| idle server CPU, {fmt_int(r.subscribed)} sockets in rooms and nothing said "
            f"(presence heartbeats and sweeps) | {r.idle_cpu_share * 100:.0f} % of a core |",
            f"| steady server CPU | {r.steady_cpu:.1f} s over {r.steady_seconds:.0f} s "
            f"({r.steady_cpu / r.steady_seconds * 100 if r.steady_seconds else 0:.0f} % of a "
            f"core); above idle, {per_message:.1f} ms per message (store + {r.members} "
            f"deliveries); client processes {r.steady_client_cpu:.1f} s |",
            f"| **burst: every socket sends {BURST_PER_SOCKET} `room.send` at once** "
            f"| **{fmt_int(r.stored_per_second)} messages stored/s** ({fmt_int(r.burst_acked)} "
            f"acknowledged of {fmt_int(r.burst_sent)} in {r.burst_seconds:.1f} s; "
            f"{fmt_int(r.burst_stored)} rows in the database); server CPU {r.burst_cpu:.1f} s |",
            f"| burst fan-out | {fmt_int(r.burst_deliveries)} of "
            f"{fmt_int(r.burst_acked * r.members)} deliveries in {r.burst_fanout_seconds:.1f} s "
            f"(first send → last delivery: "
            f"{r.burst_deliveries / r.burst_fanout_seconds if r.burst_fanout_seconds else 0:,.0f}"
            f"/s); {fmt_int(r.burst_complete)} of {fmt_int(r.burst_acked)} messages reached all "
            "members |",
            f"| burst latency p50 / p99 ms, send → `room.sent` (queued behind the burst) "
            f"| {pct('burst_ack')} |",
            f"| burst latency p50 / p99 ms, send → the last member | {pct('burst_all')} |",
            f"| errors, closes | {', '.join(f'{k}: {v}' for k, v in trouble.items()) or 'none'} |",
        ]
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        asyncio.run(client_main(argparse.Namespace(spec=sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ROOMS} rooms × {QUICK_MEMBERS} members, prints only",
    )
    parser.add_argument("--rooms", type=int, help="override the number of rooms (no write)")
    parser.add_argument("--members", type=int, help="override members per room (no write)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    rooms = args.rooms or (QUICK_ROOMS if args.quick else ROOMS)
    members = args.members or (QUICK_MEMBERS if args.quick else MEMBERS)
    steady = STEADY_SECONDS / 3 if args.quick else STEADY_SECONDS
    os.environ.update(SERVER_ENV)
    import django

    django.setup()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    result = run(rooms, members, steady, RATE)
    body = render(result, started, time.monotonic() - t0, args.quick)
    print(body)
    if not (args.quick or args.rooms or args.members or args.no_write):
        report.write_section(SECTION, body)
        _log(f"wrote the `{SECTION}` section of {report.BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
