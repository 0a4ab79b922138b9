"""The hot copy of each instrument's latest quote, in Redis (through Django's cache)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from django.core.cache import cache

from apps.market.providers.base import Quote


def _key(exchange: str, symbol: str) -> str:
    # Index symbols contain spaces ("NIFTY 50"), which memcached-safe key checks warn about.
    return f"market:quote:{exchange}:{quote(symbol, safe='')}"


def quote_cache_put(quotes: Iterable[Quote]) -> None:
    cache.set_many({_key(q.exchange, q.symbol): q for q in quotes}, timeout=None)


def quote_cache_get_many(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Quote]:
    """Latest quotes by (exchange, symbol); missing ones are left out."""
    wanted = {_key(exchange, symbol): (exchange, symbol) for exchange, symbol in keys}
    found: dict[str, Any] = cache.get_many(list(wanted))
    return {wanted[key]: quote for key, quote in found.items()}
