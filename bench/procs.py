"""Server processes for benchmarks: a free loopback port, and stopping a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    """Stop a server started with `start_new_session=True` and every worker it forked."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
