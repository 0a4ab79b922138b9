"""The health of the background machinery, for the staff System page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from apps.core.task_health import task_last_success
from apps.market.feed import feed_status
from apps.realtime.stats import process_stats_list
from config.celery import app as celery_app

QUEUES = ("default", "notifications", "analytics")


def celery_workers(timeout: float = 1.0) -> list[dict[str, Any]]:
    """Workers that answered a ping within `timeout` seconds."""
    try:
        replies = celery_app.control.ping(timeout=timeout) or []
    except Exception as exc:  # the broker itself is down: say so on the page
        return [{"name": "—", "ok": False, "error": str(exc)[:200]}]
    return [
        {"name": name, "ok": reply.get("ok") == "pong"}
        for answer in replies
        for name, reply in answer.items()
    ]


def queue_lengths() -> dict[str, int | None]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1)
    try:
        return {queue: int(client.llen(queue)) for queue in QUEUES}
    except redis.RedisError:
        return dict.fromkeys(QUEUES)
    finally:
        client.close()


def periodic_tasks() -> list[dict[str, Any]]:
    tasks = list(PeriodicTask.objects.exclude(task="celery.backend_cleanup").order_by("name"))
    last_ok = task_last_success([t.task for t in tasks])
    rows = []
    for t in tasks:
        stamp = last_ok[t.task]
        rows.append(
            {
                "name": t.name,
                "task": t.task,
                "enabled": t.enabled,
                "last_sent": t.last_run_at,
                "last_success": datetime.fromisoformat(stamp) if stamp else None,
            }
        )
    return rows


def system_overview() -> dict[str, Any]:
    feed = feed_status()
    as_of = feed.get("as_of")
    latency = None
    if as_of:
        latency = (datetime.now(UTC) - datetime.fromisoformat(as_of)).total_seconds()
    return {
        "workers": celery_workers(),
        "queues": queue_lengths(),
        "periodic": periodic_tasks(),
        "feed": feed,
        "feed_age_seconds": latency,
        "ws_processes": process_stats_list(),
    }
