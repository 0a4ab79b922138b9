"""The delivery worker: claim a due delivery atomically, send it, record the attempt.

A claim is one UPDATE … WHERE status = 'pending', so two workers (or a task queued twice)
can never both send the same row. A worker killed mid-send leaves the row `sending`;
`deliveries_requeue` hands it out again after the lease (so a provider may see it at most
once more per kill).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from apps.notifications.models import (
    AttemptStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    DestinationKind,
)
from apps.notifications.transports import TRANSPORTS, TransportError, transport_for

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the `attempts`-th failure: base, 2×, 4×, … capped at an hour."""
    return timedelta(seconds=min(3600, settings.NOTIFICATIONS_RETRY_BASE * 2 ** (attempts - 1)))


def delivery_claim(*, delivery_id: int, worker: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, claimed_by=worker[:200]) == 1


def delivery_process(*, delivery_id: int, worker: str = "") -> str | None:
    """Claim and send one delivery; returns its new status, or None if not claimed."""
    if not delivery_claim(delivery_id=delivery_id, worker=worker):
        return None
    delivery = Delivery.objects.select_related(
        "notification", "destination", "destination__user"
    ).get(pk=delivery_id)
    destination = delivery.destination
    if not delivery.is_test and (destination.disabled or not destination.is_verified):
        _finish(delivery, DeliveryStatus.FAILED, error=_("The destination is turned off."))
        return DeliveryStatus.FAILED
    started = time.monotonic()
    try:
        provider_id = transport_for(destination).notify(delivery)
    except TransportError as exc:
        return _failed(delivery, exc, _elapsed_ms(started))
    _delivered(delivery, provider_id, _elapsed_ms(started))
    return DeliveryStatus.DELIVERED


def deliveries_dispatch(*, delivery_ids: list[int], worker: str = "") -> int:
    """A batch of deliveries from one message: those to other destinations are queued one
    task each first (slow providers run in parallel, on any worker), then the in-app ones,
    which only record the attempt, are processed here. Returns how many were processed
    here. Each is claimed on its own, so a duplicated or replayed batch sends nothing twice."""
    in_app = set(
        Delivery.objects.filter(pk__in=delivery_ids, destination__kind=DestinationKind.IN_APP)
        .values_list("pk", flat=True)
    )
    from apps.notifications.tasks import deliver

    for delivery_id in delivery_ids:
        if delivery_id not in in_app:
            deliver.apply_async(args=(delivery_id,))
    processed = 0
    for delivery_id in delivery_ids:
        if delivery_id in in_app and delivery_process(delivery_id=delivery_id, worker=worker):
            processed += 1
    return processed


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _finish(delivery: Delivery, status: str, *, error: str = "") -> None:
    delivery.status = status
    delivery.finished_at = timezone.now()
    delivery.last_error = error[:300]
    delivery.claimed_at, delivery.claimed_by = None, ""
    delivery.save(update_fields=["status", "finished_at", "last_error", "claimed_at",
                                 "claimed_by"])


@transaction.atomic
def _delivered(delivery: Delivery, provider_id: str, duration_ms: int) -> None:
    now = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery, at=now, status=AttemptStatus.DELIVERED,
        provider_id=provider_id[:200], duration_ms=duration_ms,
    )
    delivery.attempts += 1
    delivery.provider_id = provider_id[:200]
    delivery.save(update_fields=["attempts", "provider_id"])
    _finish(delivery, DeliveryStatus.DELIVERED)
    destination = delivery.destination
    changes: dict[str, object] = {"last_notify": now, "last_error": ""}
    if (
        delivery.is_test and destination.verified_at is None
        and not TRANSPORTS[destination.kind].verify_by_code
    ):
        changes["verified_at"] = now  # a test that got through proves the address works
    Destination.objects.filter(pk=destination.pk).update(**changes)


@transaction.atomic
def _failed(delivery: Delivery, exc: TransportError, duration_ms: int) -> str:
    now = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery, at=now,
        status=AttemptStatus.PERMANENT if exc.permanent else AttemptStatus.TRANSIENT,
        error=exc.message[:300], duration_ms=duration_ms,
    )
    delivery.attempts += 1
    delivery.save(update_fields=["attempts"])
    destination = delivery.destination
    Destination.objects.filter(pk=destination.pk).update(last_error=exc.message[:300])
    if exc.permanent:
        _finish(delivery, DeliveryStatus.FAILED, error=exc.message)
        if not delivery.is_test:  # a failing test just reports; nothing relied on it yet
            destination_disable(destination=destination, reason=exc.message)
        return DeliveryStatus.FAILED
    if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _finish(delivery, DeliveryStatus.FAILED, error=exc.message)
        return DeliveryStatus.FAILED
    delay = retry_delay(delivery.attempts)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now + delay
    delivery.last_error = exc.message[:300]
    delivery.claimed_at, delivery.claimed_by = None, ""
    delivery.save(update_fields=["status", "next_attempt_at", "last_error", "claimed_at",
                                 "claimed_by"])
    from apps.notifications.services import enqueue

    enqueue([delivery.pk], countdown=delay.total_seconds())
    return DeliveryStatus.PENDING


def destination_disable(*, destination: Destination, reason: str) -> None:
    """Turn a destination off after a permanent error and tell its owner in-app why."""
    if destination.kind == DestinationKind.IN_APP:
        return
    updated = Destination.objects.filter(pk=destination.pk, disabled=False).update(
        disabled=True, disabled_reason=reason[:300]
    )
    if not updated:
        return  # already off: one notice is enough
    from apps.notifications.services import notification_send

    user = destination.user
    with override(user.language):
        name = destination.label or str(destination.get_kind_display())
        notification_send(
            user=user,
            title=_("“%s” was turned off") % name,
            message=_("Sending to it failed and retrying cannot help: %(reason)s. Fix it in "
                      "your notification settings and turn it back on.") % {"reason": reason},
            channels=["in_app"],
            priority="high",
            source="system",
            data={"destination_id": destination.pk},
        )


def deliveries_requeue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Hand out again what was lost: rows `sending` past the lease (their worker died)
    and pending rows that are due (retries, quiet hours over, a lost task message)."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
    reclaimed = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - lease
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, claimed_at=None, claimed_by="")
    if reclaimed:
        logger.warning("re-queued %d deliveries stuck in sending", reclaimed)
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    from apps.notifications.tasks import deliver

    for delivery_id in due:
        deliver.apply_async(args=(delivery_id,))
    return len(due)
