from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.notifications.models import Destination
from apps.notifications.transports import TRANSPORTS
from config.celery import app as celery_app
from tests.events import published  # noqa: F401 - re-exported for the tests

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
