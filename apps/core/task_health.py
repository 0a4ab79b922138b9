"""When did each Celery task last succeed? Recorded by a Celery signal, read by /system/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery.signals import task_success
from django.core.cache import cache

_KEY = "celery:last-success:{}"


def _on_success(sender: Any = None, **kwargs: Any) -> None:
    name = getattr(sender, "name", None)
    if name:
        cache.set(_KEY.format(name), datetime.now(UTC).isoformat(), timeout=None)


def task_last_success(names: list[str]) -> dict[str, str | None]:
    found = cache.get_many([_KEY.format(name) for name in names])
    return {name: found.get(_KEY.format(name)) for name in names}


def connect() -> None:
    task_success.connect(_on_success, dispatch_uid="core.task_health", weak=False)
