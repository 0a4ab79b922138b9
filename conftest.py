from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from allauth.account.models import EmailAddress
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Rate limits and tickets live in Redis: each test starts from an empty test DB."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _gc_thresholds_back() -> Iterator[None]:
    """A test that opened a socket started the `ws` garbage-collection pacer on its event
    loop, which turns CPython's own full collections off while it runs; the loop is gone
    after the test, so give them back (apps/realtime/gcpace.py)."""
    yield
    from apps.realtime import gcpace

    gcpace.get_gc_pacer.instances.clear()
    gcpace.release()


@pytest.fixture
def password() -> str:
    return "correct horse battery staple 42"


@pytest.fixture
def user(db: Any, password: str) -> Any:
    account = UserFactory(password=password)
    EmailAddress.objects.create(user=account, email=account.email, verified=True, primary=True)
    return account


@pytest.fixture
def other_user(db: Any, password: str) -> Any:
    account = UserFactory(password=password)
    EmailAddress.objects.create(user=account, email=account.email, verified=True, primary=True)
    return account


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def market_seed(db: Any) -> None:
    """The NIFTY 50 seed from migration 0002, restored if a transactional test flushed it."""
    import importlib

    from django.apps import apps

    from apps.market.models import Instrument

    if not Instrument.objects.exists():
        migration = importlib.import_module(
            "apps.market.migrations.0002_seed_exchanges_nifty50_holidays"
        )
        migration.seed(apps, None)


@pytest_asyncio.fixture
async def sockets() -> AsyncIterator[Any]:
    """WebSocket communicators a test opens (tests/ws.py); disconnected afterwards."""
    from channels.db import database_sync_to_async
    from django.db import connections

    opened: list[Any] = []
    yield opened
    for communicator in opened:
        await communicator.disconnect()
    # The worker thread's connection would otherwise block dropping the test database.
    await database_sync_to_async(connections.close_all)()
