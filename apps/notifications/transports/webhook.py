"""A generic signed webhook for automation.

The body is JSON; `X-StockSense-Signature: sha256=<hex>` is HMAC-SHA256 of the exact body
bytes with the destination's secret, so the receiver can check it came from us. The body
carries `sent_at` (replay window) and `delivery_id` (idempotency: a retry after a timeout
may deliver twice). URLs must resolve to public addresses unless
NOTIFICATIONS_ALLOW_PRIVATE_URLS is set (self-hosting).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from apps.core.http import HttpError, http_request
from apps.notifications.transports.base import Message, Transport, TransportError

SIGNATURE_HEADER = "X-StockSense-Signature"


class WebhookConfig(serializers.Serializer):
    url = serializers.URLField(max_length=500)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport(Transport):
    kind = "webhook"
    Config = WebhookConfig

    @classmethod
    def prepare_config(cls, config: dict[str, Any], *, previous: dict[str, Any]) -> dict[str, Any]:
        return {**config, "secret": previous.get("secret") or secrets.token_urlsafe(32)}

    def send(self, message: Message) -> str:
        payload = {
            "delivery_id": message.ref,
            "notification_id": message.notification_id,
            "title": message.title,
            "body": message.body,
            "priority": message.priority,
            "source": message.source,
            "data": message.data,
            "created": message.created,
            "sent_at": timezone.now().isoformat(),
        }
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "StockSense-Webhook/1",
            SIGNATURE_HEADER: sign(self.config["secret"], body),
            "X-StockSense-Delivery": str(message.ref or ""),
        }
        try:
            http_request(
                "POST", self.config["url"], data=body, headers=headers,
                user_url=self.user_url_checked(),
            )
        except HttpError as exc:
            raise TransportError.from_http(exc) from exc
        return f"webhook:{message.ref or ''}"
