"""Short-lived, single-use tickets that let mobile clients open a WebSocket.

A long-lived API token must never travel in a URL (it ends up in proxy logs); the
client trades it for a ticket valid for one connection within a minute.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

from apps.accounts.models import User

TICKET_TTL_SECONDS = 30
_KEY = "ws-ticket:{}"


def ws_ticket_issue(*, user: User) -> str:
    ticket = secrets.token_urlsafe(32)
    cache.set(_KEY.format(ticket), user.pk, timeout=TICKET_TTL_SECONDS)
    return ticket


def ws_ticket_redeem(*, ticket: str) -> User | None:
    """The ticket's user, once; None for an unknown, expired or already used ticket."""
    key = _KEY.format(ticket)
    user_id = cache.get(key)
    # Only the caller whose delete removed the key may use it: no double redemption.
    if user_id is None or not cache.delete(key):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
