"""Alert rules, their firings (the outbox) and per-user quotas. Design: docs/alerts.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument, Timeframe
from apps.watchlists.models import Watchlist

MAX_CONDITIONS = 10


class Combine(models.TextChoices):
    ALL = "all", _("All conditions")
    ANY = "any", _("Any condition")


class TriggerMode(models.TextChoices):
    ONCE = "once", _("Once")
    ONCE_PER_BAR = "once_per_bar", _("Once per bar")
    EVERY_TIME = "every_time", _("Every time")


class RuleStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    EXPIRED = "expired", _("Expired")
    FIRED = "fired", _("Fired")


class AlertPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class AlertRule(models.Model):
    """Conditions on one instrument, or on every instrument of a watchlist (followed live)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(_("name"), max_length=100)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    watchlist = models.ForeignKey(
        Watchlist, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_rules"
    )
    # Normalised by `apps.alerts.conditions`: Decimal values are stored as strings.
    conditions = models.JSONField(_("conditions"), default=list)
    combine = models.CharField(
        _("combine"), max_length=3, choices=Combine.choices, default=Combine.ALL
    )
    trigger_mode = models.CharField(
        _("trigger"), max_length=12, choices=TriggerMode.choices, default=TriggerMode.ONCE
    )
    bar_timeframe = models.CharField(
        _("bar timeframe"), max_length=3, choices=Timeframe.choices, blank=True
    )
    cooldown_seconds = models.PositiveIntegerField(_("cooldown (seconds)"), default=0)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    message = models.CharField(_("message template"), max_length=500, blank=True)
    channels = models.JSONField(_("channels"), default=list)
    priority = models.CharField(
        _("priority"), max_length=6, choices=AlertPriority.choices, default=AlertPriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=8, choices=RuleStatus.choices, default=RuleStatus.ACTIVE
    )
    # Opt-in: each firing also adds a line to this room's activity feed (while the owner is
    # a member of it).
    share_room = models.ForeignKey(
        "rooms.Room",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("share firings with room"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(instrument__isnull=False, watchlist__isnull=True)
                    | Q(instrument__isnull=True, watchlist__isnull=False)
                ),
                name="alerts_rule_instrument_xor_watchlist",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="alerts_rule_user_status_idx"),
            models.Index(fields=["status"], name="alerts_rule_status_idx"),
            # The engine's sweeps (every second: expiries; every few hundred batches: rules
            # edited lately) become range scans instead of reading every active rule.
            models.Index(fields=["expires_at"], condition=Q(status="active"),
                         name="alerts_rule_active_expiry_idx"),
            models.Index(fields=["updated_at"], name="alerts_rule_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class AlertEvent(models.Model):
    """One firing: written with its notification and deliveries in one transaction."""

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="+")
    values = models.JSONField(_("values"), default=dict)
    fired_at = models.DateTimeField(_("fired at"))  # the tick's time
    recorded_at = models.DateTimeField(default=timezone.now)
    # Identity of the crossing (trigger mode dependent, see engine.index.crossing_key).
    crossing_key = models.CharField(max_length=64)
    notification = models.ForeignKey(
        "notifications.Notification", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-fired_at", "-id")
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "instrument", "crossing_key"], name="alerts_event_crossing_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}@{self.fired_at:%Y-%m-%d %H:%M:%S}"


class AlertQuota(models.Model):
    """A per-user (or per-plan, set by whatever assigns plans) cap on active rules."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_quota"
    )
    max_active_rules = models.PositiveIntegerField(_("max active rules"))

    class Meta:
        verbose_name = _("alert quota")
        verbose_name_plural = _("alert quotas")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.max_active_rules}"
