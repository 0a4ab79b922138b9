"""Real Celery worker processes for tests (solo pool, real Redis broker, the test database)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(log: Path, name: str, env: dict[str, str] | None = None
                  ) -> Iterator[subprocess.Popen[bytes]]:
    """A worker on every queue, ready when this yields; stopped (or already killed) after."""
    from tests.servers import database_url

    full_env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        **(env or {}),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "-Q", "default,notifications,analytics", "--pool", "solo",
                "-n", f"{name}-{os.getpid()}@%h", "--without-heartbeat",
                "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            ],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
