"""The one registry: destination kind → transport class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.notifications.transports.base import Message, Transport, TransportError
from apps.notifications.transports.discord import DiscordTransport
from apps.notifications.transports.email import EmailTransport
from apps.notifications.transports.in_app import InAppTransport
from apps.notifications.transports.slack import SlackTransport
from apps.notifications.transports.sms import SmsTransport
from apps.notifications.transports.web_push import WebPushTransport
from apps.notifications.transports.webhook import WebhookTransport

if TYPE_CHECKING:
    from apps.notifications.models import Destination

TRANSPORTS: dict[str, type[Transport]] = {
    cls.kind: cls
    for cls in (
        InAppTransport, EmailTransport, SmsTransport, WebPushTransport,
        SlackTransport, DiscordTransport, WebhookTransport,
    )
}


def transport_for(destination: Destination) -> Transport:
    return TRANSPORTS[destination.kind](destination)


__all__ = ["TRANSPORTS", "Message", "Transport", "TransportError", "transport_for"]
