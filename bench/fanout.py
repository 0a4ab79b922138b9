"""Quote fan-out over WebSockets: our QuoteHub design vs Channels pub/sub vs bare websockets.

    .venv/bin/python -m bench.fanout            # ~10 minutes, rewrites the `fanout` section
    .venv/bin/python -m bench.fanout --quick    # smoke test: 200 connections, prints only

For each (design, ASGI server, N connections) a server process is started on a free port on
127.0.0.1 and separate client processes (bench/fanout_client.py, two) open N WebSocket
connections, each authenticated with the same session cookie, each subscribed to 20 of 50
NSE symbols (connection i: 20 consecutive symbols from offset 7i, so every symbol has
0.4 N watchers). This process publishes the quotes:

(a) steady: one batch of 50 quotes a second for STEADY_TICKS seconds; a quote's `at` is its
    publish time (latency = client receive time − `at`, same clock) and its `volume` is the
    tick number, so the client checks that every (connection, symbol, tick) arrived;
(b) burst: batches back to back for BURST_SECONDS, paced only by the server — publishing
    pauses while a subscriber's Redis output buffer holds more than BACKLOG_BYTES (otherwise
    Redis would drop the subscriber at its 32 MB pub/sub limit) — then drains.

Deliveries are quotes received by clients (each quote inside a coalesced frame counts); CPU
is the server process's user+system time (psutil, the process and its children) over the
same window. Designs:

  ours      config.asgi:application — RealtimeConsumer + per-process QuoteHub, publisher
            `apps.realtime.quotes.quotes_publish(batch)` (one PUBLISH per symbol).
  channels  bench/fanout_channels.py — trivial consumers in one group per symbol on
            `channels_redis.pubsub.RedisPubSubChannelLayer`; publisher `group_send` per symbol.
  bare      bench/fanout_bare.py — `websockets` server, `websockets.broadcast()` per Redis
            message; publisher `quotes_publish(batch)` (the same channels as ours).

A server label ending in `-x<N>` runs N server processes; one ending in `+yield` makes the
client processes give way to the server in the steady phase (`bench.procs.yield_cpu`): with
two server processes on two cores, clients competing for the cores stretch every flush.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil

from bench import report
from bench.fanout_churn import SAMPLE_EVERY, WARM_UP, ChurnResult, churn
from bench.procs import JsonLinesProcess, free_port, stop_group
from config.env import BASE_DIR, service_url

SECTION = "fanout"
HOST = "127.0.0.1"
ORIGIN = "http://127.0.0.1"
BENCH_EMAIL = "bench-fanout@stocksense.invalid"
SYMBOLS = 50
PER_CONNECTION = 20
STEADY_TICKS = 10
BURST_SECONDS = 5.0
BURST_BASE = 1_000_000  # burst ticks are numbered from here (the client counts only)
BACKLOG_BYTES = 4 * 1024 * 1024
READY_TIMEOUT_S = 60.0
CHANNEL_PREFIX = "stocksense-bench:rt"  # keeps bench ticks away from a running dev server

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DEBUG": "false",
    "DB_CONN_MAX_AGE": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
    "REALTIME_CHANNEL_PREFIX": CHANNEL_PREFIX,
    "REDIS_URL": service_url("REDIS_URL"),
    "DATABASE_URL": service_url("DATABASE_URL"),
}
# Measuring a proposed server change (docs/realtime.md): other settings, or a patched copy of
# the project to run the server from. Runs with either never write docs/benchmarks.md.
if os.environ.get("FANOUT_SERVER_SETTINGS"):
    SERVER_ENV["DJANGO_SETTINGS_MODULE"] = os.environ["FANOUT_SERVER_SETTINGS"]
SERVER_CWD = Path(os.environ.get("FANOUT_SERVER_CWD") or BASE_DIR)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- servers ---------------------------------------------------------------------------------


def _asgi_argv(server: str, app: str, port: int) -> list[str]:
    py = sys.executable
    if server == "daphne":
        return [py, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", app]
    # uvicorn-websockets / uvicorn-websockets-sansio, optionally "-x<N>": N processes
    # (uvicorn --workers; each process runs its own hub, as separate `ws` instances would).
    name, _, workers = server.partition("-x")
    ws = name.split("-", 1)[1]
    argv = [py, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), "--ws", ws,
            "--no-access-log", "--log-level=warning", "--lifespan=off"]
    return argv + (["--workers", workers] if workers else [])


def server_argv(design: str, server: str, port: int) -> list[str]:
    if design == "ours":
        return _asgi_argv(server, "config.asgi:application", port)
    if design == "channels":
        return _asgi_argv(server, "bench.fanout_channels:application", port)
    return [sys.executable, "-m", "bench.fanout_bare", "--port", str(port),
            "--redis-url", SERVER_ENV["REDIS_URL"], "--prefix", CHANNEL_PREFIX]


def _tree(pid: int) -> list[psutil.Process]:
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for proc in _tree(pid):
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(pid: int) -> int:
    total = 0
    for proc in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


@contextlib.contextmanager
def running_server(design: str, server: str, log_dir: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    log_path = log_dir / f"{design}-{server}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(server_argv(design, server, port), cwd=SERVER_CWD,
                                env=os.environ | SERVER_ENV, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{design}/{server} exited:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{design}/{server} not listening after {READY_TIMEOUT_S}s")
                time.sleep(0.1)
            time.sleep(0.5)
            yield port, proc.pid
        finally:
            stop_group(proc)
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            if tail:
                _log(f"    {design}/{server} log tail: " + " | ".join(tail)[:600])


# --- the client process ---------------------------------------------------------------------


CLIENT_PROCESSES = 2  # one asyncio process per core reads the sockets (see `Client`)


class ClientProcess(JsonLinesProcess):
    def __init__(self, port: int, n: int, offset: int, labels: list[str], cookie: str,
                 yield_steady: bool) -> None:
        argv = [sys.executable, "-m", "bench.fanout_client", "--url", f"ws://{HOST}:{port}/ws/",
                "--connections", str(n), "--offset", str(offset), "--symbols", ",".join(labels),
                "--per-connection", str(PER_CONNECTION), "--cookie", cookie,
                "--origin", ORIGIN] + (["--yield-steady"] if yield_steady else [])
        super().__init__(argv, BASE_DIR)


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the counters of several client processes' reports (numbers and dicts of numbers)."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, bool) or key in ("event", "t"):
                continue
            if isinstance(value, int | float):
                merged[key] = merged.get(key, 0) + value
            elif isinstance(value, dict):
                bucket = merged.setdefault(key, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0) + v
    return merged


def _histogram_percentile(histogram: dict[str, int], pct: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank, seen = pct / 100 * (total - 1), 0
    for ms in sorted(histogram, key=int):
        seen += histogram[ms]
        if seen > rank:
            return float(ms)
    return float(max(histogram, key=int))


def per_tick(histogram: dict[str, int]) -> dict[int, tuple[float, float, float]]:
    """Steady tick → (p50, p99, max) ms of its quotes, from a merged "tick:ms" histogram: one
    slow tick among the few steady ones can make the whole run's p99 on its own."""
    ticks: dict[int, dict[str, int]] = {}
    for key, count in histogram.items():
        tick, _, ms = key.partition(":")
        ticks.setdefault(int(tick), {})[ms] = count
    return {tick: (_histogram_percentile(h, 50), _histogram_percentile(h, 99),
                   _histogram_percentile(h, 100))
            for tick, h in sorted(ticks.items())}


