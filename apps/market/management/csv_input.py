"""Reading a user's CSV file in a management command: one place for the error messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from django.core.management.base import CommandError

from apps.market.services import CsvRowError

T = TypeVar("T")
MAX_ERRORS_SHOWN = 20


def csv_parse_or_fail(path: Path, parse: Callable[[TextIO], T]) -> T:
    """`parse(open file)`, or a CommandError naming the file and each bad line (up to 20)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return parse(handle)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text: {exc}.") from exc
    except CsvRowError as exc:
        shown = [f"  line {line}: {problem}" for line, problem in exc.errors[:MAX_ERRORS_SHOWN]]
        if len(exc.errors) > MAX_ERRORS_SHOWN:
            shown.append(f"  ... and {len(exc.errors) - MAX_ERRORS_SHOWN} more.")
        raise CommandError(
            f"{len(exc.errors)} invalid line(s) in {path}; nothing was imported:\n"
            + "\n".join(shown)
        ) from exc
