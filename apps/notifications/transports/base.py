"""What every transport implements: `notify(delivery)` → provider id, or `TransportError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from rest_framework import serializers

from apps.core.http import HttpError

if TYPE_CHECKING:
    from apps.notifications.models import Delivery, Destination


class TransportError(Exception):
    """A failed send. `permanent`: retrying cannot help (bad number, webhook gone)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    @classmethod
    def from_http(cls, exc: HttpError) -> TransportError:
        return cls(str(exc)[:300], permanent=exc.permanent)


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    priority: str = "normal"
    source: str = "system"
    data: dict[str, Any] = field(default_factory=dict)
    # The delivery id: the idempotency key receivers see, and how callbacks find the row.
    ref: int | None = None
    notification_id: int | None = None
    created: str = ""

    @classmethod
    def from_delivery(cls, delivery: Delivery) -> Message:
        notification = delivery.notification
        return cls(
            title=notification.title,
            body=notification.body,
            priority=notification.priority,
            source=notification.source,
            data=notification.data or {},
            ref=delivery.pk,
            notification_id=notification.pk,
            created=notification.created.isoformat(),
        )

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}".strip()


class EmptyConfig(serializers.Serializer):
    pass


class Transport:
    """One per destination kind. Subclasses set `kind`, `Config` (validates the user's
    config) and implement `send`."""

    kind: ClassVar[str]
    Config: ClassVar[type[serializers.Serializer]] = EmptyConfig
    # Verified by a code the user types (sms, email) rather than by a successful test.
    verify_by_code: ClassVar[bool] = False
    # Verified as soon as it is created (in-app: nothing to prove).
    verified_on_create: ClassVar[bool] = False

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.config: dict[str, Any] = destination.config or {}

    def notify(self, delivery: Delivery) -> str:
        return self.send(Message.from_delivery(delivery))

    def send(self, message: Message) -> str:
        raise NotImplementedError

    @classmethod
    def prepare_config(cls, config: dict[str, Any], *, previous: dict[str, Any]) -> dict[str, Any]:
        """Server-side additions to a validated config (e.g. a generated secret)."""
        return config

    @classmethod
    def public_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The config as the owner sees it over the API."""
        return config

    @staticmethod
    def user_url_checked() -> bool:
        """Whether user-typed URLs must resolve to public addresses (off for self-hosting)."""
        return not settings.NOTIFICATIONS_ALLOW_PRIVATE_URLS
