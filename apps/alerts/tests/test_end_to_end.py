"""API → ingest → stream → engine → outbox → the user's WebSocket, all real (PostgreSQL, Redis,
channel layer)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from apps.alerts.engine import runner
from apps.alerts.engine.runner import AlertEngine
from apps.alerts.models import AlertEvent
from apps.market import ingest
from apps.market.models import DataSource
from apps.market.providers.base import Quote
from apps.notifications.models import Delivery, Destination, Notification
from config.asgi import application

IST = ZoneInfo("Asia/Kolkata")
ORIGIN = (b"origin", b"http://localhost")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def queued(market_seed: None, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ingest._instrument_ids.clear()
    monkeypatch.setattr(runner, "_feed_stale", lambda: False)
    sent: list[int] = []
    from apps.notifications import tasks

    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: sent.append(args[0]))
    monkeypatch.setattr(tasks.deliver_many, "apply_async",
                        lambda args, **kw: sent.extend(args[0]))
    return sent


def _quote(price: str, second: int) -> Quote:
    p = Decimal(price)
    return Quote("INFY", "NSE", p, p, p, p, Decimal("1500"), 100 + second,
                 datetime(2026, 3, 2, 10, 0, second, tzinfo=IST), True)


def _setup() -> tuple[Any, bytes, int, AlertEngine]:
    from apps.accounts.models import User

    user = User.objects.create_user("asha@example.in", "pw-Strong-2026")
    Destination.objects.create(user=user, kind="sms", config={"phone": "+919812345678"},
                               verified_at=datetime(2026, 1, 1, tzinfo=IST))
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    ingest.quotes_ingest(batch=[_quote("1490", 1)], source=DataSource.SIMULATED)
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/alerts/", {
        "stock": "INFY", "conditions": [{"type": "crossing_up", "value": 1500}],
        "notification": ["websocket", "sms"], "priority": "high",
        "message": "{symbol} crossed up: {price}",
    }, format="json")
    assert response.status_code == 201, response.json()
    engine = AlertEngine(consumer="e2e", block_ms=10)
    engine.start()
    connections.close_all()
    return user, cookie, response.json()["id"], engine


def _tick_and_evaluate(engine: AlertEngine) -> int:
    ingest.quotes_ingest(batch=[_quote("1495", 2), _quote("1503.5", 3)],
                         source=DataSource.SIMULATED)
    written = engine.run_once()
    connections.close_all()
    return written


async def test_rule_created_via_api_fires_into_the_outbox_and_the_users_socket(
    queued: list[int],
) -> None:
    user, cookie, rule_id, engine = await database_sync_to_async(_setup)()
    communicator = WebsocketCommunicator(application, "/ws/",
                                         headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    try:
        assert await database_sync_to_async(_tick_and_evaluate)(engine) == 1
        frames = {}
        while "alert.fired" not in frames or "notification.new" not in frames:
            frame = await communicator.receive_json_from(timeout=5)
            frames[frame["type"]] = frame
        fired = frames["alert.fired"]
        assert fired["alert"]["id"] == rule_id
        assert fired["alert"]["status"] == "fired"
        assert fired["event"]["symbol"] == "INFY"
        assert fired["event"]["values"]["price"] == 1503.5
        assert fired["event"]["message"] == "INFY crossed up: 1503.50"
    finally:
        await communicator.disconnect()

    def stored() -> tuple[Any, ...]:
        event = AlertEvent.objects.get(rule_id=rule_id)
        notification = Notification.objects.get(pk=event.notification_id or 0)
        kinds = sorted(Delivery.objects.filter(notification=notification)
                       .values_list("destination__kind", "status"))
        return event.values, notification.priority, notification.source, kinds

    values, priority, source, kinds = await database_sync_to_async(stored)()
    assert values["price"] == 1503.5
    assert (priority, source) == ("high", "alert")
    assert kinds == [("in_app", "pending"), ("sms", "pending")]
    assert len(queued) == 2
    await database_sync_to_async(connections.close_all)()
