"""The Celery app: autodiscovered tasks, three queues, the database beat scheduler."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("stocksense")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.task_queues = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("default", "notifications", "analytics")
)
# Routes by module: delivery work never waits behind slow analytics jobs.
app.conf.task_routes = {
    "apps.notifications.*": {"queue": "notifications"},
    "apps.alerts.*": {"queue": "notifications"},
    "apps.core.tasks.send_email": {"queue": "notifications"},
    "apps.analytics.*": {"queue": "analytics"},
    "apps.signals.*": {"queue": "analytics"},
    "apps.sentiment.*": {"queue": "analytics"},
}
app.autodiscover_tasks()
