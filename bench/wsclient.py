"""A minimal RFC 6455 client for bench processes holding many sockets.

The `websockets` asyncio client spends a task, a queue and several coroutine switches on every
frame; at 5,000 sockets that queueing showed up as server latency. Here a read costs one
`recvmsg`, a header parse per frame and a `text_received` call. No extensions (so no
compression), no TLS, text messages only (binary ones are dropped).

Each message comes with the time the kernel received its last bytes (`SO_TIMESTAMPNS`), so a
bench can tell the server's latency (publish → the data reached the client's socket) apart from
the time the client process itself took to get to the socket (`read_at`): on a machine whose
cores the clients share with the server, the second includes the clients' own queueing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import selectors
import socket
import struct
import time
from urllib.parse import urlsplit

try:
    from websockets.speedups import apply_mask
except ImportError:  # pure Python: XOR as one big integer

    def apply_mask(data: bytes, mask: bytes) -> bytes:  # type: ignore[misc]
        n = len(data)
        key = (mask * (n // 4 + 1))[:n]
        return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(
            n, "little"
        )


GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# One read buffer for every connection of the process: each read is consumed before the next.
# asyncio's plain protocols `recv(256 KiB)`, a fresh 256 KiB allocation per read (an
# mmap/munmap pair, ~30 µs on the bench machine: more than everything else a frame costs).
_READ_BUFFER = memoryview(bytearray(256 * 1024))
# Linux: SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD on 64-bit), a struct timespec per read.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_ANCILLARY = socket.CMSG_SPACE(16)
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
NO_STATUS, PROTOCOL_ERROR, INVALID_DATA = 1005, 1002, 1007
MAX_HEAD = 65536


def accept_key(key: str) -> str:
    digest = hashlib.sha1((key + GUID).encode(), usedforsecurity=False).digest()  # RFC 6455
    return base64.b64encode(digest).decode()


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame, masked with a random key as RFC 6455 requires of a client."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    mask = os.urandom(4)
    return head + mask + apply_mask(payload, mask)


class HandshakeError(Exception):
    """The upgrade failed; the message is the label a bench counts it under (`http 403`)."""


class ConnectionClosed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed {code or 'abnormal'}")
        self.code = code  # from the server's close frame; None if the socket just went


def _kernel_time(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return None


class ReadPoller:
    """Reads many sockets in rounds, every `interval` seconds, through an epoll of its own.

    A client process woken by every frame spends more CPU on wake-ups (an `epoll_wait` and a
    loop iteration per frame) than on the frames, and on a machine it shares with the server
    that CPU is taken from the server. Reading in rounds costs the measurement nothing: the
    latency is taken from the kernel's receive time, not from when the round read it.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.selector = selectors.EpollSelector()
        self.task: asyncio.Task[None] | None = None

    def add(self, transport: SocketTransport) -> None:
        self.selector.register(transport.fd, selectors.EVENT_READ, transport)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, transport: SocketTransport) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(transport.fd)

    async def _run(self) -> None:
        while True:
            for key, _ in self.selector.select(0):
                key.data._read_ready()
            await asyncio.sleep(self.interval)


