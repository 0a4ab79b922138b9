"""Provider status callbacks: Twilio's message status and SendGrid's event webhook.

They update the delivery found by provider id (and, for SendGrid, by our `delivery_id`
custom argument). A later "failed" from the provider turns a delivered row into failed; a
bounce or an invalid number disables the destination like a permanent send error.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.sms import PERMANENT_CODES
from apps.notifications.delivery import destination_disable
from apps.notifications.models import Delivery, DeliveryStatus

TWILIO_FAILED = {"failed", "undelivered"}
SENDGRID_FAILED = {"bounce", "dropped"}
SENDGRID_DONE = {"delivered"}


def _apply(delivery: Delivery, provider_status: str, *, failed: bool, error: str,
           permanent: bool) -> None:
    delivery.provider_status = provider_status[:40]
    fields = ["provider_status"]
    if failed:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = error[:300]
        delivery.finished_at = timezone.now()
        fields += ["status", "last_error", "finished_at"]
    delivery.save(update_fields=fields)
    if failed and permanent and not delivery.is_test:
        destination_disable(destination=delivery.destination, reason=error)


@transaction.atomic
def twilio_status_apply(*, params: dict[str, str]) -> bool:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    delivery = (
        Delivery.objects.select_for_update().select_related("destination__user")
        .filter(provider_id=sid, destination__kind="sms").first() if sid else None
    )
    if delivery is None:
        return False
    code = params.get("ErrorCode") or ""
    _apply(
        delivery, status, failed=status in TWILIO_FAILED,
        error=f"Twilio: {status} (error {code})" if code else f"Twilio: {status}",
        permanent=code.isdigit() and int(code) in PERMANENT_CODES,
    )
    return True


def _sendgrid_delivery(event: dict[str, Any]) -> Delivery | None:
    qs = Delivery.objects.select_for_update().select_related("destination__user").filter(
        destination__kind="email"
    )
    ref = str(event.get("delivery_id") or "")
    if ref.isdigit():
        return qs.filter(pk=int(ref)).first()
    # sg_message_id is the X-Message-Id we stored, plus ".filter…" suffixes.
    message_id = str(event.get("sg_message_id") or "").split(".", 1)[0]
    return qs.filter(provider_id=message_id).first() if message_id else None


@transaction.atomic
def sendgrid_events_apply(*, events: list[dict[str, Any]]) -> int:
    updated = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        name = str(event.get("event") or "")
        if name not in SENDGRID_FAILED | SENDGRID_DONE:
            continue  # opens, clicks, deferrals: nothing to change
        delivery = _sendgrid_delivery(event)
        if delivery is None:
            continue
        reason = str(event.get("reason") or event.get("response") or name)
        _apply(delivery, name, failed=name in SENDGRID_FAILED,
               error=f"SendGrid: {name}: {reason}", permanent=name == "bounce")
        updated += 1
    return updated
