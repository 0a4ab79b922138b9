"""Shared by benchmarks: machine facts and writing one marked section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from config.env import BASE_DIR

BENCHMARKS_MD = BASE_DIR / "docs" / "benchmarks.md"

_HEADER = """# Benchmarks

Measured numbers behind architecture decisions. Every benchmark under `bench/` owns one
section below, delimited by `<!-- name:start -->` / `<!-- name:end -->` markers, and rewrites
only that section when it runs; text outside the markers is kept. Re-run a benchmark rather
than editing its section by hand.
"""


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the `name` section of `path` with `body` (appended if the section is new)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def command_version(argv: Sequence[str]) -> str:
    """First output line of e.g. `wrk --version` (which exits non-zero)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def machine_line() -> str:
    return (
        f"{usable_cores()} cores ({cpu_model()}), {memory_gib()} RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"
