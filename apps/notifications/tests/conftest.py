from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone
from rest_framework.test import APIClient

from apps.notifications.models import Destination
from apps.notifications.transports import TRANSPORTS
from config.celery import app as celery_app

T = TypeVar("T")

PUBLIC_HOOK = "https://93.184.215.14/hooks/stocksense"  # a literal public address: no DNS
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
DISCORD_URL = "https://discord.com/api/webhooks/123/abc"
PUSH_ENDPOINT = "https://142.250.183.10/fcm/send/abc123"
TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


@pytest.fixture(autouse=True)
def _eager_tasks() -> Iterator[None]:
    """Tasks queued after commit run in the test's thread (the worker's code, inline)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def twilio(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"


def make_destination(user: Any, kind: str, config: dict[str, Any] | None = None, *,
                     verified: bool = True, **fields: Any) -> Destination:
    """A destination as the service would store it (prepared config), created directly."""
    prepared = TRANSPORTS[kind].prepare_config(dict(config or {}), previous={})
    return Destination.objects.create(
        user=user, kind=kind, config=prepared,
        verified_at=timezone.now() if verified else None, **fields,
    )


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def published(groups: list[str], action: Callable[[], T]) -> tuple[T, dict[str, list[Any]]]:
    """Run `action` with a real channel in each group on the real (Redis) layer; return
    its result and the events each group received."""
    layer = get_channel_layer()
    assert layer is not None

    async def run() -> tuple[T, dict[str, list[Any]]]:
        channels = {}
        for group in groups:
            channels[group] = await layer.new_channel()
            await layer.group_add(group, channels[group])
        result = await sync_to_async(action)()
        received: dict[str, list[Any]] = {}
        for group, channel in channels.items():
            received[group] = []
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), 0.3)
                except TimeoutError:
                    break
                received[group].append(message["event"])
            await layer.group_discard(group, channel)
        return result, received

    return async_to_sync(run)()
