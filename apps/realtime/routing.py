"""`/ws/`: the Origin check, the route and authentication in one ASGI layer.

Channels' usual stack (`AllowedHostsOriginValidator(auth(URLRouter([path(..., as_asgi())])))`)
keeps one suspended coroutine per layer, and `URLRouter` a copy of the scope, alive for as
long as the socket is open. With thousands of idle sockets per `ws` process that is memory
spent on nothing (docs/realtime.md, "Fourth round"); `WebSocketEntry` makes the same checks —
the Origin with Channels' own matching against ALLOWED_HOSTS — and then runs the consumer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier

from apps.realtime.auth import scope_authenticate

WS_PATH = "/ws/"


def _origin(scope: dict[str, Any]) -> Any:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            try:
                return urlparse(value.decode("latin-1"))
            except ValueError:
                return None
    return None


class WebSocketEntry:
    """An ASGI app for WebSocket scopes: a foreign Origin or another path is refused during
    the handshake (403); otherwise the user is resolved and `consumer_class` takes over."""

    def __init__(self, consumer_class: type, path: str = WS_PATH) -> None:
        self.consumer_class = consumer_class
        self.path = path
        # Channels' validator, used only for its `valid_origin` (ALLOWED_HOSTS, DEBUG rules).
        self.origins = AllowedHostsOriginValidator(None)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("path") != self.path or not self.origins.valid_origin(_origin(scope)):
            return await WebsocketDenier()(scope, receive, send)
        await scope_authenticate(scope)
        return await self.consumer_class()(scope, receive, send)


def websocket_application() -> WebSocketEntry:
    from apps.realtime.consumers import RealtimeConsumer

    return WebSocketEntry(RealtimeConsumer)
