"""Watchlists: a user's ordered lists of instruments, optionally shared with other users."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument

# Limits, enforced by the services (not settings: they are product rules, not deployment knobs).
MAX_WATCHLISTS_PER_OWNER = 20
MAX_ITEMS_PER_WATCHLIST = 250
MAX_MEMBERS_PER_WATCHLIST = 50


class Role(models.TextChoices):
    """What a user may do with a watchlist. `owner` is implied by `Watchlist.owner`."""

    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Viewer")


class MemberRole(models.TextChoices):
    EDITOR = Role.EDITOR.value, Role.EDITOR.label
    VIEWER = Role.VIEWER.value, Role.VIEWER.label


class MemberStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Watchlist(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists"
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by every service write under the row lock and strictly increasing, so clients can
    # drop a `watchlist.updated` event that arrives after a newer one.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "id")
        verbose_name = _("watchlist")
        verbose_name_plural = _("watchlists")
        constraints = [
            models.UniqueConstraint(
                F("owner"), Lower("name"), name="watchlists_watchlist_owner_name_ci_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WatchlistItem(models.Model):
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="items")
    # PROTECT: instruments are retired with `active=False`, never deleted under a watchlist.
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "id")
        verbose_name = _("watchlist item")
        verbose_name_plural = _("watchlist items")
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "instrument"], name="watchlists_item_watchlist_instrument_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.watchlist_id}:{self.instrument_id}"


class WatchlistMember(models.Model):
    """A user the owner shared the list with. Only `accepted` members can see the list."""

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist_memberships"
    )
    role = models.CharField(_("role"), max_length=8, choices=MemberRole.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=MemberStatus.choices, default=MemberStatus.INVITED
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("watchlist member")
        verbose_name_plural = _("watchlist members")
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "user"], name="watchlists_member_watchlist_user_uniq"
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="watchlists_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.watchlist_id} ({self.status})"
