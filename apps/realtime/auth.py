"""WebSocket authentication: the session cookie (browsers) or a single-use ticket (mobile).

One call per handshake (`scope_authenticate`, made by `routing.WebSocketEntry`), one database
round trip, and nothing left in the send path:
Channels' `AuthMiddlewareStack` would wrap every outgoing frame in its session-saving `send`
(about a quarter of the server's CPU in the fan-out benchmark) and keep three copies of the
scope plus a session object alive per connection. A WebSocket never changes the session, so
the user is resolved once at the handshake and the session is not kept; the scope gets a
`SocketUser` (id and e-mail) rather than the ~2 KB `User` instance, for as long as the
socket is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string

from apps.accounts.tickets import ws_ticket_redeem
from apps.realtime.sync import ws_sync


@dataclass(frozen=True, slots=True)
class SocketUser:
    """The authenticated user of a WebSocket, as `scope["user"]`."""

    pk: int
    email: str
    is_authenticated = True

    @property
    def id(self) -> int:
        return self.pk

    def as_model(self) -> Any:
        """An unsaved `User` carrying the primary key: enough for ORM filters, no query."""
        return get_user_model()(pk=self.pk, email=self.email)


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    for header, value in scope.get("headers", ()):
        if header == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header authenticates nobody
                return None
            morsel = jar.get(name)
            return morsel.value if morsel is not None else None
    return None


def _session_user(session_key: str) -> Any:
    """Django's own `get_user` on the stored session (checks the password hash too)."""
    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return get_user(SimpleNamespace(session=store_class(session_key)))  # type: ignore[arg-type]


@ws_sync
def resolve_user(*, ticket: str | None, session_key: str | None) -> Any:
    user = _session_user(session_key) if session_key else None
    if (user is None or not user.is_authenticated) and ticket:
        user = ws_ticket_redeem(ticket=ticket)
    if user is None or not user.is_authenticated:
        return AnonymousUser()
    return SocketUser(pk=user.pk, email=user.email)


async def scope_authenticate(scope: dict[str, Any]) -> None:
    """Set `scope["user"]` from the session cookie, else from `/ws/?ticket=…`."""
    tickets = parse_qs(scope.get("query_string", b"").decode()).get("ticket")
    # Set in place, not on a copy: the server's scope is not read again, and a copy would
    # stay alive with the connection.
    scope["user"] = await resolve_user(
        ticket=tickets[0] if tickets else None,
        session_key=_cookie(scope, settings.SESSION_COOKIE_NAME),
    )
