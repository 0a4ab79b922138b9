"""WebSocket test helpers: signed-in sockets on the real `/ws/` application.

Use with the `sockets` fixture (conftest.py), which disconnects what a test opened.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def signed_in_socket(opened: list[WebsocketCommunicator], user: Any) -> WebsocketCommunicator:
    """A connected socket of `user` (session cookie), past its `hello` frame."""
    from config.asgi import application

    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(application, "/ws/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    opened.append(communicator)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator
