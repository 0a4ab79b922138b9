"""HTTP load generators: `wrk` when installed, else a small asyncio HTTP/1.1 keep-alive client.

Both run in a separate process from the benchmark driver, are bounded in time *and* in
request count, and refuse any target other than 127.0.0.1.

The Python client is also a command (it prints one JSON line):

    python -m bench.loadgen http://127.0.0.1:8000/healthz --connections 32 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ALLOWED_HOST = "127.0.0.1"
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LoadResult:
    requests: int  # completed responses, any status
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # connect/read/write errors and timeouts
    bad_status: int  # responses outside 2xx

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _check_target(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != ALLOWED_HOST or parts.port is None:
        raise ValueError(f"refusing to load {url!r}: only http://{ALLOWED_HOST}:<port>/ is allowed")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port, path


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


# --- wrk ---------------------------------------------------------------------------------

# Headers go into the script, not onto the command line, so tokens stay out of `ps`.
_WRK_SCRIPT = """
local max_requests = {max_requests}
local count = 0
{headers}

function response(status, headers, body)
  count = count + 1
  if count >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "errors": %d, "bad_status": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def run_wrk(
    url: str,
    *,
    headers: dict[str, str],
    connections: int,
    duration_s: int,
    max_requests: int,
    threads: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LoadResult:
    _check_target(url)
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    per_thread = max(1, math.ceil(max_requests / threads))
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "bench.lua"
        lua_headers = "\n".join(
            f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}"
            for name, value in headers.items()
        )
        script.write_text(_WRK_SCRIPT.format(max_requests=per_thread, headers=lua_headers))
        argv = [
            wrk,
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={duration_s}s",
            f"--timeout={math.ceil(timeout_s)}s",
            f"--script={script}",
            url,
        ]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False
        )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            return LoadResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                errors=data["errors"],
                bad_status=data["bad_status"],
            )
    raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stdout}\n{done.stderr}")


# --- Python client -------------------------------------------------------------------------


@dataclass
class _State:
    deadline: float
    remaining: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    bad_status: int = 0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, server closes the connection)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status_text = head[0].split(" ", 2)[:2]
    status = int(status_text)
    close = version == "HTTP/1.0"
    length: int | None = None
    chunked = False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value
        elif name == "connection":
            close = value == "close"
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:  # body runs to the end of the connection
        await reader.read()
        close = True
    return status, close


async def _connection(
    state: _State, host: str, port: int, request: bytes, timeout_s: float
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while state.remaining > 0 and time.perf_counter() < state.deadline:
            state.remaining -= 1
            try:
                async with asyncio.timeout(timeout_s):
                    if reader is None or writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    writer.write(request)
                    status, close = await _read_response(reader)
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError):
                state.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)
                continue
            state.latencies.append(time.perf_counter() - started)
            if not 200 <= status < 300:
                state.bad_status += 1
            if close:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[rank]


async def _python_load(
    url: str,
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    max_requests: int,
    timeout_s: float,
) -> LoadResult:
    host, port, path = _check_target(url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: stocksense-bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    started = time.perf_counter()
    state = _State(deadline=started + duration_s, remaining=max_requests)
    await asyncio.gather(
        *(_connection(state, host, port, request, timeout_s) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(state.latencies)
    return LoadResult(
        requests=len(ordered),
        seconds=elapsed,
        p50_ms=_percentile(ordered, 50) * 1000,
        p95_ms=_percentile(ordered, 95) * 1000,
        p99_ms=_percentile(ordered, 99) * 1000,
        errors=state.errors,
        bad_status=state.bad_status,
    )


def run_python(
    url: str,
    *,
    headers: dict[str, str],
    connections: int,
    duration_s: int,
    max_requests: int,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LoadResult:
    """Run the Python client in its own process so it does not share the driver's GIL."""
    _check_target(url)
    argv = [
        sys.executable, "-m", "bench.loadgen", url,
        f"--connections={connections}",
        f"--duration={duration_s}",
        f"--max-requests={max_requests}",
        f"--timeout={timeout_s}",
        "--headers-stdin",
    ]
    done = subprocess.run(
        argv,
        input=json.dumps(headers),  # on stdin, not the command line: tokens stay out of `ps`
        capture_output=True,
        text=True,
        timeout=duration_s + timeout_s + 30,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"load generator failed (exit {done.returncode}): {done.stderr}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(**data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help=f"http://{ALLOWED_HOST}:<port>/path")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="per request")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--headers-stdin", action="store_true",
                        help="also read a JSON object of headers from stdin")
    args = parser.parse_args(argv)
    headers = {
        name.strip(): value.strip()
        for name, _, value in (h.partition(":") for h in args.header)
    }
    if args.headers_stdin:
        headers.update(json.load(sys.stdin))
    result = asyncio.run(
        _python_load(
            args.url, headers, args.connections, args.duration, args.max_requests, args.timeout
        )
    )
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    main()
