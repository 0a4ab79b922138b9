from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.core.schedules import SCHEDULES

MANAGED_PREFIX = "[stocksense] "


class Command(BaseCommand):
    help = "Install the periodic tasks declared in apps/core/schedules.py into celery beat."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        wanted = set()
        for schedule in SCHEDULES:
            name = MANAGED_PREFIX + schedule.name
            wanted.add(name)
            defaults: dict[str, Any] = {
                "task": schedule.task,
                "queue": schedule.queue,
                "kwargs": json.dumps(schedule.kwargs),
                "enabled": True,
                "expire_seconds": schedule.expire_seconds,
                "crontab": None,
                "interval": None,
            }
            if schedule.crontab is not None:
                minute, hour, day_of_week = schedule.crontab
                defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=minute, hour=hour, day_of_week=day_of_week,
                    day_of_month="*", month_of_year="*", timezone="Asia/Kolkata",
                )
            elif schedule.every_seconds is not None:
                defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=schedule.every_seconds, period=IntervalSchedule.SECONDS
                )
            PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        # Schedules removed from the code are removed from beat too; hand-made ones stay.
        stale = PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).exclude(
            name__in=wanted
        )
        removed = stale.count()
        stale.delete()
        self.stdout.write(f"Installed {len(wanted)} periodic task(s), removed {removed}.")
