"""Which server should run the `web` process: gunicorn (WSGI) or an ASGI server?

Starts gunicorn (sync and gthread workers), daphne and uvicorn one after the other on free
ports on 127.0.0.1, loads a DRF view (`GET /api/v1/me/`, API-token authenticated) and a plain
Django view (`GET /healthz`) on each, and writes a table to docs/benchmarks.md between
`<!-- http_servers:start -->` and `<!-- http_servers:end -->`.

    .venv/bin/python -m bench.http_servers            # ~2.5 minutes, rewrites the section
    .venv/bin/python -m bench.http_servers --quick    # smoke test, prints only

Needs the embedded PostgreSQL/Redis (or DATABASE_URL/REDIS_URL) and a migrated database.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.loadgen import LoadResult, run_python, run_wrk, wrk_available
from bench.procs import free_port, stop_group
from config.env import BASE_DIR

SECTION = "http_servers"
HOST = "127.0.0.1"
BENCH_EMAIL = "bench-http@stocksense.invalid"
READY_TIMEOUT_S = 60.0
IN_PROCESS_REQUESTS = 300
STOP_TIMEOUT_S = 5.0  # graceful stop is not what we measure
WORKERS = 2  # one per core on the reference machine

# Production-like: DEBUG off, no throttling in the way, quiet logs. `production` settings
# themselves insist on a 50-character SECRET_KEY and an HTTPS redirect, so use `local`.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "API_THROTTLE_USER": "100000000/minute",
    "API_THROTTLE_ANON": "100000000/minute",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class Server:
    key: str
    name: str
    interface: str  # WSGI or ASGI
    processes: str  # how it uses the cores, for the table
    package: str
    argv: Callable[[int], list[str]]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def conn_max_age(self) -> str:
        return self.env.get("DB_CONN_MAX_AGE", "60 (default)")


@dataclass(frozen=True)
class Endpoint:
    path: str
    title: str
    authenticated: bool


@dataclass
class Measurement:
    server: Server
    endpoint: Endpoint
    runs: list[LoadResult] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return report.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return report.median(r.p50_ms for r in self.runs)

    @property
    def p95_ms(self) -> float:
        return report.median(r.p95_ms for r in self.runs)

    @property
    def failures(self) -> int:
        return sum(r.errors + r.bad_status for r in self.runs)


def _python_m(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def _gunicorn(worker_class: str, threads: int) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return _python_m(
            "gunicorn", "config.wsgi:application",
            f"--bind={HOST}:{port}",
            f"--workers={WORKERS}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--no-control-socket",
            "--log-level=warning",
        )

    return argv


# Under ASGI every request runs its sync code in a fresh thread, and Django's connections are
# per thread: with persistent connections (DB_CONN_MAX_AGE=60) each request opens one more
# PostgreSQL connection that nobody reuses, until PostgreSQL refuses clients. Django's advice
# for ASGI is CONN_MAX_AGE=0 (or a pool), so the ASGI servers run the way they must be deployed.
ASGI_ENV = {"DB_CONN_MAX_AGE": "0"}

SERVERS = [
    Server("gunicorn-sync", "gunicorn, sync workers", "WSGI", f"{WORKERS} workers",
           "gunicorn", _gunicorn("sync", 1)),
    Server("gunicorn-gthread", "gunicorn, gthread workers", "WSGI",
           f"{WORKERS} workers × 4 threads", "gunicorn", _gunicorn("gthread", 4)),
    Server("daphne", "daphne", "ASGI", "1 process (no worker option)", "daphne",
           lambda port: _python_m("daphne", "-b", HOST, "-p", str(port), "-v", "0",
                                  "config.asgi:application"), ASGI_ENV),
    Server("uvicorn", "uvicorn", "ASGI", f"{WORKERS} workers", "uvicorn",
           lambda port: _python_m("uvicorn", "config.asgi:application", "--host", HOST,
                                  "--port", str(port), f"--workers={WORKERS}",
                                  "--no-access-log", "--log-level=warning", "--lifespan=off"),
           ASGI_ENV),
]
BASELINE = "gunicorn-sync"

ENDPOINTS = [
    Endpoint("/api/v1/me/", "DRF view: `GET /api/v1/me/` with an API token", True),
    Endpoint("/healthz", "Plain Django view: `GET /healthz`", False),
]


@dataclass(frozen=True)
class Options:
    duration_s: int
    warmup_s: int
    reps: int
    connections: int
    max_requests: int
    client: str  # wrk or python
    servers: list[Server]
    write: bool
    output: Path


# --- the bench user and token ------------------------------------------------------------


@contextlib.contextmanager
def bench_token() -> Iterator[str]:
    """A fresh API token for a dedicated bench user, revoked afterwards."""
    os.environ.update(SERVER_ENV)  # the same database and settings as the servers
    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from apps.accounts import services
    from apps.accounts.models import User

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("Unapplied migrations: run `.venv/bin/python manage.py migrate` first.")
    user = User.objects.filter(email=BENCH_EMAIL).first() or User.objects.create_user(BENCH_EMAIL)
    token, raw = services.api_token_create(user=user, name="bench")
    connection.close()
    try:
        yield raw
    finally:
        token.refresh_from_db()
        services.api_token_revoke(token=token, by=user)
        connection.close()


def in_process_ms(token: str, requests: int = IN_PROCESS_REQUESTS) -> dict[str, float]:
    """Milliseconds per request with no server at all: Django's test client, one thread.

    The same middleware, view, PostgreSQL and Redis work as behind a server, so this is the
    application's own cost and bounds what any server can reach per core.
    """
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    costs: dict[str, float] = {}
    for endpoint in ENDPOINTS:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if endpoint.authenticated else {}
        for _ in range(requests // 5):  # warm-up
            client.get(endpoint.path, **extra)  # type: ignore[arg-type]
        started = time.perf_counter()
        for _ in range(requests):
            response = client.get(endpoint.path, **extra)  # type: ignore[arg-type]
            if response.status_code != 200:
                raise RuntimeError(f"{endpoint.path} answered {response.status_code} in-process")
        costs[endpoint.path] = (time.perf_counter() - started) / requests * 1000
    from django.db import connection

    connection.close()
    return costs


# --- server processes ----------------------------------------------------------------------


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _log_tail(log_path: Path, lines: int = 30) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_log_tail(log_path)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if http_get(port, "/healthz")[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after {READY_TIMEOUT_S:.0f}s:\n{_log_tail(log_path)}")


@contextlib.contextmanager
def running(server: Server, log_dir: Path) -> Iterator[int]:
    port = free_port()
    log_path = log_dir / f"{server.key}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            server.argv(port),
            cwd=BASE_DIR,
            env=os.environ | SERVER_ENV | server.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.monotonic()
        try:
            _wait_ready(proc, port, log_path)
            print(f"  {server.key} ready in {time.monotonic() - started:.1f}s on port {port}",
                  file=sys.stderr, flush=True)
            yield port
        finally:
            stopping = time.monotonic()
            stop_group(proc, STOP_TIMEOUT_S)
            print(f"  {server.key} stopped in {time.monotonic() - stopping:.1f}s",
                  file=sys.stderr, flush=True)


# --- measuring -----------------------------------------------------------------------------


def _load(opts: Options, url: str, headers: dict[str, str], duration_s: int) -> LoadResult:
    runner = run_wrk if opts.client == "wrk" else run_python
    return runner(
        url,
        headers=headers,
        connections=opts.connections,
        duration_s=duration_s,
        max_requests=opts.max_requests,
    )


def _check_endpoint(port: int, endpoint: Endpoint, headers: dict[str, str]) -> None:
    status, body = http_get(port, endpoint.path, headers)
    if status != 200:
        raise RuntimeError(f"{endpoint.path} answered {status}: {body[:300]!r}")
    if endpoint.authenticated and json.loads(body).get("email") != BENCH_EMAIL:
        raise RuntimeError(f"{endpoint.path} did not return the bench user: {body[:300]!r}")


def measure(opts: Options, token: str, log_dir: Path) -> list[Measurement]:
    results: list[Measurement] = []
    started = time.monotonic()
    for server in opts.servers:
        with running(server, log_dir) as port:
            for endpoint in ENDPOINTS:
                headers = {"Authorization": f"Bearer {token}"} if endpoint.authenticated else {}
                _check_endpoint(port, endpoint, headers)
                url = f"http://{HOST}:{port}{endpoint.path}"
                if opts.warmup_s:
                    _load(opts, url, headers, opts.warmup_s)
                measurement = Measurement(server, endpoint)
                for _ in range(opts.reps):
                    measurement.runs.append(_load(opts, url, headers, opts.duration_s))
                results.append(measurement)
                runs = " / ".join(report.fmt_int(r.rps) for r in measurement.runs)
                print(
                    f"[{time.monotonic() - started:5.0f}s] {server.key:17} {endpoint.path:13} "
                    f"{report.fmt_int(measurement.rps):>7} req/s ({runs}), "
                    f"p50 {report.fmt_ms(measurement.p50_ms)} ms, "
                    f"p95 {report.fmt_ms(measurement.p95_ms)} ms, failures {measurement.failures}",
                    file=sys.stderr,
                    flush=True,
                )
    return results


# --- the report ----------------------------------------------------------------------------


def _find(results: list[Measurement], server: str, path: str) -> Measurement | None:
    for m in results:
        if m.server.key == server and m.endpoint.path == path:
            return m
    return None


def _table(results: list[Measurement], endpoint: Endpoint) -> list[str]:
    baseline = _find(results, BASELINE, endpoint.path)
    lines = [
        f"**{endpoint.title}**",
        "",
        "| Server | Interface | Processes | DB_CONN_MAX_AGE | req/s (median) | Runs, req/s "
        "| p50 ms | p95 ms | vs gunicorn sync |",
        "|---|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for m in (m for m in results if m.endpoint is endpoint):
        ratio = f"{m.rps / baseline.rps:.2f}×" if baseline and baseline.rps else "n/a"
        runs = " / ".join(report.fmt_int(r.rps) for r in m.runs)
        lines.append(
            f"| {m.server.name} | {m.server.interface} | {m.server.processes} "
            f"| {m.server.conn_max_age} | **{report.fmt_int(m.rps)}** | {runs} "
            f"| {report.fmt_ms(m.p50_ms)} | {report.fmt_ms(m.p95_ms)} | {ratio} |"
        )
    return lines


def _conclusion(results: list[Measurement]) -> list[str]:
    api, plain = ENDPOINTS[0].path, ENDPOINTS[1].path
    wsgi = [m for m in results if m.endpoint.path == api and m.server.interface == "WSGI"]
    asgi = [m for m in results if m.endpoint.path == api and m.server.interface == "ASGI"]
    if not wsgi or not asgi:
        return ["_Not every kind of server ran, so this run draws no conclusion._"]
    best_wsgi = max(wsgi, key=lambda m: m.rps)
    best_asgi = max(asgi, key=lambda m: m.rps)
    if best_wsgi.rps < 1.2 * best_asgi.rps:
        return [
            f"**Conclusion.** In this run the best WSGI setup ({best_wsgi.server.name}, "
            f"{report.fmt_int(best_wsgi.rps)} req/s on the DRF view) is not clearly ahead of "
            f"the best ASGI server ({best_asgi.server.name}, {report.fmt_int(best_asgi.rps)} "
            "req/s). Serving HTTP from gunicorn should be revisited; re-run on a quiet machine "
            "first."
        ]
    against = ", ".join(
        f"{best_wsgi.rps / m.rps:.1f}× {m.server.name} (p95 {report.fmt_ms(m.p95_ms)} ms "
        f"against {report.fmt_ms(best_wsgi.p95_ms)} ms)"
        for m in asgi
    )
    plain_ratios = [
        w.rps / a.rps
        for w in results if w.endpoint.path == plain and w.server is best_wsgi.server
        for a in results if a.endpoint.path == plain and a.server.interface == "ASGI" and a.rps
    ]
    low, high = (min(plain_ratios), max(plain_ratios)) if plain_ratios else (0.0, 0.0)
    span = f"{low:.1f}×" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}×"
    plain_text = (
        f"; even `/healthz`, which touches neither PostgreSQL nor Redis, is {span} slower "
        "under ASGI" if plain_ratios else ""
    )
    return [
        f"**Conclusion.** The `web` process (pages and the REST API) runs **gunicorn with "
        f"`config.wsgi:application`** ({best_wsgi.server.name}): on the DRF view it served "
        f"{report.fmt_int(best_wsgi.rps)} req/s, {against}.",
        "",
        "Why: every view and middleware in this project is synchronous (DRF, the ORM, "
        "allauth). Django's ASGI handler runs each request inside its own asgiref "
        "`ThreadSensitiveContext`, which gets a new single-thread executor, so every request "
        "crosses from the event loop to a fresh thread and back, on top of the ASGI server's "
        "own pure-Python HTTP handling" + plain_text + ". Django's "
        "database connections belong to a thread, so under ASGI a persistent connection is "
        "never reused: with the default `DB_CONN_MAX_AGE=60`, idle PostgreSQL connections "
        "piled up under load until PostgreSQL refused clients (`too many clients already`), "
        "and with `DB_CONN_MAX_AGE=0` (as measured here) each request opens a new "
        "connection. Under WSGI the worker calls the view directly and keeps its connection.",
        "",
        *_worker_class_note(results),
        "The ASGI server (daphne, `config.asgi:application`) is therefore the `ws` process "
        "and gets only `/ws/` (WebSocket) traffic from the proxy; it still answers HTTP, but "
        "nothing routes HTTP to it. Run it with `DB_CONN_MAX_AGE=0`. Scale HTTP with gunicorn "
        "workers and `web` instances, WebSockets with `ws` instances (see docs/deploy.md).",
    ]


def _worker_class_note(results: list[Measurement]) -> list[str]:
    ratios: list[tuple[str, float]] = []
    for endpoint in ENDPOINTS:
        sync = _find(results, "gunicorn-sync", endpoint.path)
        threaded = _find(results, "gunicorn-gthread", endpoint.path)
        if sync and threaded and sync.rps:
            ratios.append((endpoint.path, threaded.rps / sync.rps))
    if not ratios:
        return []
    measured = " and ".join(
        f"{ratio:.2f}× {'the throughput ' if i == 0 else ''}on `{path}`"
        for i, (path, ratio) in enumerate(ratios)
    )
    lowest, highest = min(r for _, r in ratios), max(r for _, r in ratios)
    if highest < 0.9:
        verdict = "slower, so `web` keeps gunicorn's default sync workers."
    elif lowest > 1.25:
        verdict = "worth trying `--worker-class gthread` for `web` on production hardware."
    else:
        verdict = (
            "mixed or within this machine's run-to-run noise, so `web` keeps gunicorn's "
            "default sync workers, the simpler model."
        )
    return [
        "Compared with sync workers, gthread workers (4 threads each) served "
        f"{measured}: {verdict}",
        "",
    ]


def render(
    results: list[Measurement], costs: dict[str, float], opts: Options, elapsed_s: float
) -> str:
    wrk_version = report.command_version(["wrk", "--version"]).split(" [")[0]
    client = (
        f"{wrk_version}, 1 thread"
        if opts.client == "wrk"
        else "`bench.loadgen` (asyncio HTTP/1.1 keep-alive client in its own process; it "
        "needs CPU itself, so it understates the fastest servers more than wrk does)"
    )
    versions = ", ".join(
        f"{name} {report.package_version(pkg)}"
        for name, pkg in (
            ("Django", "django"), ("DRF", "djangorestframework"), ("gunicorn", "gunicorn"),
            ("daphne", "daphne"), ("Twisted", "twisted"), ("uvicorn", "uvicorn"),
            ("asgiref", "asgiref"), ("psycopg", "psycopg"),
        )
    )
    baseline = "; ".join(
        f"`{e.path}` {costs[e.path]:.2f} ms (≤ {report.fmt_int(1000 / costs[e.path])} "
        "req/s per core)"
        for e in ENDPOINTS if e.path in costs
    )
    failures = sum(m.failures for m in results)
    lines = [
        "## HTTP servers: gunicorn (WSGI) vs daphne and uvicorn (ASGI)",
        "",
        f"_Written by `python -m bench.http_servers` on {datetime.now(UTC):%Y-%m-%d %H:%M} "
        f"UTC in {elapsed_s:.0f} s. Re-run it rather than editing this section._",
        "",
        f"- **Machine:** {report.machine_line()}. Servers, load generator, PostgreSQL and "
        "Redis share these cores.",
        f"- **Versions:** {versions}.",
        f"- **Load:** {client}; {opts.connections} concurrent keep-alive connections to "
        f"127.0.0.1; {opts.warmup_s} s warm-up, then {opts.reps} run{'s' * (opts.reps != 1)} × "
        f"{opts.duration_s} s "
        f"per server and endpoint, each capped at {report.fmt_int(opts.max_requests)} "
        "requests. Tables show the median of the runs; ratios compare with gunicorn sync "
        "workers in the same run. gunicorn's sync worker closes the connection after each "
        "response (it does behind nginx too).",
        "- **Conditions:** `config.settings.local` with `DEBUG=false`, the full middleware "
        "stack, DRF throttling on with limits too high to trigger (its Redis round trips "
        "still happen). The DRF view looks up the API token (one PostgreSQL query), checks "
        "for MFA (one more) and serializes the user. ASGI servers run with "
        "`DB_CONN_MAX_AGE=0`; see the conclusion. uvicorn with 2 workers is the like-for-like "
        "comparison with gunicorn; daphne has no worker option and uses one process (one "
        "core), as each `ws` instance does in production.",
        f"- **Application cost without a server** (Django test client, one thread, "
        f"{IN_PROCESS_REQUESTS} requests): {baseline}.",
        "- **Errors:** "
        + ("none: every response was a 2xx." if failures == 0
           else f"{failures} socket errors, timeouts or non-2xx responses."),
        "",
    ]
    for endpoint in ENDPOINTS:
        lines += [*_table(results, endpoint), ""]
    lines += _conclusion(results)
    return "\n".join(lines)


# --- command line --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http_servers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per run [5]")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up [2]")
    parser.add_argument("--reps", type=int, default=3, help="runs per server and endpoint [3]")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per run")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk if installed, else the Python client [auto]")
    parser.add_argument("--servers", default=",".join(s.key for s in SERVERS),
                        help="comma-separated subset of: " + ", ".join(s.key for s in SERVERS))
    parser.add_argument("--output", type=Path, default=report.BENCHMARKS_MD)
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 run × 2 s, no warm-up, implies --no-write")
    args = parser.parse_args(argv)

    by_key = {s.key: s for s in SERVERS}
    wanted = [k.strip() for k in args.servers.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    client = args.client
    if client == "auto":
        client = "wrk" if wrk_available() else "python"
    elif client == "wrk" and not wrk_available():
        parser.error("wrk is not installed (apt-get install wrk), use --client python")
    if args.quick:
        args.duration, args.warmup, args.reps, args.no_write = 2, 0, 1, True
    if min(args.duration, args.reps, args.connections, args.max_requests) < 1 or args.warmup < 0:
        parser.error("durations, runs, connections and the cap must be positive")
    return Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        reps=args.reps,
        connections=args.connections,
        max_requests=args.max_requests,
        client=client,
        servers=[by_key[k] for k in wanted],
        write=not args.no_write,
        output=args.output,
    )


def main(argv: list[str] | None = None) -> None:
    opts = parse_args(argv)
    per_server = len(ENDPOINTS) * (opts.warmup_s + opts.reps * opts.duration_s)
    print(
        f"Benchmarking {', '.join(s.key for s in opts.servers)} with {opts.client}; "
        f"about {len(opts.servers) * (per_server + 5)} s.",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp, bench_token() as token:
        costs = in_process_ms(token)
        results = measure(opts, token, Path(tmp))
    section = render(results, costs, opts, time.monotonic() - started)
    if opts.write:
        report.write_section(SECTION, section, opts.output)
        print(f"Wrote the `{SECTION}` section of {opts.output}.", file=sys.stderr)
    else:
        print(section)


if __name__ == "__main__":
    main()
