"""Frames written straight to the transport (apps/realtime/wire.py).

The header must be the one websockets itself would write; a frame goes to the socket only
while the transport holds nothing unsent, never on TLS; and against a real `ws` server
(uvicorn websockets-sansio, tests/servers.py) a client that negotiated permessage-deflate
must read the uncompressed quote frames among the compressed ones the ASGI path writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import connect

from apps.market.providers.base import Quote
from apps.realtime.quotes import quotes_publish
from apps.realtime.wire import DirectWriter, direct_writer, text_frame_header
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


# -- the write itself, on real asyncio TCP transports ---------------------------------------


class _Peer(asyncio.Protocol):
    """The server side of a test connection: keeps its transport."""

    def __init__(self, made: asyncio.Future[asyncio.Transport]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.set_result(transport)  # type: ignore[arg-type]


def _open_protocol(transport: asyncio.Transport) -> SimpleNamespace:
    """The attributes DirectWriter reads from uvicorn's protocol, for an open connection."""
    writable = asyncio.Event()
    writable.set()
    return SimpleNamespace(transport=transport, conn=SimpleNamespace(state=State.OPEN),
                           writable=writable, handshake_complete=True, close_sent=False,
                           disconnected=False)


@contextlib.asynccontextmanager
async def _connection() -> AsyncIterator[tuple[asyncio.Transport, socket.socket]]:
    """A server transport and the client's blocking socket at the other end."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[asyncio.Transport] = loop.create_future()
    server = await loop.create_server(lambda: _Peer(made), "127.0.0.1", 0)
    client = socket.create_connection(server.sockets[0].getsockname()[:2])
    try:
        yield await asyncio.wait_for(made, 5), client
    finally:
        client.close()
        server.close()


async def _read(client: socket.socket, size: int) -> bytes:
    def read() -> bytes:
        client.settimeout(10)
        data = bytearray()
        while len(data) < size:
            chunk = client.recv(size - len(data))
            assert chunk, "connection closed early"
            data += chunk
        return bytes(data)

    return await asyncio.to_thread(read)


@pytest.mark.asyncio
async def test_a_frame_goes_straight_to_the_socket_when_the_transport_holds_nothing() -> None:
    async with _connection() as (transport, client):
        writer = DirectWriter(_open_protocol(transport))
        assert writer.fd == transport.get_extra_info("socket").fileno()
        assert writer.ready()
        writer.write(b'{"seq":1,"quotes":[', b'{"s":"TCS"}', b"]}")
        assert transport.get_write_buffer_size() == 0
        payload = b'{"seq":1,"quotes":[{"s":"TCS"}]}'
        assert await _read(client, 2 + len(payload)) == text_frame_header(len(payload)) + payload


@pytest.mark.asyncio
async def test_a_frame_queues_behind_the_bytes_the_transport_still_holds() -> None:
    async with _connection() as (transport, client):
        writer = DirectWriter(_open_protocol(transport))
        backlog = bytes(range(256)) * 40_000  # ~10 MB: more than the kernel takes unread
        transport.write(backlog)
        assert transport.get_write_buffer_size() > 0
        # The client reads some: the kernel has room again, but the transport has not run
        # (no await), so it still holds the rest of the backlog.
        client.settimeout(10)
        head = bytearray()
        while len(head) < 1_000_000:
            chunk = client.recv(1_000_000)
            assert chunk, "connection closed early"
            head += chunk
        assert transport.get_write_buffer_size() > 0
        writer.write(b"[", b"1", b"]")
        frame = text_frame_header(3) + b"[1]"
        # In order: written past the transport's queue, the frame would land inside it.
        rest = await _read(client, len(backlog) + len(frame) - len(head))
        in_order = bytes(head) + rest == backlog + frame  # (no 10 MB diff from pytest)
        assert in_order, "the frame overtook bytes the transport held"


@pytest.mark.asyncio
async def test_a_write_to_a_client_that_reset_closes_the_transport_quietly() -> None:
    async with _connection() as (transport, client):
        writer = DirectWriter(_open_protocol(transport))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # RST
        await asyncio.sleep(0.05)
        for _ in range(3):
            if not writer.ready():
                break
            writer.write(b"[", b"1", b"]")  # never raises
            await asyncio.sleep(0.05)
        assert transport.is_closing()


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


@pytest.mark.asyncio
async def test_a_tls_transport_is_always_written_through_the_transport(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    made: asyncio.Future[asyncio.Transport] = loop.create_future()
    server = await loop.create_server(lambda: _Peer(made), "127.0.0.1", 0,
                                      ssl=_self_signed(tmp_path))
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    _reader, client = await asyncio.open_connection(
        *server.sockets[0].getsockname()[:2], ssl=client_context)
    try:
        transport = await asyncio.wait_for(made, 5)
        assert transport.get_extra_info("socket") is not None  # the raw socket is there...
        assert DirectWriter(_open_protocol(transport)).fd is None  # ...and never written to
    finally:
        client.close()
        server.close()
