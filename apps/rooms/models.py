"""Group analysis rooms: members with roles, invitations, chat messages, reactions, activity.

Messages are stored first and pushed after commit (`room.message`); the database is the
record, a push is a courtesy. Presence and typing live in Redis with expiry, not here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Product rules, enforced by the services.
MAX_MEMBERS_PER_ROOM = 500
MAX_ROOMS_OWNED = 50
MAX_MESSAGE_LENGTH = 4000
MAX_REACTIONS_PER_MESSAGE = 50  # distinct emoji
INVITE_LINK_DAYS = 7


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private (by invitation)")
    DISCOVERABLE = "discoverable", _("Discoverable (anyone on StockSense can join)")


class RoomRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MODERATOR = "moderator", _("Moderator")
    MEMBER = "member", _("Member")


class Room(models.Model):
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=500, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=12, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    # Kept equal to the member row with role `owner` (ownership transfer updates both).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_rooms"
    )
    # The shared watchlist: created with the room or linked; room members see and edit it.
    watchlist = models.ForeignKey(
        "watchlists.Watchlist",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms",
        verbose_name=_("shared watchlist"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-updated_at", "id")
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        indexes = [models.Index(fields=["visibility", "-updated_at"], name="rooms_room_vis_idx")]

    def __str__(self) -> str:
        return self.name


class RoomMember(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=RoomRole.choices, default=RoomRole.MEMBER
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # The newest message this member has seen: unread = messages after it.
    last_read_message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("joined_at", "id")
        verbose_name = _("room member")
        verbose_name_plural = _("room members")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_member_room_user_uniq"),
            models.UniqueConstraint(
                fields=["room"], condition=Q(role="owner"), name="rooms_member_one_owner"
            ),
        ]
        indexes = [models.Index(fields=["user", "room"], name="rooms_member_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.room_id}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")


class RoomInvitation(models.Model):
    """Either to one user (`user` set; by e-mail or username) or a link (`token`) anyone
    signed in can use until it expires or is revoked."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="room_invitations",
    )
    # Link invitations: a random URL-safe token (secrets.token_urlsafe), unique.
    token = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "id")
        verbose_name = _("room invitation")
        verbose_name_plural = _("room invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["token"], condition=~Q(token=""), name="rooms_invitation_token_uniq"
            ),
            models.UniqueConstraint(
                fields=["room", "user"],
                condition=Q(status="pending") & Q(user__isnull=False),
                name="rooms_invitation_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(token=""),
                name="rooms_invitation_user_or_token",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation to {self.room_id} ({self.status})"


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    SHARE = "share", _("Shared item")
    SYSTEM = "system", _("System")


class ShareKind(models.TextChoices):
    CHART = "chart", _("Chart snapshot")
    ALERT = "alert", _("Alert rule")
    PORTFOLIO = "portfolio", _("Portfolio allocation")
    WATCHLIST = "watchlist", _("Watchlist")
    BACKTEST = "backtest", _("Backtest report")


class Message(models.Model):
    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="room_messages",
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    # Plain text as typed (never HTML): clients render it as text; links and $SYMBOL and
    # @name tokens are recognised by the client from `symbols` / `mentions` below.
    body = models.TextField(blank=True)
    # For `share` messages: `{"type": ShareKind, ...}` — a frozen copy of what was shared,
    # so a later edit or deletion of the original does not change history.
    share = models.JSONField(null=True, blank=True)
    # Replies are one level deep: a reply's parent is never itself a reply.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    mentions = models.JSONField(default=list, blank=True)  # user ids mentioned (@name)
    symbols = models.JSONField(default=list, blank=True)  # "NSE:RELIANCE" mentioned ($RELIANCE)
    client_id = models.CharField(max_length=64, blank=True)  # the sender's idempotency key
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Soft delete: the row stays ("message deleted"), the body and share are cleared.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("id",)
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["room", "-id"], name="rooms_message_room_id_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "author", "client_id"],
                condition=~Q(client_id=""),
                name="rooms_message_client_id_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.pk}"


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="rooms_reaction_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message_id}"


class ActivityVerb(models.TextChoices):
    CREATED = "created", _("created the room")
    JOINED = "joined", _("joined")
    LEFT = "left", _("left")
    REMOVED = "removed", _("was removed")
    ROLE_CHANGED = "role_changed", _("role changed")
    OWNER_CHANGED = "owner_changed", _("ownership transferred")
    SHARED = "shared", _("shared")
    WATCHLIST_CHANGED = "watchlist_changed", _("changed the watchlist")
    ALERT_FIRED = "alert_fired", _("alert fired")


class Activity(models.Model):
    """One line of a room's (and its actor's) activity feed."""

    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=20, choices=ActivityVerb.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        verbose_name = _("activity")
        verbose_name_plural = _("activity")
        indexes = [
            models.Index(fields=["room", "-id"], name="rooms_activity_room_idx"),
            models.Index(fields=["actor", "-id"], name="rooms_activity_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.verb} in {self.room_id}"
