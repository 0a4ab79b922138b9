"""`ws_sync`: call Django's synchronous ORM and cache code from the `ws` process.

Channels' `database_sync_to_async` runs the function in a copy of the calling task's context
and copies changes back. Django keeps its cache and database connections in context-local
storage, so every WebSocket connection ended up owning its own cache client with its own
Redis connection pool, for as long as the socket stayed open: one Redis connection and about
5 KB per WebSocket, measured (320 sockets → 324 Redis clients). Here every call runs in one
context shared by the process instead, on asgiref's single sync thread (so the context is
never entered twice at once), the way a WSGI worker thread reuses its connections. Database
connections are closed after each call, whatever `DB_CONN_MAX_AGE` says: a `ws` process
touches the database only at a handshake or a subscription, and thousands of sockets must
not hold PostgreSQL connections.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

P = ParamSpec("P")
R = TypeVar("R")

_CONTEXT = contextvars.Context()


def ws_sync(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Decorator: an async version of `fn` that runs in the process's shared context."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        def call() -> R:
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()

        return _CONTEXT.run(call)

    return sync_to_async(run, thread_sensitive=True)
