"""SMS through apps/core/sms.py (Twilio's client), with a status callback so Twilio's later
`delivered`/`undelivered` reaches the delivery. Without Twilio keys it is logged."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from apps.accounts.validators import normalize_phone
from apps.core.http import HttpError
from apps.core.sms import sms_send
from apps.notifications.transports.base import Message, Transport, TransportError


class SmsConfig(serializers.Serializer):
    phone = serializers.CharField(max_length=20)

    def validate_phone(self, value: str) -> str:
        from django.core.exceptions import ValidationError

        try:
            return normalize_phone(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


def status_callback_url() -> str | None:
    base = settings.NOTIFICATIONS_PUBLIC_URL.rstrip("/")
    return f"{base}{reverse('api-notifications-twilio')}" if base else None


class SmsTransport(Transport):
    kind = "sms"
    Config = SmsConfig
    verify_by_code: ClassVar[bool] = True

    def send(self, message: Message) -> str:
        # SMS are short: one segment of title, then as much of the body as fits in three.
        try:
            return sms_send(to=self.config["phone"], body=message.text[:459],
                            status_callback=status_callback_url())
        except HttpError as exc:
            raise TransportError(str(exc)[:300], permanent=exc.permanent) from exc