class SocketTransport:
    """The part of `asyncio.Transport` the protocol uses, over a non-blocking TCP socket
    watched with `loop.add_reader` (or a `ReadPoller`): asyncio's own transports read with
    `recv`, which does not return the kernel's receive time (`recvmsg` does)."""

    def __init__(self, sock: socket.socket, protocol: WebSocketProtocol,
                 poller: ReadPoller | None = None) -> None:
        self.sock, self.protocol, self.poller = sock, protocol, poller
        self.loop = asyncio.get_running_loop()
        self.fd = sock.fileno()
        self.out = bytearray()  # what the socket did not take yet
        self.closed = False
        if poller is None:
            self.loop.add_reader(self.fd, self._read_ready)
        else:
            poller.add(self)

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.out:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._lost()
                return
            if sent == len(data):
                return
            self.loop.add_writer(self.fd, self._write_ready)
            data = data[sent:]
        self.out += data

    def _write_ready(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._lost()
            return
        del self.out[:sent]
        if not self.out:
            self.loop.remove_writer(self.fd)

    def _read_ready(self) -> None:
        try:
            n, ancillary, _, _ = self.sock.recvmsg_into([_READ_BUFFER], _ANCILLARY)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            n = 0
        if n == 0:
            self._lost()
            return
        self.protocol.data_received(bytes(_READ_BUFFER[:n]), _kernel_time(ancillary))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.poller is None:
                self.loop.remove_reader(self.fd)
            else:
                self.poller.remove(self)
            self.loop.remove_writer(self.fd)
            self.sock.close()

    abort = close

    def _lost(self) -> None:
        self.close()
        self.protocol.connection_lost(None)


class WebSocketProtocol:
    """One client connection. `await open()`, then `send_text`; subclasses override
    `text_received(text, received)` (`received`: when the kernel received the read that
    completed the message; `self.read_at`: when this process read it) and `closed(code)`,
    called once when an open connection ends (`code` from the server's close frame, None if
    there was none). A failed `open()` raises `HandshakeError` or `ConnectionClosed`."""

    def __init__(self, url: str, headers: dict[str, str],
                 poller: ReadPoller | None = None) -> None:
        self.poller = poller
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                 f"Host: {parts.netloc}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self.key}", "Sec-WebSocket-Version: 13",
                 *(f"{name}: {value}" for name, value in headers.items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.transport: asyncio.Transport | SocketTransport | None = None
        self.read_at = 0.0
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.fragment_opcode = 0
        self.ended = False

    async def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            await asyncio.get_running_loop().sock_connect(sock, (self.host, self.port))
        except BaseException:
            sock.close()
            raise
        self.connection_made(SocketTransport(sock, self, self.poller))
        await self.opened

    def send_text(self, text: str) -> None:
        self._write(OP_TEXT, text.encode())

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # --- hooks ---

    def text_received(self, text: str, received: float) -> None:
        pass

    def closed(self, code: int | None) -> None:
        pass

    # --- what the transport calls ---

    def connection_made(self, transport: asyncio.Transport | SocketTransport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(None)

    def data_received(self, data: bytes, received: float | None = None) -> None:
        """What one read brought; `received`: the kernel's receive time, if known."""
        self.read_at = time.time()
        if received is None:
            received = self.read_at
        if not self.opened.done():
            data = self._handshake(data)
            if not data:
                return
        if self.buffer:  # a frame spans reads: rare on loopback
            self.buffer += data
            data = bytes(self.buffer)
            self.buffer.clear()
        try:
            used = self._frames(data, received)
        except UnicodeDecodeError:
            self._fail(INVALID_DATA)
            return
        if used < len(data) and not self.ended:
            self.buffer += data[used:]

    # --- internals ---

    def _handshake(self, data: bytes) -> bytes:
        """Consume the HTTP response; return the bytes after it (frames already sent)."""
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._refuse("response head too large")
            return b""
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        rest = bytes(self.buffer[end + 4:])
        self.buffer.clear()
        status = head[0].split(" ", 2)
        code = int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
        fields: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        connection = {token.strip().lower() for token in fields.get("connection", "").split(",")}
        if code != 101:
            self._refuse(f"http {code}")
        elif fields.get("upgrade", "").lower() != "websocket" or "upgrade" not in connection:
            self._refuse("bad upgrade headers")
        elif fields.get("sec-websocket-accept") != accept_key(self.key):
            self._refuse("bad Sec-WebSocket-Accept")
        elif fields.get("sec-websocket-extensions"):
            self._refuse("extensions not offered")
        else:
            self.opened.set_result(None)
            return rest
        return b""

    def _frames(self, data: bytes, received: float) -> int:
        """Handle the complete frames in `data`; return how many bytes they took."""
        pos, n = 0, len(data)
        while n - pos >= 2 and not self.ended:
            b0, length = data[pos], data[pos + 1]
            start = pos + 2
            if length & 0x80:  # servers must not mask
                self._fail(PROTOCOL_ERROR)
                break
            if length == 126:
                if n - start < 2:
                    break
                length, start = int.from_bytes(data[start:start + 2], "big"), start + 2
            elif length == 127:
                if n - start < 8:
                    break
                length, start = int.from_bytes(data[start:start + 8], "big"), start + 8
            end = start + length
            if end > n:
                break
            pos = end
            if b0 == 0x80 | OP_TEXT and not self.fragment_opcode:  # the common case
                self.text_received(data[start:end].decode(), received)
            else:
                self._frame(b0, data[start:end], received)
        return pos

    def _frame(self, b0: int, payload: bytes, received: float) -> None:
        fin, opcode = b0 & 0x80, b0 & 0x0F
        if b0 & 0x70:  # RSV bits: no extension was negotiated
            self._fail(PROTOCOL_ERROR)
        elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
            if (opcode == OP_CONTINUATION) != bool(self.fragment_opcode):
                self._fail(PROTOCOL_ERROR)
                return
            if opcode != OP_CONTINUATION:
                self.fragment_opcode = opcode
            self.fragments.append(payload)
            if fin:
                message, kind = b"".join(self.fragments), self.fragment_opcode
                self.fragments, self.fragment_opcode = [], 0
                if kind == OP_TEXT:
                    self.text_received(message.decode(), received)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS
            self._write(OP_CLOSE, payload[:2])
            self._end(code)
        elif opcode != OP_PONG:
            self._fail(PROTOCOL_ERROR)

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def _refuse(self, reason: str) -> None:
        self.opened.set_exception(HandshakeError(reason))
        self.ended = True
        self.abort()

    def _fail(self, code: int) -> None:
        self._write(OP_CLOSE, code.to_bytes(2, "big"))
        self._end(None)

    def _end(self, code: int | None) -> None:
        """The connection is over: report it once, then let the kernel finish the close."""
        if self.ended:
            return
        self.ended = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionClosed(code))
        else:
            self.closed(code)
        if self.transport is not None:
            self.transport.close()
