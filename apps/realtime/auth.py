"""WebSocket authentication: the session cookie (browsers) or a single-use ticket (mobile)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from apps.accounts.tickets import ws_ticket_redeem


class TicketAuthMiddleware(BaseMiddleware):
    """`/ws/?ticket=…` sets scope["user"]; it runs after the session check."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        tickets = query.get("ticket")
        if tickets:
            user = await database_sync_to_async(ws_ticket_redeem)(ticket=tickets[0])
            if user is not None:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def WebSocketAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - mirrors Channels' naming
    return AuthMiddlewareStack(TicketAuthMiddleware(inner))