class Client:
    """N connections spread over CLIENT_PROCESSES processes (connection i in one of them).

    A single Python process reading 5,000 sockets needs most of a core for the frames alone,
    and a frame waiting for the client's event loop counts as latency: two processes halve
    that queueing. Their reports are merged (sums; latency percentiles from merged 1 ms
    histograms)."""

    def __init__(self, port: int, n: int, labels: list[str], cookie: str,
                 yield_steady: bool = False) -> None:
        k = CLIENT_PROCESSES if n >= 2 * CLIENT_PROCESSES else 1
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        offsets = [sum(sizes[:i]) for i in range(k)]
        self.parts = [ClientProcess(port, size, offset, labels, cookie, yield_steady)
                      for size, offset in zip(sizes, offsets, strict=True)]
        self.pids = [part.proc.pid for part in self.parts]

    @property
    def latest(self) -> dict[str, Any]:
        return _merge([part.latest for part in self.parts])

    def send(self, command: str) -> None:
        for part in self.parts:
            part.send(command)

    def wait_for(self, key: str, target: int, timeout: float) -> float:
        started = time.monotonic()
        last, last_change = -1, started
        while time.monotonic() - started < timeout:
            latest = self.latest
            value = int(latest.get(key, 0))
            failed = sum(latest.get("handshake_errors" if key == "connected" else "closes",
                                    {}).values())
            if value + failed >= target:
                break
            if value != last:
                last, last_change = value, time.monotonic()
            elif time.monotonic() - last_change > 10:
                break  # stuck
            if any(part.proc.poll() is not None for part in self.parts):
                raise RuntimeError("a client process died")
            time.sleep(0.1)
        return time.monotonic() - started

    def quotes(self) -> int:
        return int(self.latest.get("quotes", 0))

    def final(self, ticks: int) -> dict[str, Any]:
        self.send(f"final {ticks}")
        finals = [part.finals.get(timeout=60) for part in self.parts]
        merged = _merge(finals)
        histogram = merged.get("histogram", {})
        merged["p50_ms"] = _histogram_percentile(histogram, 50)
        merged["p99_ms"] = _histogram_percentile(histogram, 99)
        read = merged.get("read_histogram", {})
        merged["read_p50_ms"] = _histogram_percentile(read, 50)
        merged["read_p99_ms"] = _histogram_percentile(read, 99)
        merged["per_tick"] = per_tick(merged.get("tick_histogram", {}))
        merged["yielded"] = all(part.get("yielded") for part in finals)
        return merged

    def stop(self) -> None:
        for part in self.parts:
            part.stop()


