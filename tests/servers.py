"""Real ASGI server processes for tests that need one (browser tests, slow-client tests).

The server runs `config.asgi:application` under uvicorn with the `websockets-sansio`
protocol, as the `ws` process of the Procfile does, against the test database and the test
Redis database, with this process's channel prefix, so it sees what the test writes and hears
what it publishes. The test must use a transactional database (its writes must be committed
to be visible to another process).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """The URL of the test database this process uses."""
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclasses.dataclass
class RunningServer:
    port: int
    log: Path

    @property
    def ws_url(self) -> str:
        return f"ws://localhost:{self.port}/ws/"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def asgi_server(settings: Any, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "TEST_REDIS_DB": settings.REDIS_URL.rsplit("/", 1)[-1],
        "REALTIME_CHANNEL_PREFIX": settings.REALTIME_CHANNEL_PREFIX,
        "DB_CONN_MAX_AGE": "0",
        **(env or {}),
    }
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in this process only
    log = Path(tempfile.gettempdir()) / f"asgi_server_{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--ws", "websockets-sansio", "--lifespan", "off"],
            env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = RunningServer(port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the ASGI server exited: {server.log_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the ASGI server did not start: {server.log_text()[-2000:]}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.unlink(missing_ok=True)
