from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection

from apps.core.http import HttpError
from apps.core.mail.backends import message_from_dict


@shared_task(
    bind=True,
    name="apps.core.tasks.send_email",
    max_retries=5,
    acks_late=True,
)
def send_email(self: Any, data: dict[str, Any]) -> int:
    """Deliver one queued e-mail; transient provider errors retry with back-off."""
    message = message_from_dict(data)
    connection = get_connection(settings.EMAIL_DELIVERY_BACKEND)
    try:
        return connection.send_messages([message]) or 0
    except HttpError as exc:
        if exc.permanent:
            raise
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc


@shared_task(name="apps.core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete expired sessions from the database (the cache copies expire on their own)."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
