"""The /ws/ consumer over the real Redis channel layer: auth, frames, quotes, session end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from apps.accounts.tickets import ws_ticket_issue
from apps.market import ingest
from apps.market.models import DataSource
from apps.market.providers.base import Quote
from apps.realtime import consumers, hub
from apps.realtime.events import publish_now, user_group
from apps.realtime.gcpace import get_gc_pacer
from apps.realtime.quotes import quotes_publish
from config.asgi import application

IST = ZoneInfo("Asia/Kolkata")
ORIGIN = (b"origin", b"http://localhost")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fresh_process_state(market_seed: None) -> None:
    ingest._instrument_ids.clear()
    consumers._known["at"] = 0.0


@pytest_asyncio.fixture
async def cleanup() -> AsyncIterator[list[WebsocketCommunicator]]:
    opened: list[WebsocketCommunicator] = []
    yield opened
    for communicator in opened:
        await communicator.disconnect()
    for hub_ in list(hub._hubs.values()):
        await hub_.close()
    hub._hubs.clear()
    await database_sync_to_async(connections.close_all)()


def _user(email: str = "meera@example.in") -> Any:
    return get_user_model().objects.create_user(email, "pw-Strong-2026")


def _session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _open(
    opened: list[WebsocketCommunicator], path: str = "/ws/", headers: list[Any] | None = None
) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    opened.append(communicator)
    return communicator, connected


async def _signed_in(opened: list[WebsocketCommunicator], user: Any) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(_session_cookie)(user)
    communicator, connected = await _open(opened, headers=[ORIGIN, (b"cookie", cookie)])
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator


async def _frame(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next frame of `kind`, skipping others (e.g. acks)."""
    for _ in range(10):
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


class TestAuthentication:
    async def test_no_cookie_is_closed_with_4401(self, cleanup: list[Any]) -> None:
        communicator, connected = await _open(cleanup)
        assert connected  # accepted only to deliver the close code
        assert (await communicator.receive_output(timeout=5))["code"] == 4401

    async def test_a_foreign_origin_is_refused_at_the_handshake(self, cleanup: list[Any]) -> None:
        user = await database_sync_to_async(_user)()
        cookie = await database_sync_to_async(_session_cookie)(user)
        _, connected = await _open(
            cleanup, headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)]
        )
        assert not connected

    async def test_a_valid_session_gets_hello_with_limits_and_feed(
        self, cleanup: list[Any]
    ) -> None:
        user = await database_sync_to_async(_user)()
        cookie = await database_sync_to_async(_session_cookie)(user)
        communicator, connected = await _open(cleanup, headers=[ORIGIN, (b"cookie", cookie)])
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["seq"] == 1
        assert hello["user"]["email"] == "meera@example.in"
        assert hello["limits"]["symbols"] == 500
        assert set(hello["feed"]) >= {"stale", "as_of", "provider"}
        assert get_gc_pacer().running  # apps/realtime/gcpace.py

    async def test_a_ticket_works_once(self, cleanup: list[Any]) -> None:
        user = await database_sync_to_async(_user)()
        ticket = await database_sync_to_async(ws_ticket_issue)(user=user)
        first, _ = await _open(cleanup, f"/ws/?ticket={ticket}")
        assert (await first.receive_json_from(timeout=5))["type"] == "hello"
        reused, _ = await _open(cleanup, f"/ws/?ticket={ticket}")
        assert (await reused.receive_output(timeout=5))["code"] == 4401

    async def test_an_expired_or_forged_ticket_is_refused(self, cleanup: list[Any]) -> None:
        from django.core.cache import cache

        user = await database_sync_to_async(_user)()
        ticket = await database_sync_to_async(ws_ticket_issue)(user=user)
        await database_sync_to_async(cache.delete)(f"ws-ticket:{ticket}")  # as after 30 s
        for path in (f"/ws/?ticket={ticket}", "/ws/?ticket=forged"):
            communicator, _ = await _open(cleanup, path)
            assert (await communicator.receive_output(timeout=5))["code"] == 4401


