"""Discord webhooks. `?wait=true` makes Discord answer with the created message, whose id
becomes the provider id. A deleted webhook answers 404 (permanent)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.http import HttpError, http_request
from apps.notifications.transports.base import Message, Transport, TransportError

DISCORD_HOSTS = {"discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"}


class DiscordConfig(serializers.Serializer):
    url = serializers.URLField(max_length=500)

    def validate_url(self, value: str) -> str:
        parts = urlsplit(value)
        if (
            parts.scheme != "https"
            or parts.hostname not in DISCORD_HOSTS
            or not parts.path.startswith("/api/webhooks/")
        ):
            raise serializers.ValidationError(
                _("A Discord webhook URL looks like https://discord.com/api/webhooks/…")
            )
        return value


class DiscordTransport(Transport):
    kind = "discord"
    Config = DiscordConfig

    def send(self, message: Message) -> str:
        # Discord caps content at 2,000 characters.
        content = f"**{message.title}**\n{message.body}".strip()[:2000]
        try:
            response = http_request(
                "POST", self.config["url"], params={"wait": "true"},
                json={"content": content, "allowed_mentions": {"parse": []}},
            )
        except HttpError as exc:
            raise TransportError.from_http(exc) from exc
        try:
            return str(response.json().get("id") or "")
        except ValueError:
            return ""
