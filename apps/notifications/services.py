"""Writes: sending a notification (the outbox), reading it, destinations and preferences.

Delivery work itself is in `delivery.py`; codes in `verification.py`; digests in `digest.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.notifications import selectors
from apps.notifications.models import (
    Delivery,
    DeliveryStatus,
    Destination,
    DestinationKind,
    Notification,
    Preferences,
    Priority,
)
from apps.notifications.policy import delivery_plan
from apps.notifications.transports import TRANSPORTS
from apps.realtime.events import publish, publish_many, user_group

MAX_DESTINATIONS = 20

# The seed's channel names, and ours.
CHANNELS: dict[str, str] = {
    "websocket": DestinationKind.IN_APP,
    "in_app": DestinationKind.IN_APP,
    "email": DestinationKind.EMAIL,
    "sms": DestinationKind.SMS,
    "push": DestinationKind.WEB_PUSH,
    "web_push": DestinationKind.WEB_PUSH,
    "slack": DestinationKind.SLACK,
    "discord": DestinationKind.DISCORD,
    "webhook": DestinationKind.WEBHOOK,
}


def channel_kinds(channels: Iterable[str] | None) -> set[str]:
    """Destination kinds for channel names; None means every kind."""
    if channels is None:
        return {k.value for k in DestinationKind}
    unknown = sorted(set(channels) - CHANNELS.keys())
    if unknown:
        raise ValidationError({"channels": [_("Unknown channel: %s") % ", ".join(unknown)]})
    return {CHANNELS[c] for c in channels}


def enqueue(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue delivery tasks once the transaction commits (a worker must see the rows).

    Several due deliveries travel as ONE `deliver_many` message: a broker publish is a
    round trip (~0.35 ms), and an alert batch's 50 in-app deliveries queued one by one kept
    the last one, and every push after them, waiting ~18 ms. The worker sends the in-app
    ones itself and queues the others one task each, so slow providers still run in
    parallel; each delivery is still claimed on its own (`delivery.delivery_process`)."""
    if not delivery_ids:
        return
    from apps.notifications.tasks import deliver, deliver_many

    ids = list(delivery_ids)

    def send() -> None:
        if countdown:
            for delivery_id in ids:
                deliver.apply_async(args=(delivery_id,), countdown=countdown)
        elif len(ids) == 1:
            deliver.apply_async(args=(ids[0],))
        else:
            deliver_many.apply_async(args=(ids,))

    transaction.on_commit(send)


def _new_event(notification: Notification, unread: int) -> tuple[str, dict[str, Any]]:
    return user_group(notification.user_id), {
        "type": "notification.new",
        "notification": selectors.notification_data(notification),
        "unread_count": unread,
    }


def _publish_new(notification: Notification) -> None:
    unread = selectors.unread_count(user_id=notification.user_id)
    publish_many([_new_event(notification, unread)])


def _due_ids(deliveries: Iterable[Delivery], now: datetime) -> list[int]:
    return [
        d.pk for d in deliveries
        if d.status == DeliveryStatus.PENDING and d.next_attempt_at <= now
    ]


@dataclass
class NotificationRequest:
    """The arguments of one `notification_send`, for `notifications_send_many`."""

    user: User
    message: str
    title: str | None = None
    channels: Iterable[str] | None = None
    priority: str = Priority.NORMAL
    data: dict[str, Any] | None = None
    source: str = "system"


def _destinations_by_user(
    user_ids: set[int], kinds: set[str], in_app_for: set[int], now: datetime,
) -> dict[int, list[Destination]]:
    """Every destination of these users whose kind was asked for (one query), creating the
    in-app centre of the users in `in_app_for` that lack one (one more query, rarely)."""
    by_user: dict[int, list[Destination]] = {uid: [] for uid in user_ids}
    if not kinds:
        return by_user
    for destination in Destination.objects.filter(user_id__in=user_ids, kind__in=kinds):
        by_user[destination.user_id].append(destination)
    missing = [
        uid for uid in sorted(in_app_for)
        if not any(d.kind == DestinationKind.IN_APP for d in by_user[uid])
    ]
    if missing:
        created = Destination.objects.bulk_create([
            Destination(user_id=uid, kind=DestinationKind.IN_APP, label=_("Notification centre"),
                        verified_at=now)
            for uid in missing
        ])
        for destination in created:
            by_user[destination.user_id].append(destination)
    return by_user


def _preferences_by_user(user_ids: set[int]) -> dict[int, Preferences]:
    """`selectors.preferences_get` for many users: one query, one more to create missing rows."""
    found = {p.user_id: p for p in Preferences.objects.filter(user_id__in=user_ids)}
    missing = [Preferences(user_id=uid) for uid in sorted(user_ids - found.keys())]
    if missing:
        Preferences.objects.bulk_create(missing, ignore_conflicts=True)
        found.update({p.user_id: p for p in missing})
    return found


