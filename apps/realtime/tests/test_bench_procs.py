"""`bench.procs.yield_cpu`: a benchmark's client process gives way to the server it measures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

# Spins on CPU 0 between two moments of the system-wide monotonic clock read from stdin and
# prints the CPU time it got there, after giving way (argv[1] == "yield") or not; a session
# of its own, as the bench starts its processes. Both spinners share one window, so a late
# start of either (a loaded machine) cannot hand the other the core to itself.
SPIN = """
import json, os, sys, time
from bench.procs import yield_cpu
os.sched_setaffinity(0, {0})
yielded = yield_cpu(True) if sys.argv[1] == "yield" else False
with open("/proc/self/autogroup") as group:
    nice = int(group.read().split()[-1])
restored = yield_cpu(False) if sys.argv[1] == "yield" else None
yield_cpu(True) if sys.argv[1] == "yield" else None
print("ready", flush=True)
start, end = map(float, sys.stdin.readline().split())
time.sleep(max(0.0, start - time.monotonic()))
spent = time.thread_time()
while time.monotonic() < end:
    pass
print(json.dumps({"yielded": yielded, "nice": nice, "restored": restored,
                  "cpu": time.thread_time() - spent}), flush=True)
"""


def _autogroups() -> bool:
    path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return path.exists() and path.read_text().strip() == "1"


def test_a_yielding_process_leaves_the_core_to_a_busy_one() -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", SPIN, mode], cwd=settings.BASE_DIR,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
        for mode in ("yield", "busy")
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start = time.monotonic() + 0.5  # both spin on the same core in the same second
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start} {start + 1.0}\n")
        proc.stdin.flush()
    yielding, busy = (json.loads(proc.communicate(timeout=30)[0]) for proc in procs)

    if not _autogroups():  # nothing to change: says so instead of pretending
        assert (yielding["yielded"], yielding["restored"]) == (False, False)
        return
    assert yielding["yielded"] is True
    assert yielding["nice"] == 19
    assert yielding["restored"] is False  # and it could take its share back
    # Autogroup nice 19 weighs 15 against 1,024: the busy process gets nearly all the core,
    # where without it each would get half.
    assert busy["cpu"] > 0.6
    assert yielding["cpu"] < busy["cpu"] / 4
