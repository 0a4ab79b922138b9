"""E-mail through SendGrid's v3 API (like apps/core/mail), or the marked console without a key.

Sent here, not through the queued backend, because the worker needs the answer: the
`X-Message-Id` SendGrid returns is the provider id its event webhook reports back, and the
delivery id rides along in `custom_args` so an event finds its row either way.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from rest_framework import serializers

from apps.core.http import HttpError, http_request
from apps.core.mail.backends import SENDGRID_SEND_URL, SendGridEmailBackend
from apps.notifications.transports.base import Message, Transport, TransportError


class EmailConfig(serializers.Serializer):
    address = serializers.EmailField(max_length=254)

    def validate_address(self, value: str) -> str:
        return value.strip().lower()


class _Payloads(SendGridEmailBackend):
    def payload(self, message: EmailMessage) -> dict[str, Any]:
        return self._payload(message)


class EmailTransport(Transport):
    kind = "email"
    Config = EmailConfig
    verify_by_code: ClassVar[bool] = True

    def send(self, message: Message) -> str:
        mail = EmailMessage(
            subject=f"[StockSense] {message.title}",
            body=message.body or message.title,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.config["address"]],
        )
        if not settings.SENDGRID_API_KEY:
            get_connection(settings.EMAIL_DELIVERY_BACKEND).send_messages([mail])
            return "logged"
        payload = _Payloads().payload(mail)
        if message.ref:
            payload["custom_args"] = {"delivery_id": str(message.ref)}
        try:
            response = http_request(
                "POST", SENDGRID_SEND_URL, json=payload,
                headers={"Authorization": f"Bearer {settings.SENDGRID_API_KEY}"},
            )
        except HttpError as exc:
            raise TransportError.from_http(exc) from exc
        return response.headers.get("X-Message-Id", "")