class TestFrames:
    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("not json", "bad_json"),
            ("[1, 2]", "bad_frame"),
            ('{"type": "dance"}', "unknown_type"),
            ('{"type": "subscribe", "topic": "gossip"}', "unknown_topic"),
            ('{"type": "subscribe", "topic": "quotes", "symbols": []}', "bad_frame"),
            ('{"type": "subscribe", "topic": "quotes", "symbols": ["NOT A/SYMBOL"]}',
             "bad_symbol"),
            ('{"type": "subscribe", "topic": "quotes", "symbols": ["NOSUCHCO"]}', "bad_symbol"),
            ('{"type": "subscribe", "topic": "watchlist", "id": "x"}', "bad_frame"),
        ],
    )
    async def test_bad_frames_get_an_error_frame_and_the_socket_stays_usable(
        self, cleanup: list[Any], text: str, code: str
    ) -> None:
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        await communicator.send_to(text_data=text)
        error = await communicator.receive_json_from(timeout=5)
        assert (error["type"], error["code"]) == ("error", code)
        await communicator.send_json_to({"type": "ping", "ref": "still-there"})
        pong = await communicator.receive_json_from(timeout=5)
        assert (pong["type"], pong["ref"]) == ("pong", "still-there")
        assert pong["seq"] == error["seq"] + 1

    async def test_too_many_symbols_are_refused(self, cleanup: list[Any]) -> None:
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        await communicator.send_json_to(
            {"type": "subscribe", "topic": "quotes", "symbols": [f"S{i}" for i in range(501)]}
        )
        assert (await communicator.receive_json_from(timeout=5))["code"] == "too_many_symbols"

    async def test_a_flooding_client_is_throttled_then_closed(
        self, cleanup: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(consumers, "FLOOD_GRACE_SECONDS", 0.2)
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        # ~200 frames/s for 0.6 s: far above 20/s, for longer than the grace period.
        for i in range(120):
            await communicator.send_json_to({"type": "ping", "ref": i})
            await asyncio.sleep(0.005)
        codes: list[Any] = []
        while True:
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                break
            codes.append(json.loads(output["text"]).get("code"))
        assert output["code"] == 4429
        assert "rate_limited" in codes


def _quote(symbol: str, price: str) -> Quote:
    p = Decimal(price)
    return Quote(symbol, "NSE", p, p, p, p, Decimal("100"), 10,
                 datetime(2026, 3, 2, 11, 0, tzinfo=IST), True)


class TestQuotes:
    async def test_subscribe_gets_a_snapshot_then_coalesced_ticks(
        self, cleanup: list[Any]
    ) -> None:
        user = await database_sync_to_async(_user)()
        await database_sync_to_async(ingest.quotes_ingest)(
            batch=[_quote("TCS", "3500.00")], source=DataSource.SIMULATED
        )
        from apps.market.quote_cache import quote_cache_put

        await database_sync_to_async(quote_cache_put)([_quote("TCS", "3500.00")])
        communicator = await _signed_in(cleanup, user)
        await communicator.send_json_to(
            {"type": "subscribe", "topic": "quotes", "symbols": ["TCS", "NSE:INFY"], "ref": "s"}
        )
        ack = await _frame(communicator, "subscribed")
        assert ack["symbols"] == ["NSE:TCS", "NSE:INFY"]
        snapshot = await _frame(communicator, "quote.snapshot")
        assert [q["last_price"] for q in snapshot["quotes"]] == ["3500.0000"]

        # Three ticks for TCS and one for INFY published quickly arrive coalesced.
        await database_sync_to_async(quotes_publish)(
            [_quote("TCS", "3501.00"), _quote("TCS", "3502.00")]
        )
        await database_sync_to_async(quotes_publish)(
            [_quote("TCS", "3503.50"), _quote("INFY", "1500.00")]
        )
        seen: dict[str, str] = {}
        while seen.get("TCS") != "3503.5000" or "INFY" not in seen:
            tick = await _frame(communicator, "quote.tick")
            for quote in tick["quotes"]:
                seen[quote["symbol"]] = quote["last_price"]
        assert seen == {"TCS": "3503.5000", "INFY": "1500.0000"}

    async def test_after_unsubscribing_no_more_ticks_arrive(self, cleanup: list[Any]) -> None:
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        await communicator.send_json_to({"type": "subscribe", "topic": "quotes",
                                         "symbols": ["ITC"]})
        await _frame(communicator, "quote.snapshot")
        await communicator.send_json_to({"type": "unsubscribe", "topic": "quotes",
                                         "symbols": ["ITC"]})
        await _frame(communicator, "unsubscribed")
        await database_sync_to_async(quotes_publish)([_quote("ITC", "450.00")])
        assert await communicator.receive_nothing(timeout=0.5)


    async def test_the_instrument_list_is_loaded_once_however_many_sockets_ask(self) -> None:
        """Expired while 50 sockets subscribe at once: one load (ws_sync opens one database
        connection per call), not 50 queued on the sync thread."""
        from django.db.backends.signals import connection_created

        opened: list[object] = []

        def count(sender: object, connection: object, **kwargs: object) -> None:
            opened.append(connection)

        connection_created.connect(count)
        try:
            results = await asyncio.gather(
                *(consumers.known_instrument_keys() for _ in range(50))
            )
        finally:
            connection_created.disconnect(count)
        assert len(opened) == 1
        assert ("NSE", "TCS") in results[0]
        assert all(result is results[0] for result in results)


class TestSessionEnd:
    async def test_logout_elsewhere_closes_the_users_sockets(self, cleanup: list[Any]) -> None:
        user = await database_sync_to_async(_user)()
        other = await database_sync_to_async(_user)("other@example.in")
        mine = await _signed_in(cleanup, user)
        theirs = await _signed_in(cleanup, other)

        def log_out_in_a_browser() -> None:
            client = Client()
            client.force_login(user)
            client.post("/accounts/logout/")

        await database_sync_to_async(log_out_in_a_browser)()
        assert (await mine.receive_output(timeout=5))["code"] == 4001
        assert await theirs.receive_nothing(timeout=0.5)

    async def test_events_published_to_the_user_group_arrive_numbered(
        self, cleanup: list[Any]
    ) -> None:
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        await database_sync_to_async(publish_now)(
            user_group(user.pk), {"type": "notification.new", "title": "TCS crossed ₹3,500"}
        )
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] == "notification.new"
        assert frame["seq"] == 2


