"""WebSocket authentication: single-use tickets for mobile clients."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.db import connections

from apps.accounts.tickets import ws_ticket_issue
from apps.realtime.routing import WebSocketEntry


class WhoAmI(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        await self.send_json({"email": user.email if user.is_authenticated else None})


def _app() -> Any:
    return WebSocketEntry(WhoAmI)


async def _who(path: str) -> Any:
    communicator = WebsocketCommunicator(_app(), path, headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect()
    assert connected
    body = await communicator.receive_json_from()
    await communicator.disconnect()
    # The worker thread's connection would otherwise block dropping the test database.
    await database_sync_to_async(connections.close_all)()
    return body["email"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_ticket_authenticates_one_connection_only(user: Any) -> None:
    ticket = await database_sync_to_async(ws_ticket_issue)(user=user)
    assert await _who(f"/ws/?ticket={ticket}") == user.email
    assert await _who(f"/ws/?ticket={ticket}") is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_no_ticket_means_anonymous() -> None:
    assert await _who("/ws/") is None
    assert await _who("/ws/?ticket=forged") is None


@pytest.mark.asyncio
async def test_other_paths_and_foreign_origins_are_refused_at_the_handshake() -> None:
    for path, origin in (("/ws/other/", b"http://localhost"), ("/ws/", b"https://evil.example"),
                         ("/ws/", b"http://[bad")):
        communicator = WebsocketCommunicator(_app(), path, headers=[(b"origin", origin)])
        connected, _ = await communicator.connect()
        assert not connected, (path, origin)
        await communicator.disconnect()
    communicator = WebsocketCommunicator(_app(), "/ws/")  # no Origin header at all
    connected, _ = await communicator.connect()
    assert not connected
