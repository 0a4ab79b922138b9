"""`portfolio.update` over /ws/: snapshot on subscribe, live values from ticks (throttled),
a fresh replay after a transaction change, owner-only access."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from apps.market import ingest
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_put
from apps.portfolios import live
from apps.portfolios.tests.conftest import quote_set, tx_add
from apps.realtime import consumers, hub
from apps.realtime.quotes import quotes_publish
from tests.ws import signed_in_socket

IST = ZoneInfo("Asia/Kolkata")
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fresh_process_state(market_seed: None, settings: Any) -> None:
    ingest._instrument_ids.clear()
    consumers._known["at"] = 0.0
    settings.PORTFOLIO_LIVE_INTERVAL = 1


@pytest_asyncio.fixture
async def opened() -> AsyncIterator[list[WebsocketCommunicator]]:
    sockets: list[WebsocketCommunicator] = []
    yield sockets
    for communicator in sockets:
        await communicator.disconnect()
    for registry in list(live.get_live_portfolios.instances.values()):
        await registry.close()
    live.get_live_portfolios.instances.clear()
    for hub_ in list(hub._hubs.values()):
        await hub_.close()
    hub._hubs.clear()
    await database_sync_to_async(connections.close_all)()


async def _next(communicator: WebsocketCommunicator, kind: str, timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        frame = await communicator.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if frame["type"] == kind:
            return frame


def _tick(symbol: str, price: str, prev_close: str = "2400") -> Quote:
    p = Decimal(price)
    return Quote(symbol, "NSE", p, p, p, p, Decimal(prev_close), 1000,
                 datetime(2024, 6, 4, 11, 0, tzinfo=IST), True)


def _holding(user: Any, instruments: dict[str, Any], portfolio: Any) -> None:
    # 10 RELIANCE at 2,300 + 20 charges: cost 23,020. Quote: 2,500 (prev close 2,400).
    tx_add(portfolio, "buy", datetime(2024, 5, 31, 10, 0, tzinfo=IST), instruments["RELIANCE"],
           quantity="10", price="2300", brokerage="20")
    quote_set(instruments["RELIANCE"], "2500", "2400")


async def test_subscribing_sends_the_current_values_first(
    opened: list[Any], user: Any, instruments: Any, portfolio: Any
) -> None:
    await database_sync_to_async(_holding)(user, instruments, portfolio)
    socket = await signed_in_socket(opened, user)
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": portfolio.pk,
                               "ref": 1})
    ack = await _next(socket, "subscribed")
    assert ack == {"type": "subscribed", "topic": "portfolio", "id": portfolio.pk, "ref": 1,
                   "seq": ack["seq"]}
    update = await _next(socket, "portfolio.update")
    assert update["portfolio"] == portfolio.pk
    assert update["total_value"] == "25000.00"  # 10 × 2,500
    assert update["profit_loss"] == "1980.00"  # 25,000 − 23,020
    assert update["day_change"] == "1000.00"  # 10 × (2,500 − 2,400)
    assert update["holdings"][0]["symbol"] == "NSE:RELIANCE"
    assert update["allocation"] == [{"symbol": "NSE:RELIANCE", "value": "25000.00",
                                     "weight": "1.0000"}]


async def test_ticks_revalue_at_most_once_a_second(
    opened: list[Any], user: Any, instruments: Any, portfolio: Any
) -> None:
    await database_sync_to_async(_holding)(user, instruments, portfolio)
    socket = await signed_in_socket(opened, user)
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": portfolio.pk})
    await _next(socket, "portfolio.update")
    # Joining counted as a push: ticks within the next second wait for the interval, and
    # only the latest price counts.
    started = time.monotonic()
    for price in ("2510", "2520", "2550"):
        await database_sync_to_async(quotes_publish)([_tick("RELIANCE", price)])
        await asyncio.sleep(0.05)
    update = await _next(socket, "portfolio.update", timeout=3)
    waited = time.monotonic() - started
    assert update["total_value"] == "25500.00"
    assert update["day_change"] == "1500.00"
    assert 0.5 <= waited <= 2.5
    assert await socket.receive_nothing(timeout=1.2)  # no tick → no frame


async def test_two_sockets_of_one_portfolio_share_one_valuation(
    opened: list[Any], user: Any, instruments: Any, portfolio: Any
) -> None:
    await database_sync_to_async(_holding)(user, instruments, portfolio)
    first, second = await signed_in_socket(opened, user), await signed_in_socket(opened, user)
    for socket in (first, second):
        await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": portfolio.pk})
        await _next(socket, "portfolio.update")
    registry = next(iter(live.get_live_portfolios.instances.values()))
    assert len(registry.open) == 1
    assert len(registry.open[portfolio.pk].sockets) == 2
    await asyncio.sleep(1.05)
    await database_sync_to_async(quotes_publish)([_tick("RELIANCE", "2600")])
    for socket in (first, second):
        assert (await _next(socket, "portfolio.update"))["total_value"] == "26000.00"
    await first.disconnect()
    opened.remove(first)
    await second.send_json_to({"type": "unsubscribe", "topic": "portfolio", "id": portfolio.pk})
    await _next(second, "unsubscribed")
    assert registry.open == {}


async def test_a_transaction_change_is_announced_and_revalued_at_once(
    opened: list[Any], user: Any, instruments: Any, portfolio: Any
) -> None:
    await database_sync_to_async(_holding)(user, instruments, portfolio)
    socket = await signed_in_socket(opened, user)
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": portfolio.pk})
    await _next(socket, "portfolio.update")
    await database_sync_to_async(tx_add)(
        portfolio, "buy", datetime(2024, 6, 1, 10, 0, tzinfo=IST), instruments["RELIANCE"],
        quantity="5", price="2450",
    )
    changed = await _next(socket, "portfolio.changed")
    assert changed["id"] == portfolio.pk
    update = await _next(socket, "portfolio.update")
    assert update["holdings"][0]["quantity"] == "15.000000"
    assert update["total_value"] == "37500.00"  # 15 × 2,500


async def test_another_users_portfolio_is_not_found(
    opened: list[Any], user: Any, other_user: Any, instruments: Any, portfolio: Any
) -> None:
    await database_sync_to_async(_holding)(user, instruments, portfolio)
    socket = await signed_in_socket(opened, other_user)
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": portfolio.pk,
                               "ref": "x"})
    error = await _next(socket, "error")
    assert (error["code"], error["ref"]) == ("not_found", "x")
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": 987654})
    assert (await _next(socket, "error"))["code"] == "not_found"
    await socket.send_json_to({"type": "subscribe", "topic": "portfolio", "id": "1"})
    assert (await _next(socket, "error"))["code"] == "bad_frame"
    await database_sync_to_async(quote_cache_put)([_tick("RELIANCE", "2700")])
    await database_sync_to_async(quotes_publish)([_tick("RELIANCE", "2700")])
    assert await socket.receive_nothing(timeout=1.0)  # nothing of the owner's leaks
