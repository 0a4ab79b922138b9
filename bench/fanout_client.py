"""The client side of bench/fanout.py: N WebSocket connections in one asyncio process.

Not meant to be run by hand: `bench.fanout` starts it, talks to it over stdin (commands, one
per line) and reads JSON lines from its stdout.

    commands:  subscribe | burst | final <steady ticks> | stop
    events:    {"event": "stats", ...} every 0.25 s, {"event": "final", ...} once

Every quote carries its tick number in `volume` (the bench publisher sets it) and its publish
time in `at`: steady ticks are numbered 1..S, burst ticks from BURST_BASE up. A connection
keeps a bitmask of the steady ticks it saw per symbol, so `final` can tell whether any
(connection, symbol, tick) went missing.
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

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

BURST_BASE = 1_000_000
TICK_PREFIX = '{"type":"quote.tick"'


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
        self.latencies: list[float] = []  # ms, steady ticks only
        self.burst = False
        self.subscribe = asyncio.Event()
        self.stopping = False


class Conn:
    __slots__ = ("symbols", "masks", "seq")

    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.masks: dict[str, int] = dict.fromkeys(symbols, 0)
        self.seq = 0


def _symbol_label(quote: dict[str, Any]) -> str:
    return f"{quote['exchange']}:{quote['symbol']}"


_published_at: dict[str, float] = {}  # `at` text → epoch seconds; a batch shares one `at`


def _epoch(at: str) -> float:
    value = _published_at.get(at)
    if value is None:
        value = _published_at[at] = datetime.fromisoformat(at).timestamp()
    return value


def handle_tick(state: State, conn: Conn, text: str) -> None:
    state.frames += 1
    if state.burst:  # counting only, to keep the client out of the way
        state.quotes += text.count('"symbol":')
        return
    now = time.time()
    frame = json.loads(text)
    seq = frame.get("seq", 0)
    if seq:
        if conn.seq and seq != conn.seq + 1:
            state.seq_gaps += 1
        conn.seq = seq
    for quote in frame["quotes"]:
        state.quotes += 1
        tick = int(quote["volume"])
        if tick >= BURST_BASE:
            continue
        label = _symbol_label(quote)
        if label in conn.masks:
            conn.masks[label] |= 1 << tick
        state.latencies.append((now - _epoch(quote["at"])) * 1000)


async def run_conn(
    state: State, conn: Conn, url: str, headers: dict[str, str], gate: asyncio.Semaphore
) -> None:
    try:
        async with gate:
            ws = await connect(
                url,
                additional_headers=headers,
                compression=None,
                ping_interval=None,
                open_timeout=120,
                close_timeout=1,
                max_size=2**22,
                max_queue=64,
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if hello.get("type") != "hello":
                state.handshake_errors[f"first frame {hello.get('type')}"] += 1
                await ws.close()
                return
    except InvalidStatus as exc:
        state.handshake_errors[f"http {exc.response.status_code}"] += 1
        return
    except ConnectionClosed as exc:
        state.handshake_errors[f"closed {exc.rcvd.code if exc.rcvd else 'abnormal'}"] += 1
        return
    except Exception as exc:  # noqa: BLE001 - counted, reported
        state.handshake_errors[type(exc).__name__] += 1
        return
    if hello.get("seq"):
        conn.seq = hello["seq"]
    state.connected += 1
    try:
        await state.subscribe.wait()
        await ws.send(json.dumps({"type": "subscribe", "topic": "quotes",
                                  "symbols": conn.symbols, "ref": "s"}))
        async for text in ws:
            if isinstance(text, bytes):
                continue
            if text.startswith(TICK_PREFIX):
                handle_tick(state, conn, text)
                continue
            frame = json.loads(text)
            state.other_frames += 1
            seq = frame.get("seq", 0)
            if seq:
                if conn.seq and seq != conn.seq + 1:
                    state.seq_gaps += 1
                conn.seq = seq
            kind = frame.get("type")
            # Our server follows `subscribed` with `quote.snapshot`; the baselines stop at
            # `subscribed`.
            if kind == "quote.snapshot" or (kind == "subscribed" and not frame.get("seq")):
                state.subscribed += 1
    except ConnectionClosed as exc:
        if not state.stopping:
            state.closes[str(exc.rcvd.code) if exc.rcvd else "abnormal"] += 1


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
        elif word == "burst":
            state.burst = True
        elif word == "final":
            emit(final(state, conns, int(arg or 0)))


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
    gate = asyncio.Semaphore(args.concurrency)
    tasks = [asyncio.create_task(run_conn(state, conn, args.url, headers, gate))
             for conn in conns]
    report = asyncio.create_task(reporter(state))
    await commands(state, conns)
    report.cancel()
    emit(stats(state))
    del tasks
    os._exit(0)  # the kernel closes the sockets; the server sees them go


def choose(labels: list[str], index: int, count: int) -> list[str]:
    """Deterministic: connection i watches `count` consecutive symbols from offset 7i."""
    start = (index * 7) % len(labels)
    return [labels[(start + k) % len(labels)] for k in range(count)]


if __name__ == "__main__":
    asyncio.run(main())
