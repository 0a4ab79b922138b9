"""Frames written straight to the transport (apps/realtime/wire.py).

The header must be the one websockets itself would write, and against a real `ws` server
(uvicorn websockets-sansio, tests/servers.py) a client that negotiated permessage-deflate
must read the uncompressed quote frames among the compressed ones the ASGI path writes.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

from apps.market.providers.base import Quote
from apps.realtime.quotes import quotes_publish
from apps.realtime.wire import direct_writer, text_frame_header
from tests.servers import asgi_server
from tests.ws import session_cookie


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 70000])
def test_the_header_is_what_websockets_writes_for_a_server_text_frame(length: int) -> None:
    payload = b"x" * length
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False)
    assert text_frame_header(length) + payload == expected


def test_only_uvicorns_sans_io_protocol_gets_a_direct_writer() -> None:
    async def send(message: dict[str, Any]) -> None:
        pass

    assert direct_writer(send) is None  # a plain ASGI callable (daphne, test communicators)


@pytest.mark.django_db(transaction=True)
def test_a_compressing_client_reads_direct_quote_frames_between_compressed_ones(
    market_seed: None, user: Any, settings: Any
) -> None:
    cookie = session_cookie(user).decode()
    with asgi_server(settings) as server, contextlib.ExitStack() as stack:
        ws = stack.enter_context(connect(
            server.ws_url, additional_headers={"Cookie": cookie, "Origin": "http://localhost"},
            compression="deflate", open_timeout=10,
        ))
        assert ws.protocol.extensions, "the server accepted permessage-deflate"
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello"
        ws.send(json.dumps({"type": "subscribe", "topic": "quotes",
                            "symbols": ["NSE:TCS", "NSE:INFY"]}))
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["type"] != "quote.snapshot":
            seen.append(json.loads(ws.recv(timeout=10)))

        frames: list[dict[str, Any]] = []
        for step in range(3):
            price = Decimal("3500") + step
            now = datetime.now(UTC)
            quotes_publish([Quote("TCS", "NSE", price, price, price, price, price, step, now,
                                  True),
                            Quote("INFY", "NSE", price, price, price, price, price, step, now,
                                  True)])
            ws.send(json.dumps({"type": "ping", "ref": f"p{step}"}))
            while sum(f["type"] == "quote.tick" for f in frames) <= step:
                frames.append(json.loads(ws.recv(timeout=10)))
        ticks = [f for f in frames if f["type"] == "quote.tick"]
        assert [sorted(q["symbol"] for q in t["quotes"]) for t in ticks] == [["INFY", "TCS"]] * 3
        assert [t["quotes"][0]["volume"] for t in ticks] == [0, 1, 2]
        assert any(f["type"] == "pong" for f in frames)
        # One numbering for both kinds of frame, without a gap.
        numbers = [f["seq"] for f in [hello, *seen, *frames]]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