def _redis_clients_of_this_database() -> int:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    try:
        return sum(1 for c in client.client_list() if str(c.get("db")) == db)
    finally:
        client.close()


class TestResources:
    async def test_closed_sockets_leave_nothing_behind_in_the_process(
        self, cleanup: list[Any]
    ) -> None:
        from channels.layers import get_channel_layer

        from apps.realtime.feedwatch import get_feed_watch
        from apps.realtime.watchdog import get_watchdog

        user = await database_sync_to_async(_user)()
        await _signed_in(cleanup, user)  # the process's pools exist from here on
        before = await database_sync_to_async(_redis_clients_of_this_database)()
        sockets = [await _signed_in(cleanup, user) for _ in range(30)]
        for n, communicator in enumerate(sockets):
            symbols = ["TCS", "INFY", "ITC", "SBIN"][n % 3:n % 3 + 2]
            await communicator.send_json_to({"type": "subscribe", "topic": "quotes",
                                             "symbols": symbols})
            await _frame(communicator, "quote.snapshot")
        during = await database_sync_to_async(_redis_clients_of_this_database)()
        # Not one Redis connection per socket (Django's cache is per async context).
        assert during - before < 5

        for communicator in [*cleanup]:
            await communicator.disconnect()
        cleanup.clear()
        await asyncio.sleep(0.2)
        quote_hub = hub.get_hub()
        assert quote_hub.watchers == {}
        assert quote_hub.groups == {}
        assert quote_hub.channels == {}
        assert quote_hub._batch == {}
        assert get_feed_watch().listeners == set()
        assert get_watchdog().writing == {}
        layer = get_channel_layer()._get_layer()  # type: ignore[union-attr]
        assert layer.groups == {}
        assert layer.channels == {}


class TestQuoteHubOutage:
    async def test_redis_unreachable_gives_an_error_frame_and_a_later_subscribe_works(
        self, cleanup: list[Any], settings: Any
    ) -> None:
        user = await database_sync_to_async(_user)()
        communicator = await _signed_in(cleanup, user)
        working_url = settings.REDIS_URL
        settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
        await communicator.send_json_to({"type": "subscribe", "topic": "quotes",
                                         "symbols": ["TCS"], "ref": "r1"})
        error = await _frame(communicator, "error")
        assert (error["code"], error["ref"]) == ("unavailable", "r1")
        assert hub.get_hub().watchers == {}  # nothing half-registered

        settings.REDIS_URL = working_url
        await communicator.send_json_to({"type": "subscribe", "topic": "quotes",
                                         "symbols": ["TCS"], "ref": "r2"})
        await _frame(communicator, "quote.snapshot")
        await database_sync_to_async(quotes_publish)([_quote("TCS", "3600.00")])
        tick = await _frame(communicator, "quote.tick")
        assert tick["quotes"][0]["last_price"] == "3600.0000"
