"""Processes for benchmarks: a free loopback port, stopping a process group, client
processes that report JSON lines, and a load generator giving way to the server it measures."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


AUTOGROUP = "/proc/self/autogroup"
AUTOGROUP_SYSCTL = "/proc/sys/kernel/sched_autogroup_enabled"
YIELD_NICE = 19


def yield_cpu(on: bool) -> bool:
    """Make this process give way to every other process on the machine (`on`), or take
    its fair share again; returns whether that is in effect.

    A benchmark's clients share the cores with the server it measures. Linux schedules each
    session (`start_new_session`, as the bench starts servers and clients) as an autogroup,
    and shares the CPU equally between autogroups, whatever the nice value of a process
    inside: while a server flushes a batch, a client process woken to read got as much of
    the core as the server (docs/realtime.md, "Sixth round"). The autogroup's own nice value
    decides that share; an unprivileged process may raise it and lower it back to 0 (only
    below 0 needs privilege), at most once per 100 ms. Without autogroups (the sysctl
    `kernel.sched_autogroup_enabled` off, or no /proc) nothing changes and this returns
    False.
    """
    try:
        with open(AUTOGROUP_SYSCTL) as sysctl:
            if sysctl.read().strip() != "1":
                return False
    except OSError:
        return False
    for _ in range(20):
        try:
            with open(AUTOGROUP, "w") as group:
                group.write(str(YIELD_NICE if on else 0))
            break
        except BlockingIOError:  # EAGAIN: changed less than 100 ms ago
            time.sleep(0.11)
        except OSError:
            return False
    try:
        with open(AUTOGROUP) as group:  # e.g. "/autogroup-85 nice 19"
            return int(group.read().split()[-1]) == YIELD_NICE
    except (OSError, ValueError):
        return False


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


class JsonLinesProcess:
    """A client process in its own session that reads commands on stdin ("stop", ...) and
    prints JSON lines: the latest report is `latest`, `{"event": "final"}` lines queue up in
    `finals`."""

    def __init__(self, argv: list[str], cwd: Any) -> None:
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        self.latest: dict[str, Any] = {}
        self.finals: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if data.get("event") == "final":
                    self.finals.put(data)
                else:
                    self.latest = data

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send("stop")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