# --- publishing ------------------------------------------------------------------------------


class Publisher:
    """Quotes for 50 NSE instruments from `apps.market` (the simulated provider), re-stamped."""

    def __init__(self) -> None:
        from apps.market.models import Instrument
        from apps.market.providers.base import InstrumentRef
        from apps.market.providers.simulated import SimulatedProvider

        instruments = list(
            Instrument.objects.filter(active=True, exchange__code="NSE")
            .select_related("exchange").order_by("symbol")[:SYMBOLS]
        )
        if len(instruments) < SYMBOLS:
            raise SystemExit(f"Need {SYMBOLS} active NSE instruments; run the seed first.")
        refs = [InstrumentRef.from_instrument(i) for i in instruments]
        self.base = SimulatedProvider().latest_quotes(refs)
        self.labels = [f"{q.exchange}:{q.symbol}" for q in self.base]
        self.layer: Any = None

    def batch(self, tick: int) -> list[Any]:
        at = datetime.now(UTC)
        step = Decimal("0.05") * (tick % 200)
        return [dataclasses.replace(q, last_price=q.last_price + step, volume=tick, at=at)
                for q in self.base]

    async def publish(self, design: str, tick: int) -> None:
        batch = self.batch(tick)
        if design != "channels":
            from apps.realtime.quotes import quotes_publish

            quotes_publish(batch)
            return
        from apps.market.serializers import quote_data
        from bench.fanout_channels import symbol_group

        for q in batch:
            text = json.dumps(quote_data(q, stale=False), separators=(",", ":"))
            await self.layer.group_send(
                symbol_group(f"{q.exchange}:{q.symbol}"),
                {"type": "quote.tick",
                 "text": f'{{"type":"quote.tick","seq":0,"quotes":[{text}]}}'},
            )


