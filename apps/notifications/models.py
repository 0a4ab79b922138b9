"""Destinations, notifications (the in-app centre), deliveries (the outbox) and attempts.

A `Delivery` row is written in the same transaction as its `Notification`; workers claim it
atomically (`services_delivery.delivery_claim`) and record every `DeliveryAttempt`. See
docs/notifications.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DestinationKind(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WEB_PUSH = "web_push", _("Browser push")
    SLACK = "slack", _("Slack")
    DISCORD = "discord", _("Discord")
    WEBHOOK = "webhook", _("Webhook")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held for the daily digest")
    DIGESTED = "digested", _("Sent in a digest")


class AttemptStatus(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    TRANSIENT = "transient", _("Failed, will retry")
    PERMANENT = "permanent", _("Failed permanently")


def all_priorities() -> list[str]:
    return [p.value for p in Priority]


class Destination(models.Model):
    """Somewhere a user's notifications go: one row per address, kind-specific `config`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="destinations"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DestinationKind.choices)
    label = models.CharField(_("label"), max_length=80, blank=True)
    config: models.JSONField[Any] = models.JSONField(default=dict)
    priorities = ArrayField(
        models.CharField(max_length=8, choices=Priority.choices), default=all_priorities
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=300, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_notify = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created", "id")
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label or self.pk}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Notification(models.Model):
    """An entry of the user's notification centre; the record whatever the channels did."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    source = models.CharField(max_length=32, default="system")
    data: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")
        indexes = [
            models.Index(fields=["user", "-created"]),
            models.Index(
                fields=["user"], name="notif_unread_idx", condition=models.Q(read_at=None)
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One notification to one destination: the outbox row a worker claims."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # A test bypasses verification, preferences and quiet hours (it is how a user verifies).
    is_test = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    provider_id = models.CharField(max_length=200, blank=True, db_index=True)
    provider_status = models.CharField(max_length=40, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "destination"], name="one_delivery_per_destination"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="delivery_sending_idx",
                condition=models.Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"attempt {self.pk} ({self.status})"


class Preferences(models.Model):
    """Quiet hours and the daily digest, one row per user (created on first use)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    quiet_hours_enabled = models.BooleanField(default=False)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    # Quiet hours do not hold anything back while NSE is trading (09:15–15:30 IST).
    quiet_outside_market_only = models.BooleanField(default=False)
    digest_low = models.BooleanField(default=True)
    digest_hour = models.PositiveSmallIntegerField(default=18)  # in the user's time zone
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class VerificationCode(models.Model):
    """The hash of a 6-digit code sent to an SMS or e-mail destination to prove it is the
    user's. Expires, and allows only a few wrong guesses."""

    destination = models.OneToOneField(
        Destination, on_delete=models.CASCADE, related_name="verification"
    )
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"code for {self.destination_id}"
