"""The daily digest: low-priority notifications held back (status `held`) are rolled into
one notification per user at their chosen hour, sent through the usual outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from apps.accounts.models import User
from apps.notifications import selectors
from apps.notifications.models import Delivery, DeliveryStatus, Notification, Priority


def _due(user: User, now: datetime) -> bool:
    prefs = selectors.preferences_get(user=user)
    local = now.astimezone(ZoneInfo(user.time_zone))
    if local.hour < prefs.digest_hour:
        return False
    last = prefs.last_digest_at
    return last is None or last.astimezone(ZoneInfo(user.time_zone)).date() < local.date()


@transaction.atomic
def digest_send(*, user: User, now: datetime | None = None) -> Notification | None:
    """Roll the user's held deliveries into one digest notification (None if none held)."""
    from apps.notifications.services import enqueue

    now = now or timezone.now()
    held = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(notification__user=user, status=DeliveryStatus.HELD)
        .select_related("notification", "destination")
        .order_by("notification__created", "id")
    )
    if not held:
        return None
    notes = {d.notification_id: d.notification for d in held}
    with override(user.language):
        title = ngettext(
            "Your daily digest: %d notification", "Your daily digest: %d notifications",
            len(notes),
        ) % len(notes)
        lines = [f"• {n.title}" for n in notes.values()]
    digest = Notification.objects.create(
        user=user, title=title, body="\n".join(lines), priority=Priority.NORMAL,
        source="digest", data={"notification_ids": list(notes)}, created=now,
    )
    destinations = {
        d.destination_id: d.destination for d in held
        if not d.destination.disabled and d.destination.is_verified
    }
    rows = Delivery.objects.bulk_create(
        Delivery(notification=digest, destination=dest, next_attempt_at=now, created=now)
        for dest in destinations.values()
    )
    Delivery.objects.filter(pk__in=[d.pk for d in held]).update(
        status=DeliveryStatus.DIGESTED, finished_at=now, last_error=_("Sent in the digest.")
    )
    prefs = selectors.preferences_get(user=user)
    prefs.last_digest_at = now
    prefs.save(update_fields=["last_digest_at"])
    enqueue([d.pk for d in rows])
    return digest


def digests_send_due(*, now: datetime | None = None) -> int:
    """Send every digest whose hour has come today (run hourly by beat)."""
    now = now or timezone.now()
    user_ids = (
        Delivery.objects.filter(status=DeliveryStatus.HELD)
        .values_list("notification__user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user in User.objects.filter(pk__in=user_ids):
        if _due(user, now) and digest_send(user=user, now=now):
            sent += 1
    return sent