def subscriber_backlog(redis: Any) -> int:
    """The largest output buffer of a pub/sub client of Redis, in bytes."""
    worst = 0
    for client in redis.client_list(_type="pubsub"):
        worst = max(worst, int(client.get("omem", 0)))
    return worst


# --- one scenario ----------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    design: str
    server: str
    n: int
    connected: int = 0
    connect_s: float = 0.0
    idle_kb: float = 0.0
    steady_deliveries: int = 0
    steady_expected: int = 0
    steady_cpu: float = 0.0
    steady_frames: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    read_p50_ms: float = 0.0  # to the client process reading it (see bench/fanout_client.py)
    read_p99_ms: float = 0.0
    missing: int = 0
    last_missing: int = 0
    burst_published: int = 0
    burst_deliveries: int = 0
    burst_cpu: float = 0.0
    burst_frames: int = 0
    burst_s: float = 0.0
    closes: dict[str, int] = dataclasses.field(default_factory=dict)
    handshake_errors: dict[str, int] = dataclasses.field(default_factory=dict)
    seq_gaps: int = 0
    client_cpu: float = 0.0  # the client process's CPU seconds in the steady phase
    clients_yielded: bool = False  # the clients gave way to the server in the steady phase
                                   # (servers named with the YIELD suffix; see `yield_cpu`)

    @property
    def steady_rate(self) -> float:
        return self.steady_deliveries / self.steady_cpu if self.steady_cpu else 0.0

    @property
    def burst_rate(self) -> float:
        return self.burst_deliveries / self.burst_cpu if self.burst_cpu else 0.0

    @property
    def steady_ratio(self) -> float:  # quotes per frame
        return self.steady_deliveries / self.steady_frames if self.steady_frames else 0.0

    @property
    def burst_ratio(self) -> float:
        return self.burst_deliveries / self.burst_frames if self.burst_frames else 0.0


