"""Browser push (Web Push with VAPID). The payload is encrypted with pywebpush and posted
through apps.core.http like every other call; push services answer 404/410 for a
subscription that is gone (permanent: the browser unsubscribed)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException
from rest_framework import serializers

from apps.core.http import HttpError, http_request
from apps.notifications.transports.base import Message, Transport, TransportError


class PushKeys(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class WebPushConfig(serializers.Serializer):
    endpoint = serializers.URLField(max_length=1000)
    keys = PushKeys()

    def validate_endpoint(self, value: str) -> str:
        if urlsplit(value).scheme != "https":
            raise serializers.ValidationError("https only")
        return value


def vapid_configured() -> bool:
    return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY and settings.WEBPUSH_VAPID_PUBLIC_KEY)


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID key pair as (private, public), base64url without padding."""
    from cryptography.hazmat.primitives import serialization

    vapid = Vapid()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return b64(private), b64(public)


class WebPushTransport(Transport):
    kind = "web_push"
    Config = WebPushConfig

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        claims: dict[str, Any] = {
            "sub": settings.WEBPUSH_VAPID_SUBJECT,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + 12 * 3600,
        }
        signed: dict[str, str] = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY).sign(claims)
        return signed

    def send(self, message: Message) -> str:
        if not vapid_configured():
            # The server's fault, not the subscription's: retry, never disable.
            raise TransportError("Web push is not configured (no VAPID keys)", permanent=False)
        payload = json.dumps({
            "title": message.title, "body": message.body, "priority": message.priority,
            "notification_id": message.notification_id, "url": "/notifications/",
        }).encode()
        try:
            encoded = WebPusher(self.config).encode(payload, "aes128gcm")
        except (WebPushException, ValueError, KeyError) as exc:
            raise TransportError(f"Bad push subscription: {exc}"[:300], permanent=True) from exc
        endpoint = self.config["endpoint"]
        headers = {
            "Content-Encoding": "aes128gcm",
            "TTL": str(24 * 3600),
            "Urgency": "high" if message.priority == "high" else "normal",
            **self._vapid_headers(endpoint),
        }
        try:
            response = http_request(
                "POST", endpoint, data=encoded["body"], headers=headers,
                user_url=self.user_url_checked(),
            )
        except HttpError as exc:
            raise TransportError.from_http(exc) from exc
        return response.headers.get("Location", "") or f"push:{message.ref or ''}"
