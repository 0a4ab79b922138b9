"""Every periodic task, declared in one reviewable place.

`python manage.py install_schedules` (run by the `release` process and `make run`)
writes these into django-celery-beat's database scheduler. Later issues append here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    # Either a crontab (minute, hour, day_of_week) in Asia/Kolkata or an interval in seconds.
    crontab: tuple[str, str, str] | None = None
    every_seconds: int | None = None
    queue: str = "default"
    kwargs: dict[str, object] = field(default_factory=dict)


SCHEDULES: list[Schedule] = [
    Schedule(
        name="Purge expired sessions",
        task="apps.core.tasks.clear_expired_sessions",
        crontab=("30", "3", "*"),
    ),
]