async def run_scenario(design: str, server: str, n: int, cookie: str, pub: Publisher,
                       log_dir: Path, redis: Any) -> Result:
    result = Result(design, server, n)
    yield_steady = server.endswith(YIELD)
    with running_server(design, server.removesuffix(YIELD), log_dir) as (port, pid):
        rss0 = rss_bytes(pid)
        client = Client(port, n, pub.labels, cookie if design == "ours" else "", yield_steady)
        try:
            result.connect_s = client.wait_for("connected", n, timeout=180)
            await asyncio.sleep(1.0)
            result.connected = int(client.latest.get("connected", 0))
            rss1 = rss_bytes(pid)
            result.idle_kb = (rss1 - rss0) / max(1, result.connected) / 1024
            client.send("subscribe")
            client.wait_for("subscribed", result.connected, timeout=180)
            await asyncio.sleep(1.0)
            _log(f"    {result.connected}/{n} connected in {result.connect_s:.1f}s, "
                 f"{client.latest.get('subscribed')} subscribed, idle {result.idle_kb:.1f} KB/conn")

            # (a) steady
            q0, f0, c0 = client.quotes(), int(client.latest.get("frames", 0)), cpu_seconds(pid)
            k0 = sum(cpu_seconds(pid_) for pid_ in client.pids)
            start = time.monotonic()
            for tick in range(1, STEADY_TICKS + 1):
                await asyncio.sleep(max(0.0, start + tick - 1 - time.monotonic()))
                await pub.publish(design, tick)
            await asyncio.sleep(1.5)
            deadline = time.monotonic() + 10
            expected = int(client.latest.get("subscribed", 0)) * PER_CONNECTION
            result.steady_expected = expected * STEADY_TICKS
            while client.quotes() - q0 < result.steady_expected and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
            c1 = cpu_seconds(pid)
            result.client_cpu = sum(cpu_seconds(pid_) for pid_ in client.pids) - k0
            result.steady_deliveries = client.quotes() - q0
            result.steady_frames = int(client.latest.get("frames", 0)) - f0
            result.steady_cpu = c1 - c0
            fin = client.final(STEADY_TICKS)
            result.p50_ms, result.p99_ms = fin["p50_ms"], fin["p99_ms"]
            result.read_p50_ms, result.read_p99_ms = fin["read_p50_ms"], fin["read_p99_ms"]
            result.missing, result.last_missing = fin["missing"], fin["last_missing"]
            result.clients_yielded = fin["yielded"]  # logged below; `_yield_note` reports it
            _log("    steady ticks, p50/p99/max ms: " + ", ".join(
                f"{tick}: {p50:.0f}/{p99:.0f}/{top:.0f}"
                for tick, (p50, p99, top) in fin["per_tick"].items()))

            # (b) burst
            client.send("burst")
            await asyncio.sleep(0.3)
            q2, f2, c2 = client.quotes(), int(client.latest.get("frames", 0)), cpu_seconds(pid)
            t2 = time.monotonic()
            tick = BURST_BASE
            while time.monotonic() - t2 < BURST_SECONDS:
                tick += 1
                await pub.publish(design, tick)
                if tick % 5 == 0:
                    while (subscriber_backlog(redis) > BACKLOG_BYTES
                           and time.monotonic() - t2 < BURST_SECONDS):
                        await asyncio.sleep(0.005)
            result.burst_published = (tick - BURST_BASE) * SYMBOLS
            # Drain: until the clients' count stands still for a second (at most 15 s in all).
            last, last_change = client.quotes(), time.monotonic()
            last_cpu = cpu_seconds(pid)
            while time.monotonic() - last_change < 1.0 and time.monotonic() - t2 < 15:
                await asyncio.sleep(0.1)
                now_q = client.quotes()
                if now_q != last:
                    last, last_change, last_cpu = now_q, time.monotonic(), cpu_seconds(pid)
            result.burst_s = last_change - t2
            result.burst_deliveries = last - q2
            result.burst_frames = int(client.latest.get("frames", 0)) - f2
            result.burst_cpu = last_cpu - c2
            result.closes = dict(client.latest.get("closes", {}))
            result.handshake_errors = dict(client.latest.get("handshake_errors", {}))
            result.seq_gaps = int(client.latest.get("seq_gaps", 0))
        finally:
            client.stop()
    r = result
    _log(f"    steady {report.fmt_int(r.steady_rate)} deliveries/CPU-s "
         f"({r.steady_deliveries}/{r.steady_expected}, cpu {r.steady_cpu:.2f}s, "
         f"{r.steady_ratio:.1f} q/frame, p50 {r.p50_ms:.1f} p99 {r.p99_ms:.1f} ms "
         f"(read p50 {r.read_p50_ms:.1f} p99 {r.read_p99_ms:.1f} ms), "
         f"missing {r.missing} (last value missing {r.last_missing}), "
         f"client cpu {r.client_cpu:.2f}s, clients yielded {r.clients_yielded}); "
         f"burst {report.fmt_int(r.burst_rate)} deliveries/CPU-s "
         f"({r.burst_deliveries} of {r.burst_published} messages published, "
         f"cpu {r.burst_cpu:.2f}s over {r.burst_s:.1f}s, {r.burst_ratio:.1f} q/frame)"
         f"; closes {r.closes} errors {r.handshake_errors} gaps {r.seq_gaps}")
    return result


# --- setup -----------------------------------------------------------------------------------