def _matches(destination: Destination, kinds: set[str], priority: str) -> bool:
    return (
        destination.kind in kinds and not destination.disabled
        and destination.verified_at is not None and priority in destination.priorities
    )


@transaction.atomic
def notifications_send_many(
    items: list[NotificationRequest], *, events: list[tuple[str, dict[str, Any]]] | None = None,
) -> list[Notification]:
    """`notification_send` for many notifications (users may differ) with a constant number
    of queries: one for the destinations of all users, one for their preferences, one insert
    of the notifications, one of the deliveries, one unread count (plus one insert each for
    missing in-app centres and preferences). Returns the notifications in the order of
    `items`; after commit the due deliveries are queued and each notification's
    `notification.new` is published (in `items` order).

    With `events` (a list), the `notification.new` events are appended to it, in `items`
    order, instead of being published: the caller publishes them after commit with its
    own (the alert engine sends each next to its `alert.fired`, in one round trip)."""
    if not items:
        return []
    kinds_of: list[set[str]] = []
    for item in items:
        if item.priority not in Priority.values:
            raise ValidationError({"priority": [_("Unknown priority: %s") % item.priority]})
        kinds_of.append(channel_kinds(item.channels))
    now = timezone.now()
    user_ids = {item.user.pk for item in items}
    in_app_for = {
        item.user.pk for item, kinds in zip(items, kinds_of, strict=True)
        if DestinationKind.IN_APP in kinds
    }
    destinations = _destinations_by_user(user_ids, set().union(*kinds_of), in_app_for, now)
    notifications = Notification.objects.bulk_create([
        Notification(
            user=item.user,
            title=(item.title or item.message.split("\n", 1)[0])[:200],
            body=item.message,
            priority=item.priority,
            source=item.source[:32],
            data=item.data or {},
            created=now,
        )
        for item in items
    ])
    prefs = _preferences_by_user(user_ids)
    rows: list[Delivery] = []
    for item, kinds, notification in zip(items, kinds_of, notifications, strict=True):
        for destination in destinations[item.user.pk]:
            if not _matches(destination, kinds, item.priority):
                continue
            status, due = delivery_plan(
                kind=destination.kind, priority=notification.priority,
                prefs=prefs[item.user.pk], time_zone=item.user.time_zone, at=now,
            )
            rows.append(Delivery(
                notification=notification, destination=destination, status=status,
                next_attempt_at=due, created=now,
            ))
    deliveries = Delivery.objects.bulk_create(rows)
    # Queued first among the after-commit hooks: the deliveries do not wait for the pushes.
    enqueue(_due_ids(deliveries, now))
    # Each `notification.new` carries the unread count as it was once that notification
    # was written: the count after the batch minus the user's later ones in the batch.
    unread = dict(
        Notification.objects.filter(user_id__in=user_ids, read_at__isnull=True)
        .values("user_id").annotate(n=Count("id")).values_list("user_id", "n")
    )
    counts: list[int] = []
    for notification in reversed(notifications):
        counts.append(unread.get(notification.user_id, 0))
        unread[notification.user_id] = counts[-1] - 1
    pushes = [_new_event(notification, count)
              for notification, count in zip(notifications, reversed(counts), strict=True)]
    if events is None:
        publish_many(pushes)
    else:
        events.extend(pushes)
    return notifications


def notification_send(
    *,
    user: User,
    message: str,
    title: str | None = None,
    channels: Iterable[str] | None = None,
    priority: str = Priority.NORMAL,
    data: dict[str, Any] | None = None,
    source: str = "system",
) -> Notification:
    """Store a notification and one delivery per matching destination in one transaction
    (the outbox), then — after commit — push `notification.new` and queue the deliveries.

    Matching: the destination's kind is among `channels` (None = all), it is enabled,
    verified, and takes this priority. Low priority is held for the daily digest and
    quiet hours postpone the rest (`policy.delivery_plan`); in-app is always immediate.
    One implementation: this is `notifications_send_many` with one item.
    """
    [notification] = notifications_send_many([NotificationRequest(
        user=user, message=message, title=title, channels=channels, priority=priority,
        data=data, source=source,
    )])
    return notification


def _publish_read(user: User, ids: list[int] | None) -> None:
    publish(user_group(user.pk), {
        "type": "notification.read",
        "ids": ids,
        "all": ids is None,
        "unread_count": selectors.unread_count(user_id=user.pk),
    })


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _publish_read(notification.user, [notification.pk])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        _publish_read(user, None)
    return count


# --- destinations -----------------------------------------------------------------------------


