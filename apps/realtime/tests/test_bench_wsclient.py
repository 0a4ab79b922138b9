"""The fan-out bench's minimal WebSocket client (bench/wsclient.py): handshake and framing."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from typing import Any

import pytest

from bench.wsclient import HandshakeError, ReadPoller, WebSocketProtocol, accept_key

pytestmark = pytest.mark.asyncio


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: Any) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


class Recorder(WebSocketProtocol):
    def __init__(self) -> None:
        super().__init__("ws://127.0.0.1:8000/ws/", {"Origin": "http://127.0.0.1"})
        self.texts: list[str] = []
        self.codes: list[int | None] = []

    def text_received(self, text: str, received: float) -> None:
        self.texts.append(text)

    def closed(self, code: int | None) -> None:
        self.codes.append(code)


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """Unmasked, as a server sends it, built independently of the client's parser."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", b0, n) + payload
    if n < 65536:
        return struct.pack("!BBH", b0, 126, n) + payload
    return struct.pack("!BBQ", b0, 127, n) + payload


def client_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, unmasked payload) of what the client wrote; every frame must be masked."""
    frames, pos = [], 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert b1 & 0x80, "client frames are masked"
        n, pos = b1 & 0x7F, pos + 2
        if n == 126:
            n, pos = struct.unpack("!H", data[pos:pos + 2])[0], pos + 2
        mask, pos = data[pos:pos + 4], pos + 4
        frames.append((b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data[pos:pos + n]))))
        pos += n
    return frames


def feed(ws: Recorder, data: bytes) -> None:
    """As the transport does it, one read at a time."""
    ws.data_received(data, None)


def opened(ws: Recorder, transport: FakeTransport) -> None:
    ws.connection_made(transport)
    ws.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Accept: {accept_key(ws.key)}\r\n\r\n".encode()
    )
    transport.written.clear()


async def test_accept_key_matches_the_rfc_6455_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def test_request_carries_the_upgrade_headers_and_no_extensions() -> None:
    ws, transport = Recorder(), FakeTransport()
    ws.connection_made(transport)
    request = bytes(transport.written).decode()
    assert request.startswith("GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    for header in ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {ws.key}",
                   "Sec-WebSocket-Version: 13", "Origin: http://127.0.0.1"):
        assert f"\r\n{header}\r\n" in request
    assert "Extensions" not in request


async def test_a_refused_upgrade_is_reported_with_its_status() -> None:
    ws, transport = Recorder(), FakeTransport()
    ws.connection_made(transport)
    ws.data_received(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(HandshakeError, match="http 403"):
        await ws.opened
    assert transport.closing


async def test_a_wrong_accept_key_fails_the_handshake() -> None:
    ws, transport = Recorder(), FakeTransport()
    ws.connection_made(transport)
    ws.data_received(b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    with pytest.raises(HandshakeError, match="Accept"):
        await ws.opened


async def test_frames_of_every_length_encoding_survive_any_split() -> None:
    texts = ["hi", "é" * 100, "x" * 70_000]  # 7-bit, 16-bit and 64-bit lengths
    stream = b"".join(server_frame(1, t.encode()) for t in texts)
    for step in (1, 7, 1000, len(stream)):
        ws, transport = Recorder(), FakeTransport()
        opened(ws, transport)
        for i in range(0, len(stream), step):
            feed(ws, stream[i:i + step])
        assert ws.texts == texts


async def test_frames_right_after_the_response_head_are_not_lost() -> None:
    ws, transport = Recorder(), FakeTransport()
    ws.connection_made(transport)
    ws.data_received(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        + f"Sec-WebSocket-Accept: {accept_key(ws.key)}\r\n\r\n".encode()
        + server_frame(1, b'{"type":"hello"}')
    )
    await ws.opened
    assert ws.texts == ['{"type":"hello"}']


async def test_a_fragmented_message_is_joined_and_a_ping_inside_it_answered() -> None:
    ws, transport = Recorder(), FakeTransport()
    opened(ws, transport)
    ws.data_received(server_frame(1, b"ab", fin=False) + server_frame(9, b"p!")
                     + server_frame(0, b"cd", fin=False) + server_frame(0, b"ef"))
    assert ws.texts == ["abcdef"]
    assert client_frames(bytes(transport.written)) == [(10, b"p!")]


async def test_a_close_frame_is_reported_and_answered() -> None:
    ws, transport = Recorder(), FakeTransport()
    opened(ws, transport)
    ws.data_received(server_frame(8, struct.pack("!H", 4401) + b"bye") + server_frame(1, b"late"))
    ws.connection_lost(None)
    assert ws.codes == [4401]
    assert ws.texts == []
    assert client_frames(bytes(transport.written)) == [(8, struct.pack("!H", 4401))]
    assert transport.closing


async def test_a_lost_socket_is_reported_once_without_a_code() -> None:
    ws, transport = Recorder(), FakeTransport()
    opened(ws, transport)
    ws.connection_lost(None)
    ws.connection_lost(None)
    assert ws.codes == [None]


async def test_sent_text_is_masked() -> None:
    ws, transport = Recorder(), FakeTransport()
    opened(ws, transport)
    ws.send_text("x" * 300)
    assert client_frames(bytes(transport.written)) == [(1, b"x" * 300)]


@pytest.mark.parametrize("poller", [None, 0.05], ids=["add_reader", "read_in_rounds"])
async def test_over_a_real_socket_the_kernel_receive_time_comes_with_each_message(
    poller: float | None,
) -> None:
    """The client's process is busy (here: blocked) when a frame arrives: `received` is when
    the kernel got it, `read_at` when the process read it; reading in rounds changes only
    the second."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got_go, client_busy = threading.Event(), threading.Event()
    sent_at: list[float] = []

    def serve() -> None:  # a blocking server in a thread: it runs while the loop is blocked
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            key = next(line.split(": ", 1)[1] for line in head.decode().split("\r\n")
                       if line.lower().startswith("sec-websocket-key"))
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\n"
                         + f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n".encode())
            if client_frames(conn.recv(1024)) == [(1, b"go")]:
                got_go.set()
            client_busy.wait(5)
            time.sleep(0.05)
            conn.sendall(server_frame(1, b"tick"))
            sent_at.append(time.time())
            conn.recv(1024)  # until the client goes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    received: list[tuple[str, float, float]] = []

    class Timed(Recorder):
        def text_received(self, text: str, at: float) -> None:
            received.append((text, at, self.read_at))

    ws = Timed()
    ws.poller = ReadPoller(poller) if poller else None
    ws.port = port
    try:
        await ws.open()
        ws.send_text("go")
        for _ in range(500):
            if got_go.is_set():
                break
            await asyncio.sleep(0.01)
        client_busy.set()
        time.sleep(0.3)  # the process is busy: the frame arrives and waits in the socket
        for _ in range(500):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        ws.abort()
        if ws.poller is not None and ws.poller.task is not None:
            ws.poller.task.cancel()
        listener.close()
        thread.join(5)
    [(text, at, read_at)] = received
    assert text == "tick"
    assert abs(at - sent_at[0]) < 0.05  # the kernel's receive time, not the read's
    assert read_at - at >= 0.15