def session_cookie() -> str:
    """Log the bench user in once with Django's test client; every connection reuses it."""
    from django.conf import settings
    from django.test import Client as DjangoClient

    from apps.accounts.models import User

    user = User.objects.filter(email=BENCH_EMAIL).first() or User.objects.create_user(BENCH_EMAIL)
    client = DjangoClient(HTTP_HOST=HOST)
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- report ----------------------------------------------------------------------------------


def _fmt_ratio(value: float) -> str:
    return f"{value:.1f}×" if value < 10 else f"{value:,.0f}×"


def _yield_note(results: list[Result]) -> str:
    """Which rows ran with clients giving way to the server (see `bench.procs.yield_cpu`)."""
    rows = [r for r in results if r.server.endswith(YIELD)]
    if not rows:
        return ""
    failed = [f"{r.design}/{r.server}/{r.n}" for r in rows if not r.clients_yielded]
    note = (f" In rows whose server ends in `{YIELD}`, the client processes gave way to the "
            "server in the steady phase (autogroup nice 19, `bench.procs.yield_cpu`) and took "
            "their share back for the burst; everywhere else they compete for the cores.")
    if failed:
        note += (f" Could not give way (no Linux autogroups) in: {', '.join(failed)}; those "
                 "rows measured shared cores too.")
    return note


