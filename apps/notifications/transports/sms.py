"""SMS through Twilio's client (as apps/core/sms.py), with a status callback so Twilio's
later `delivered`/`undelivered` reaches the delivery. Without Twilio keys it is logged."""

from __future__ import annotations

import logging
from typing import ClassVar

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.accounts.validators import normalize_phone
from apps.core.sms import twilio_configured
from apps.notifications.transports.base import Message, Transport, TransportError

logger = logging.getLogger("stocksense.sms")

# Twilio error codes that no retry can fix: invalid / unreachable / opted-out numbers.
PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 30003, 30005, 30006}


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
        text = message.text[:459]
        to = self.config["phone"]
        if not twilio_configured():
            logger.warning("SMS NOT SENT (Twilio not configured) to %s: %s", to, text)
            return "logged"
        client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=settings.OUTBOUND_HTTP_TIMEOUT),
        )
        extra = {}
        callback = status_callback_url()
        if callback:
            extra["status_callback"] = callback
        try:
            sent = client.messages.create(
                to=to, from_=settings.TWILIO_FROM_NUMBER, body=text, **extra
            )
        except TwilioRestException as exc:
            transient = exc.status == 429 or exc.status >= 500
            permanent = not transient or exc.code in PERMANENT_CODES
            raise TransportError(f"Twilio: {exc.msg}"[:300], permanent=permanent) from exc
        except Exception as exc:  # network failure inside twilio's requests session
            raise TransportError(f"Twilio request failed: {exc}"[:300], permanent=False) from exc
        return str(sent.sid)
