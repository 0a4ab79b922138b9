"""WebSocket frames written straight to the TCP transport, under uvicorn's `websockets-sansio`.

At 5,000 sockets one batch of ticks is 5,000 frames written one after another by one event
loop, and the time the last one leaves is the fan-out's p99 (docs/realtime.md, "Fifth
round"). Through ASGI each frame costs a `send` coroutine, uvicorn's checks and websockets'
frame object and serialisation, around 60 % on top of the `send()` system call itself. Here,
while the connection is open and the transport takes data, a frame is a two-to-ten byte
header and the payload, handed to `transport.write` — the bytes websockets would produce for
an unfragmented, uncompressed text frame from a server (RFC 6455 §5.2).

Only `quote.tick` frames take this path (consumers.py); control frames are few and keep
going through ASGI. A quote frame that is not plainly writable goes through ASGI as before:
a transport that paused writing (the client reads too slowly; the ASGI `send` waits for
it), a closing connection, and every server other than uvicorn's sans-I/O protocol (daphne,
the test communicator).
When the client negotiated permessage-deflate, direct frames go uncompressed with RSV1 clear,
which RFC 7692 allows message by message; frames sent through ASGI stay compressed.

The frame itself is written with one `os.write` on the socket while the transport holds
nothing unsent (what the kernel does not take goes to `transport.write`, which queues it the
asyncio way): `transport.write`'s own Python checks, about 2 µs a frame, were close to half
of what the rest of a quote frame costs in Python (docs/realtime.md, "Seventh round").
That is safe because a frame is written only while `ready()`: a transport that is not
closing still owns its socket, so the descriptor cannot have been closed and reused. A TLS
transport has no such shortcut (the bytes must be encrypted): it always goes through
`transport.write`.

`abort_transport` is the other use of the transport under ASGI: dropping a client whose
close frame cannot be written (the slow-client watchdog).
"""

from __future__ import annotations

import os
import struct
from typing import Any

from websockets.protocol import State

_TEXT_FIN = 0x81  # FIN + opcode 1 (text); no RSV bits, no mask (a server never masks)

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn is a dependency; daphne needs no fast path
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")


def text_frame_header(length: int) -> bytes:
    """The header of a final, unmasked text frame carrying `length` payload bytes."""
    if length < 126:
        return bytes((_TEXT_FIN, length))
    if length < 65536:
        return _HEADER_16.pack(_TEXT_FIN, 126, length)
    return _HEADER_64.pack(_TEXT_FIN, 127, length)


class DirectWriter:
    """Writes text frames for one connection of uvicorn's `websockets-sansio` protocol.

    The protocol's transport, sans-I/O connection and `writable` event are made before the
    ASGI application starts and never replaced, so they are looked up once here: `ready` is
    called once per socket per batch (docs/realtime.md, "Sixth round")."""

    __slots__ = ("conn", "fd", "protocol", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport = protocol.transport
        self.conn = protocol.conn
        self.writable = protocol.writable
        self.fd = _plain_socket_fd(self.transport)

    def ready(self) -> bool:
        """True while a frame can be written now: the handshake is done, nobody is closing
        and the transport has not asked its writers to pause."""
        protocol = self.protocol
        return bool(
            self.writable.is_set()
            and protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and self.conn.state is State.OPEN
            and not self.transport.is_closing()
        )

    def write(self, head: bytes, body: bytes, tail: bytes) -> None:
        """One text frame whose UTF-8 payload is `head + body + tail`; call only when
        `ready()`."""
        header = text_frame_header(len(head) + len(body) + len(tail))
        data = b"".join((header, head, body, tail))
        transport = self.transport
        # Not on TLS, and never past bytes the transport still holds.
        if self.fd is not None and not transport.get_write_buffer_size():
            try:
                data = data[os.write(self.fd, data):]
                if not data:
                    return
            except OSError:
                # Would block, or the client is gone: the transport queues the frame, or
                # meets the same error and closes the connection its own way.
                pass
        transport.write(data)  # what is left, in order


def _plain_socket_fd(transport: Any) -> int | None:
    """The descriptor of the socket under a plain (not TLS) transport, else None."""
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    return None if sock is None else int(sock.fileno())


def _server_protocol(send: Any) -> Any:
    """uvicorn's `send` is a bound method of its protocol object, which holds the transport."""
    return getattr(send, "__self__", None)


def direct_writer(send: Any) -> DirectWriter | None:
    """A writer for the connection behind an ASGI `send`, if its server allows one."""
    protocol = _server_protocol(send)
    if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    return DirectWriter(protocol)


def abort_transport(send: Any) -> None:
    """Drop the TCP connection behind an ASGI `send` whose close frame cannot be written.

    ASGI has no "abort"; under uvicorn the transport is at hand. Under another server the
    socket stays until TCP gives up, but the connection no longer receives anything
    (`closing`), so it costs no more memory.
    """
    transport = getattr(_server_protocol(send), "transport", None)
    if transport is not None:
        transport.abort()
