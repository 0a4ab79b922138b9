"""Slack incoming webhooks (https://api.slack.com/messaging/webhooks).

Only hooks.slack.com is accepted, so the address check of user URLs is not needed: the host
is Slack's. Slack answers 404/410 for a deleted hook (permanent) and 429/5xx when busy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.http import HttpError, http_request
from apps.notifications.transports.base import Message, Transport, TransportError


class SlackConfig(serializers.Serializer):
    url = serializers.URLField(max_length=500)

    def validate_url(self, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or parts.hostname != "hooks.slack.com":
            raise serializers.ValidationError(
                _("A Slack incoming webhook URL starts with https://hooks.slack.com/.")
            )
        return value


class SlackTransport(Transport):
    kind = "slack"
    Config = SlackConfig

    def send(self, message: Message) -> str:
        payload = {"text": f"*{message.title}*\n{message.body}".strip()}
        try:
            http_request("POST", self.config["url"], json=payload)
        except HttpError as exc:
            raise TransportError.from_http(exc) from exc
        return f"slack:{message.ref or ''}"