def _validated_config(kind: str, config: Any, previous: dict[str, Any]) -> dict[str, Any]:
    transport = TRANSPORTS[kind]
    serializer = transport.Config(data=config if isinstance(config, dict) else {})
    if not isinstance(config, dict):
        raise ValidationError({"config": [_("Must be an object.")]})
    if not serializer.is_valid():
        errors: dict[str, list[str]] = {}
        for name, messages in serializer.errors.items():
            if isinstance(messages, dict):  # nested (web push `keys`)
                for sub, inner in messages.items():
                    errors[f"config.{name}.{sub}"] = [str(m) for m in inner]
            else:
                errors[f"config.{name}"] = [str(m) for m in messages]
        raise ValidationError(errors)
    return transport.prepare_config(dict(serializer.validated_data), previous=previous)


def _auto_verified(user: User, kind: str, config: dict[str, Any]) -> bool:
    transport = TRANSPORTS[kind]
    if transport.verified_on_create:
        return True
    # The account's own address was verified at sign-up (allauth's mandatory verification).
    return kind == DestinationKind.EMAIL and config.get("address") == user.email.lower()


def _check_priorities(priorities: list[str] | None) -> list[str] | None:
    if priorities is None:
        return None
    bad = [p for p in priorities if p not in Priority.values]
    if bad:
        raise ValidationError({"priorities": [_("Unknown priority: %s") % ", ".join(bad)]})
    return sorted(set(priorities), key=Priority.values.index)


@transaction.atomic
def destination_create(
    *, user: User, kind: str, config: Any, label: str = "", priorities: list[str] | None = None,
) -> Destination:
    """Validate and store a destination; a phone or e-mail needs its code entered before
    it receives anything but tests (the code is sent after commit)."""
    if kind not in TRANSPORTS:
        raise ValidationError({"kind": [_("Unknown kind: %s") % kind]})
    if kind == DestinationKind.IN_APP and Destination.objects.filter(user=user, kind=kind).exists():
        raise ValidationError({"kind": [_("You already have the in-app notification centre.")]})
    if Destination.objects.filter(user=user).count() >= MAX_DESTINATIONS:
        raise ValidationError(
            {"kind": [_("At most %d destinations per account.") % MAX_DESTINATIONS]}
        )
    checked = _validated_config(kind, config, {})
    destination = Destination.objects.create(
        user=user, kind=kind, label=label, config=checked,
        priorities=_check_priorities(priorities) or Priority.values,
        verified_at=timezone.now() if _auto_verified(user, kind, checked) else None,
    )
    if not destination.is_verified and TRANSPORTS[kind].verify_by_code:
        from apps.notifications.verification import code_send_later

        code_send_later(destination=destination)
    return destination


@transaction.atomic
def destination_update(
    *, destination: Destination, label: str | None = None, config: Any = None,
    priorities: list[str] | None = None, disabled: bool | None = None,
) -> Destination:
    """Change a destination. A new config must be verified again; re-enabling clears the
    reason it was turned off."""
    if label is not None:
        destination.label = label
    if (checked := _check_priorities(priorities)) is not None:
        destination.priorities = checked
    if config is not None:
        new = _validated_config(destination.kind, config, destination.config)
        if new != destination.config:
            destination.config = new
            auto = _auto_verified(destination.user, destination.kind, new)
            destination.verified_at = timezone.now() if auto else None
            destination.disabled, destination.disabled_reason = False, ""
            if not auto and TRANSPORTS[destination.kind].verify_by_code:
                from apps.notifications.verification import code_send_later

                code_send_later(destination=destination)
    if disabled is not None:
        destination.disabled = disabled
        if not disabled:
            destination.disabled_reason = ""
    destination.save()
    return destination


def destination_delete(*, destination: Destination) -> None:
    destination.delete()


@transaction.atomic
def destination_send_test(*, destination: Destination) -> Delivery:
    """A test message to this destination only, whatever its verification, preferences or
    quiet hours: it is how a user checks a destination. A successful test verifies
    destinations that have no code."""
    now = timezone.now()
    notification = Notification.objects.create(
        user=destination.user,
        title=_("Test notification"),
        body=_("This is a test from StockSense to “%s”. It works!")
        % (destination.label or destination.get_kind_display()),
        priority=Priority.NORMAL,
        source="test",
        data={"destination_id": destination.pk},
        created=now,
    )
    delivery = Delivery.objects.create(
        notification=notification, destination=destination, is_test=True, created=now,
        next_attempt_at=now,
    )
    _publish_new(notification)
    enqueue([delivery.pk])
    return delivery


def preferences_update(*, user: User, **changes: Any) -> Preferences:
    prefs = selectors.preferences_get(user=user)
    for name, value in changes.items():
        setattr(prefs, name, value)
    if prefs.quiet_hours_enabled and (prefs.quiet_start is None or prefs.quiet_end is None):
        raise ValidationError({"quiet_start": [_("Quiet hours need a start and an end.")]})
    prefs.save()
    return prefs
