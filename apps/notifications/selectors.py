"""Reads for notifications. Each returns only the given user's rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Destination,
    Notification,
    Preferences,
)


def notification_list(
    *, user: User, read: bool | None = None, priority: str | None = None,
    source: str | None = None,
) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if read is not None:
        qs = qs.filter(read_at__isnull=not read)
    if priority:
        qs = qs.filter(priority=priority)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-created", "-id")


def notification_get(*, user: User, notification_id: int) -> Notification | None:
    return Notification.objects.filter(user=user, pk=notification_id).first()


def unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notification_data(notification: Notification) -> dict[str, Any]:
    """The Notification object of docs/websocket.md and `GET /api/v1/notifications/`."""
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "priority": notification.priority,
        "source": notification.source,
        "data": notification.data,
        "created": timezone.localtime(notification.created).isoformat(),
        "read_at": (
            timezone.localtime(notification.read_at).isoformat() if notification.read_at else None
        ),
    }


def destination_list(*, user: User) -> QuerySet[Destination]:
    return Destination.objects.filter(user=user).order_by("created", "id")


def destination_get(*, user: User, destination_id: int) -> Destination | None:
    return Destination.objects.filter(user=user, pk=destination_id).first()


def delivery_list(*, notification: Notification) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(notification=notification)
        .select_related("destination")
        .prefetch_related(Prefetch("attempt_log", DeliveryAttempt.objects.order_by("at", "id")))
        .order_by("id")
    )


def preferences_get(*, user: User) -> Preferences:
    prefs, _ = Preferences.objects.get_or_create(user=user)
    return prefs