def render(results: list[Result], args: argparse.Namespace, started: datetime,
           elapsed: float) -> str:
    from bench.report import fmt_int, machine_line, package_version

    lines = [
        "## Quote fan-out over WebSockets (`bench/fanout.py`)",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min on {machine_line()}; "
        f"daphne {package_version('daphne')}, uvicorn {package_version('uvicorn')}, "
        f"websockets {package_version('websockets')}, channels {package_version('channels')}, "
        f"channels-redis {package_version('channels-redis')}, redis-py "
        f"{package_version('redis')}. Server, client processes, Redis and the publisher share "
        f"the machine's cores.{_yield_note(results)}",
        "",
        f"Each connection watches {PER_CONNECTION} of {SYMBOLS} NSE symbols. Steady: one batch "
        f"of {SYMBOLS} quotes a second for {STEADY_TICKS} s. Burst: batches back to back for "
        f"{BURST_SECONDS:.0f} s, paced by the server (publishing pauses while a subscriber's "
        f"Redis output buffer exceeds {BACKLOG_BYTES // 2**20} MB). *Deliveries* = quotes "
        "received by clients (each quote in a coalesced frame counts); *CPU* = user+system "
        "seconds of the server process. *Idle* = server RSS growth per idle connection "
        "(after `hello`, before subscribing). *Missing* = (connection, symbol, tick) triples "
        "of the steady phase never received (a coalescing server that falls behind merges "
        "ticks, which is allowed); *last missing* = (connection, symbol) pairs whose last "
        "steady tick never arrived (never allowed; includes sockets the server closed). "
        "*Burst messages read* = quotes published to Redis during the burst (each read once "
        "by the server, whatever its connections) per server CPU-second: a coalescing "
        "server reads every tick but delivers at most 20 frames a second per connection, so "
        "its burst deliveries measure that cap, not the cost. "
        "*p50/p99* = publish → the kernel received the frame at the client's socket "
        "(`SO_TIMESTAMPNS`); *read p50/p99* = publish → the client process read it, which adds "
        "the clients' own queueing on cores they share with the server. "
        "Clients offer no compression.",
        "",
        "| design | server | N | connected | idle KB/conn | steady deliveries / CPU-s "
        "| quotes/frame | p50 ms | p99 ms | read p50 / p99 ms | missing | last missing "
        "| burst deliveries / CPU-s | quotes/frame | burst messages read / CPU-s "
        "| closes / errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        trouble = {**{f"close {k}": v for k, v in r.closes.items()}, **r.handshake_errors}
        if r.seq_gaps:
            trouble["seq gaps"] = r.seq_gaps
        lines.append(
            f"| {r.design} | {r.server} | {fmt_int(r.n)} | {fmt_int(r.connected)} "
            f"| {r.idle_kb:.1f} | {fmt_int(r.steady_rate)} | {r.steady_ratio:.1f} "
            f"| {report.fmt_ms(r.p50_ms)} | {report.fmt_ms(r.p99_ms)} "
            f"| {report.fmt_ms(r.read_p50_ms)} / {report.fmt_ms(r.read_p99_ms)} "
            f"| {fmt_int(r.missing)} "
            f"| {fmt_int(r.last_missing)} "
            f"| {fmt_int(r.burst_rate)} | {r.burst_ratio:.1f} "
            f"| {fmt_int(r.burst_published / r.burst_cpu if r.burst_cpu else 0)} "
            f"| {', '.join(f'{k}: {v}' for k, v in trouble.items()) or 'none'} |"
        )
    lines += ["", "Ratios of our design to the baselines on the same ASGI server "
              "(channels) or to the bare server (bare), deliveries per server CPU-second "
              "(targets: ≥ 10× channels, ≥ 0.8× bare):", "",
              "| N | server | vs channels, steady | vs channels, burst | vs bare, steady "
              "| vs bare, burst |", "|---:|---|---:|---:|---:|---:|"]
    index = {(r.design, r.server, r.n): r for r in results}
    for r in results:
        if r.design != "ours":
            continue
        ch = index.get(("channels", r.server, r.n)) or next(
            (x for x in results if x.design == "channels" and x.n == r.n), None)
        bare = index.get(("bare", "websockets", r.n))

        def ratio(a: float, b: float | None) -> str:
            return _fmt_ratio(a / b) if b else "—"

        lines.append(
            f"| {fmt_int(r.n)} | {r.server} "
            f"| {ratio(r.steady_rate, ch.steady_rate if ch else None)} "
            f"| {ratio(r.burst_rate, ch.burst_rate if ch else None)} "
            f"| {ratio(r.steady_rate, bare.steady_rate if bare else None)} "
            f"| {ratio(r.burst_rate, bare.burst_rate if bare else None)} |"
        )
    return "\n".join(lines)


def render_churn(c: ChurnResult) -> str:
    from bench.report import fmt_int

    rows = ["| cycles | server RSS MB | Redis clients |", "|---:|---:|---:|"]
    rows += [f"| {fmt_int(n)} | {rss / 2**20:.1f} | {clients} |" for n, rss, clients in c.samples]
    growth = c.growth_kb_per_1000()
    return "\n".join([
        f"**Connect/disconnect churn** (`bench/fanout_churn.py`): {fmt_int(c.cycles)} "
        f"connections to our server on {SANSIO}, 50 at a time, each: handshake with the "
        "session cookie, `hello`, subscribe to 20 symbols, snapshot, close — "
        f"{c.seconds:.0f} s, errors: "
        f"{', '.join(f'{k}: {v}' for k, v in c.errors.items()) or 'none'}. Server RSS and "
        f"Redis clients every {fmt_int(SAMPLE_EVERY)} cycles (the first "
        f"{fmt_int(WARM_UP)} include one-time growth):",
        "",
        *rows,
        "",
        f"Growth after warm-up: **{growth:.1f} KB per 1,000 cycles** "
        f"({growth * 1024 / 1000:.0f} bytes per connection that came and went).",
    ])


# --- main ------------------------------------------------------------------------------------


SANSIO = "uvicorn-websockets-sansio"
YIELD = "+yield"  # a server label's suffix: its clients give way to it (`bench.procs.yield_cpu`)
# ~10 minutes. Connecting 5,000 authenticated sockets to our server takes ~75 s (a session and
# user lookup per handshake), so at 5,000 only the recommended server runs; the 2026-11-25 run
# with daphne and uvicorn's legacy `websockets` implementation at both sizes is in
# docs/realtime.md.
PLAN_FULL = [
    (1000, [("ours", "daphne"), ("ours", SANSIO), ("channels", SANSIO), ("bare", "websockets")]),
    (5000, [("ours", SANSIO), ("ours", f"{SANSIO}-x2"), ("ours", f"{SANSIO}-x2{YIELD}"),
            ("channels", SANSIO), ("bare", "websockets")]),
]
PLAN_QUICK = [(200, [("ours", "daphne"), ("ours", SANSIO), ("channels", SANSIO),
                     ("bare", "websockets")])]


async def run_churn(cookie: str, pub: Publisher, log_dir: Path, redis: Any,
                    cycles: int) -> ChurnResult:
    _log(f"[churn] {cycles} connect/subscribe/disconnect cycles, ours on {SANSIO}")
    with running_server("ours", SANSIO, log_dir) as (port, pid):
        result = await churn(
            f"ws://{HOST}:{port}/ws/", {"Cookie": cookie, "Origin": ORIGIN}, pub.labels,
            rss=lambda: rss_bytes(pid), redis_clients=lambda: len(redis.client_list()),
            cycles=cycles,
        )
    _log(f"    {result.cycles} cycles in {result.seconds:.0f}s, errors {dict(result.errors)}, "
         f"RSS {[f'{c}:{r / 2**20:.1f}MB' for c, r, _ in result.samples]}, "
         f"growth {result.growth_kb_per_1000():.1f} KB/1,000 cycles after warm-up")
    return result


async def amain(args: argparse.Namespace) -> tuple[list[Result], ChurnResult | None]:
    import redis as redis_sync
    from asgiref.sync import sync_to_async
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from bench.fanout_channels import LAYER_PREFIX

    cookie = await sync_to_async(session_cookie)()
    pub = await sync_to_async(Publisher)()
    pub.layer = RedisPubSubChannelLayer(hosts=[SERVER_ENV["REDIS_URL"]], prefix=LAYER_PREFIX)
    redis = redis_sync.Redis.from_url(SERVER_ENV["REDIS_URL"])
    plan = PLAN_QUICK if args.quick else PLAN_FULL
    if args.connections:
        every = list(dict.fromkeys(scenario for _, row in plan for scenario in row))
        plan = [(n, every) for n in args.connections]
    if args.only:
        plan = [(n, [s for s in scen if s[0] in args.only]) for n, scen in plan]
    if args.servers:
        plan = [(n, [s for s in scen if s[1] in args.servers]) for n, scen in plan]
    results: list[Result] = []
    log_dir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    _log(f"server logs in {log_dir}")
    for n, scenarios in plan:
        for design, server in scenarios:
            _log(f"[{n} connections] {design} on {server}")
            results.append(await run_scenario(design, server, n, cookie, pub, log_dir, redis))
    churned = None
    if args.churn:
        churned = await run_churn(cookie, pub, log_dir, redis, args.churn)
    await pub.layer.flush()
    return results, churned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 connections, prints only")
    parser.add_argument("--connections", type=int, nargs="*", help="override N (no write)")
    parser.add_argument("--only", nargs="*", help="designs to run (no write)")
    parser.add_argument("--servers", nargs="*", help="servers to run (no write)")
    parser.add_argument("--churn", type=int, default=None,
                        help="connect/disconnect cycles (default 10,000; 1,000 with --quick; "
                             "0 skips)")
    args = parser.parse_args()
    if args.churn is None:
        args.churn = 1_000 if args.quick else 10_000
    os.environ.update(SERVER_ENV)
    import django

    django.setup()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    results, churned = asyncio.run(amain(args))
    body = render(results, args, started, time.monotonic() - t0)
    if churned is not None:
        body += "\n\n" + render_churn(churned)
    print(body)
    experiment = os.environ.get("FANOUT_SERVER_SETTINGS") or os.environ.get("FANOUT_SERVER_CWD")
    if not (args.quick or args.connections or args.only or args.servers or experiment):
        report.write_section(SECTION, body)
        _log(f"wrote the `{SECTION}` section of {report.BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
