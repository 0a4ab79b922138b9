"""A client that stops reading is disconnected; the others keep their quotes.

Against a real `ws` server process (uvicorn, tests/servers.py): only a real socket can fill
up. The stuck client shrinks its receive buffer and subscribes to every instrument, so a few
hundred kilobytes of quote frames fill the path to it within a second or two.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from apps.market.models import Instrument
from apps.market.providers.base import Quote
from apps.realtime.quotes import quotes_publish
from tests.servers import asgi_server
from tests.ws import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _connect(stack: contextlib.ExitStack, url: str, cookie: str, *,
             receive_buffer: int | None = None) -> ClientConnection:
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0])))
    ws = stack.enter_context(connect(
        url, sock=sock, additional_headers={"Cookie": cookie, "Origin": "http://localhost"},
        compression=None, max_size=2**24, open_timeout=10, ping_interval=None,
    ))
    assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    return ws


def _subscribe(ws: ClientConnection, symbols: list[str]) -> None:
    ws.send(json.dumps({"type": "subscribe", "topic": "quotes", "symbols": symbols}))
    while json.loads(ws.recv(timeout=10))["type"] != "quote.snapshot":
        pass


def _read_for(ws: ClientConnection, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ws.recv(timeout=5)


def _batch(keys: list[tuple[str, str]], step: int) -> list[Quote]:
    price = Decimal("1000") + Decimal(step) / 20
    now = datetime.now(UTC)
    return [Quote(symbol, exchange, price, price, price, price, price, step, now, True)
            for exchange, symbol in keys]


def test_a_client_that_stops_reading_is_disconnected_and_others_keep_their_quotes(
    market_seed: None, user: Any, settings: Any
) -> None:
    cookie = session_cookie(user).decode()
    keys = list(Instrument.objects.filter(active=True).values_list("exchange__code", "symbol"))
    labels = [f"{exchange}:{symbol}" for exchange, symbol in keys]

    with (asgi_server(settings, env={"REALTIME_SLOW_CLIENT_SECONDS": "1"}) as server,
          contextlib.ExitStack() as stack):
        stuck = _connect(stack, server.ws_url, cookie, receive_buffer=4096)
        _subscribe(stuck, labels)
        healthy = _connect(stack, server.ws_url, cookie)
        _subscribe(healthy, labels[:1])

        # Ticks keep coming; `stuck` reads nothing from here on, `healthy` reads everything.
        evicted, step, healthy_ticks = False, 0, 0
        deadline = time.monotonic() + 30
        while not evicted and time.monotonic() < deadline:
            step += 1
            quotes_publish(_batch(keys, step))
            try:
                while True:
                    frame = json.loads(healthy.recv(timeout=0.02))
                    healthy_ticks += frame["type"] == "quote.tick"
            except TimeoutError:
                pass
            evicted = "ws closed (4408)" in server.log_text()
        assert evicted, "the stuck client was never disconnected"
        assert healthy_ticks > 10

        # What the stuck client finds when it reads again: what was buffered, then the end.
        with pytest.raises(ConnectionClosed):
            _read_for(stuck, seconds=20)
        # The healthy connection is untouched.
        quotes_publish(_batch(keys, step + 1))
        assert json.loads(healthy.recv(timeout=5))["type"] == "quote.tick"
