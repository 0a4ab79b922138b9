"""The client side of bench/fanout.py: N WebSocket connections in one asyncio process.

Not meant to be run by hand: `bench.fanout` starts it, talks to it over stdin (commands, one
per line) and reads JSON lines from its stdout.

    commands:  subscribe | burst | final <steady ticks> | stop
    events:    {"event": "stats", ...} every 0.25 s, {"event": "final", ...} once

Every quote carries its tick number in `volume` (the bench publisher sets it) and its publish
time in `at`: steady ticks are numbered 1..S, burst ticks from BURST_BASE up. A connection
keeps a bitmask of the steady ticks it saw per symbol, so `final` can tell whether any
(connection, symbol, tick) went missing.

The client must cost little per frame, or its own queueing counts as server latency: each
socket is a `bench.wsclient` protocol (no task or queue per socket), and a tick frame is only
counted on arrival (quotes by `"symbol":`, `seq` read from the text) and stored with two
times: when the kernel received it (the latency the bench reports: publish → the data
reached the client's socket) and when this process read it (reported beside it: on the bench
machine the clients share the cores with the server, and their own queueing adds to it).
With --yield-steady the process gives way to the server in the steady phase
(`bench.procs.yield_cpu`), so it reads once the server has no more to do; for the burst it
takes its share back.
Stored frames are decoded once the sockets have been quiet for IDLE_S (steady ticks come
once a second), and in any case before `final` answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

from bench.procs import yield_cpu
from bench.wsclient import ConnectionClosed, HandshakeError, ReadPoller, WebSocketProtocol

BURST_BASE = 1_000_000
TICK_PREFIX = '{"type":"quote.tick"'
SEQ_PREFIX = TICK_PREFIX + ',"seq":'
OPEN_TIMEOUT_S = 120.0
HELLO_TIMEOUT_S = 60.0
IDLE_S = 0.05  # parse stored ticks once no tick arrived for this long
PARSE_CHUNK = 200  # frames parsed between two looks at the sockets
READ_EVERY_S = 0.01  # the sockets are read in rounds (bench.wsclient.ReadPoller)


class State:
    def __init__(self) -> None:
        self.connected = 0
        self.subscribed = 0
        self.quotes = 0  # quotes inside quote.tick frames
        self.frames = 0  # quote.tick frames
        self.other_frames = 0
        self.handshake_errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()  # closes the server initiated, by code
        self.seq_gaps = 0
        self.latencies: list[float] = []  # ms to the client's socket, steady ticks only
        self.read_latencies: list[float] = []  # ms to this process reading it
        # "tick:ms" → quotes of that steady tick received in that 1 ms bucket (per-tick tails)
        self.tick_histogram: Counter[str] = Counter()
        self.burst = False
        self.subscribe = asyncio.Event()
        self.stopping = False
        # Steady tick frames as received, parsed when the sockets are quiet (`parse_pending`):
        # parsing on arrival would queue the next frames behind it and count as latency.
        self.pending: list[tuple[float, float, Conn, str]] = []  # received, read, conn, text
        self.parsed: dict[str, list[tuple[str, int, int, float]]] = {}  # see `parse_ticks`
        self.last_tick = 0.0
        self.yield_steady = False  # give way to the server in the steady phase (--yield-steady)
        self.yielding = False  # giving way now (bench.procs.yield_cpu)


class Conn:
    __slots__ = ("symbols", "masks", "seq")

    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.masks: dict[str, int] = dict.fromkeys(symbols, 0)
        self.seq = 0


_published_at: dict[str, float] = {}  # `at` text → epoch seconds; a batch shares one `at`


def _epoch(at: str) -> float:
    value = _published_at.get(at)
    if value is None:
        value = _published_at[at] = datetime.fromisoformat(at).timestamp()
    return value


def check_seq(state: State, conn: Conn, seq: int) -> None:
    if seq:
        if conn.seq and seq != conn.seq + 1:
            state.seq_gaps += 1
        conn.seq = seq


def tick_seq(text: str) -> int:
    """`seq` of a tick frame without parsing it: our server and both baselines put it second."""
    if text.startswith(SEQ_PREFIX):
        start = len(SEQ_PREFIX)
        end = text.find(",", start)
        if end > start and text[start:end].isdigit():
            return int(text[start:end])
    return int(json.loads(text).get("seq", 0))


def _steady_quotes(text: str) -> list[tuple[str, int, int, float]]:
    """(label, tick, tick bit, publish time) of each steady-phase quote in a tick frame."""
    quotes = [(f"{q['exchange']}:{q['symbol']}", int(q["volume"]), q["at"])
              for q in json.loads(text)["quotes"]]
    return [(label, tick, 1 << tick, _epoch(at)) for label, tick, at in quotes
            if tick < BURST_BASE]


def parse_ticks(state: State, frames: list[tuple[float, float, Conn, str]]) -> None:
    """Latencies and per-(connection, symbol) tick bits of stored steady frames.

    Connections watching the same symbols get frames that differ only in `seq` (and the
    baselines' one-quote frames are identical), so each distinct quote list is decoded once:
    `json.loads` of a 20-quote frame costs ~80 µs here, a dict lookup a few."""
    cache = state.parsed
    latencies, read_latencies = state.latencies, state.read_latencies
    tick_histogram = state.tick_histogram
    for received, read_at, conn, text in frames:
        start = text.find('"quotes":')
        body = text[start:] if start > 0 else text
        quotes = cache.get(body)
        if quotes is None:
            quotes = cache[body] = _steady_quotes(text)
        masks = conn.masks
        for label, tick, bit, at in quotes:
            if label in masks:
                masks[label] |= bit
            ms = (received - at) * 1000
            latencies.append(ms)
            tick_histogram[f"{tick}:{int(ms)}"] += 1
            read_latencies.append((read_at - at) * 1000)


async def parse_pending(state: State) -> None:
    """Drain `state.pending` in chunks while no tick arrives (steady ticks come once a second)."""
    while True:
        await asyncio.sleep(IDLE_S)
        while state.pending and time.time() - state.last_tick >= IDLE_S:
            chunk = state.pending[:PARSE_CHUNK]
            del state.pending[:PARSE_CHUNK]
            parse_ticks(state, chunk)
            await asyncio.sleep(0)
        if not state.pending:
            state.parsed.clear()


class FanoutConnection(WebSocketProtocol):
    """One bench connection: `hello` resolves `self.hello`; tick frames are counted and stored."""

    def __init__(self, state: State, conn: Conn, url: str, headers: dict[str, str],
                 poller: ReadPoller) -> None:
        super().__init__(url, headers, poller)
        self.state, self.conn = state, conn
        self.hello: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.connected = False

    def text_received(self, text: str, received: float) -> None:
        state = self.state
        if text.startswith(TICK_PREFIX):
            state.frames += 1
            state.quotes += text.count('"symbol":')
            if not state.burst:  # in a burst: counting only, to keep the client out of the way
                check_seq(state, self.conn, tick_seq(text))
                state.pending.append((received, self.read_at, self.conn, text))
                state.last_tick = received
            return
        frame = json.loads(text)
        if not self.hello.done():
            if frame.get("type") == "hello":
                self.conn.seq = frame.get("seq") or 0
            self.hello.set_result(frame)
            return
        state.other_frames += 1
        check_seq(state, self.conn, frame.get("seq", 0))
        kind = frame.get("type")
        # Our server follows `subscribed` with `quote.snapshot`; the baselines stop at
        # `subscribed`.
        if kind == "quote.snapshot" or (kind == "subscribed" and not frame.get("seq")):
            state.subscribed += 1

    def closed(self, code: int | None) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionClosed(code))
        elif self.connected and not self.state.stopping:
            self.state.closes[str(code) if code else "abnormal"] += 1


async def run_conn(
    state: State, conn: Conn, url: str, headers: dict[str, str], gate: asyncio.Semaphore,
    poller: ReadPoller,
) -> None:
    ws = FanoutConnection(state, conn, url, headers, poller)
    try:
        async with gate:
            await asyncio.wait_for(ws.open(), OPEN_TIMEOUT_S)
            hello = await asyncio.wait_for(ws.hello, HELLO_TIMEOUT_S)
    except (HandshakeError, ConnectionClosed) as exc:
        failure = str(exc)
    except Exception as exc:  # noqa: BLE001 - counted, reported
        failure = type(exc).__name__
    else:
        failure = "" if hello.get("type") == "hello" else f"first frame {hello.get('type')}"
    if failure:
        state.handshake_errors[failure] += 1
        ws.hello.cancel()  # nobody will read it now
        ws.abort()
        return
    state.connected += 1
    ws.connected = True
    await state.subscribe.wait()
    ws.send_text(json.dumps({"type": "subscribe", "topic": "quotes",
                             "symbols": conn.symbols, "ref": "s"}))


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def stats(state: State) -> dict[str, Any]:
    return {
        "event": "stats", "t": time.time(), "connected": state.connected,
        "subscribed": state.subscribed, "quotes": state.quotes, "frames": state.frames,
        "other_frames": state.other_frames, "handshake_errors": dict(state.handshake_errors),
        "closes": dict(state.closes), "seq_gaps": state.seq_gaps,
    }


def final(state: State, conns: list[Conn], ticks: int) -> dict[str, Any]:
    want = sum(1 << t for t in range(1, ticks + 1))
    missing = last_missing = 0
    for conn in conns:
        for mask in conn.masks.values():
            missing += bin(want & ~mask).count("1")
            if ticks and not mask >> ticks & 1:
                last_missing += 1
    return {
        **stats(state), "event": "final", "expected": len(conns) * len(conns[0].symbols) * ticks
        if conns else 0, "missing": missing, "last_missing": last_missing,
        "latency_samples": len(state.latencies),
        "p50_ms": _percentile(state.latencies, 50), "p99_ms": _percentile(state.latencies, 99),
        "max_ms": max(state.latencies, default=float("nan")),
        # 1 ms buckets, so a parent running several client processes can merge them.
        "histogram": Counter(int(ms) for ms in state.latencies),
        "read_histogram": Counter(int(ms) for ms in state.read_latencies),
        "tick_histogram": state.tick_histogram,
    }


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def commands(state: State, conns: list[Conn]) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "stop":
            state.stopping = True
            return
        word, _, arg = line.partition(" ")
        if word == "subscribe":
            state.subscribe.set()
            if state.yield_steady:
                # The steady phase measures latency: give the server every core it wants.
                state.yielding = yield_cpu(True)
        elif word == "burst":
            state.burst = True
        elif word == "final":
            # The burst phase counts deliveries: the clients must keep up with the server.
            yielded = state.yielding
            if yielded:
                state.yielding = yield_cpu(False)
            parse_ticks(state, state.pending)
            state.pending.clear()
            state.parsed.clear()
            emit(final(state, conns, int(arg or 0)) | {"yielded": yielded})


async def reporter(state: State) -> None:
    while True:
        emit(stats(state))
        await asyncio.sleep(0.25)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--symbols", required=True, help="comma-separated EX:SYMBOL labels")
    parser.add_argument("--per-connection", type=int, default=20)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--origin", default="http://127.0.0.1")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--offset", type=int, default=0, help="index of the first connection")
    parser.add_argument("--yield-steady", action="store_true",
                        help="give way to the server in the steady phase (bench.procs.yield_cpu)")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    labels = args.symbols.split(",")
    conns = [Conn(choose(labels, args.offset + i, args.per_connection))
             for i in range(args.connections)]
    headers = {"Origin": args.origin}
    if args.cookie:
        headers["Cookie"] = args.cookie
    state = State()
    state.yield_steady = args.yield_steady
    gate = asyncio.Semaphore(args.concurrency)
    poller = ReadPoller(READ_EVERY_S)
    tasks = [asyncio.create_task(run_conn(state, conn, args.url, headers, gate, poller))
             for conn in conns]
    report = asyncio.create_task(reporter(state))
    parser_task = asyncio.create_task(parse_pending(state))
    await commands(state, conns)
    report.cancel()
    parser_task.cancel()
    emit(stats(state))
    del tasks
    os._exit(0)  # the kernel closes the sockets; the server sees them go


def choose(labels: list[str], index: int, count: int) -> list[str]:
    """Deterministic: connection i watches `count` consecutive symbols from offset 7i."""
    start = (index * 7) % len(labels)
    return [labels[(start + k) % len(labels)] for k in range(count)]


if __name__ == "__main__":
    asyncio.run(main())
