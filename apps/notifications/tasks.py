"""Celery entry points: they take ids and call the services (routed to `notifications`)."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task

from apps.core.http import HttpError
from apps.notifications import delivery, digest
from apps.notifications.models import Destination
from apps.notifications.transports import TransportError


@shared_task(name="apps.notifications.tasks.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str | None:
    """Send one delivery if it is still pending and due (a duplicate message is a no-op)."""
    return delivery.delivery_process(
        delivery_id=delivery_id, worker=f"{socket.gethostname()}:{deliver.request.id or ''}"
    )


@shared_task(name="apps.notifications.tasks.deliver_many", acks_late=True, ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> int:
    """Several deliveries queued in one message (`services.enqueue`); returns how many were
    sent here. Safe to run twice: every delivery is claimed on its own."""
    return delivery.deliveries_dispatch(
        delivery_ids=delivery_ids,
        worker=f"{socket.gethostname()}:{deliver_many.request.id or ''}",
    )


@shared_task(name="apps.notifications.tasks.requeue_deliveries", ignore_result=True)
def requeue_deliveries() -> int:
    return delivery.deliveries_requeue()


@shared_task(name="apps.notifications.tasks.send_digests", ignore_result=True)
def send_digests() -> int:
    return digest.digests_send_due()


@shared_task(
    bind=True, name="apps.notifications.tasks.send_verification_code", max_retries=3,
    ignore_result=True,
)
def send_verification_code(self: Any, destination_id: int) -> None:
    from apps.notifications.verification import code_send

    found = Destination.objects.select_related("user").filter(pk=destination_id).first()
    if found is None or found.is_verified:
        return
    try:
        code_send(destination=found)
    except (TransportError, HttpError) as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
