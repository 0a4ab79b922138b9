"""The staff System page: workers, queues, scheduled jobs, feed and WebSocket processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.core.tasks import clear_expired_sessions
from apps.realtime.stats import ProcessStats, _store, process_stats_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(password: str) -> User:
    return User.objects.create_user("ops@example.in", password, is_staff=True)


def test_only_staff_see_the_system_page(client: Client, user: User, staff: User) -> None:
    assert client.get("/system/").status_code == 302  # anonymous → login
    client.force_login(user)
    assert client.get("/system/").status_code == 302  # investor → admin login
    client.force_login(staff)
    assert client.get("/system/").status_code == 200


def test_the_page_reports_queues_jobs_and_ws_processes(client: Client, staff: User) -> None:
    call_command("install_schedules")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.rpush("notifications", b"{}", b"{}")
    clear_expired_sessions.apply()  # a successful run is recorded by the task_success signal
    stats = ProcessStats()
    stats.name = "ws-1:4242"
    stats.connections = 17
    _store(stats.name, json.dumps(stats.snapshot()))
    try:
        client.force_login(staff)
        page = client.get("/system/")
        overview = page.context["system"]
    finally:
        broker.delete("notifications")
        broker.close()
    assert overview["queues"]["notifications"] == 2
    jobs = {job["task"]: job for job in overview["periodic"]}
    assert jobs["apps.core.tasks.clear_expired_sessions"]["last_success"] is not None
    assert jobs["apps.market.tasks.fetch_quotes"]["last_success"] is None
    assert [p["connections"] for p in overview["ws_processes"]] == [17]
    assert overview["workers"] == []  # no worker runs in this test: shown as a warning
    assert b"No worker answered" in page.content


def test_ws_processes_that_stop_reporting_disappear(settings: Any) -> None:
    from django.core.cache import cache

    _store("ws-9:1", '{"process": "ws-9:1", "connections": 1}')
    cache.delete("realtime:process:ws-9:1")  # as when its heartbeat expires
    assert process_stats_list() == []
