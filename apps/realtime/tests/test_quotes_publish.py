"""`quotes_publish` sends a batch as one Redis transaction, so every `ws` process gets it whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from apps.market.providers.base import Quote
from apps.realtime import quotes
from apps.realtime.quotes import quote_channel, quotes_publish


def _quote(symbol: str, price: str) -> Quote:
    p = Decimal(price)
    return Quote(symbol, "NSE", p, p, p, p, p, 1000, datetime(2026, 11, 26, 5, 0, tzinfo=UTC),
                 True)


@pytest.mark.django_db
def test_a_batch_is_one_transaction_with_the_latest_quote_per_symbol() -> None:
    publisher = quotes._redis()
    address = publisher.client_info()["addr"]  # MONITOR names each command's connection
    watcher = redis.Redis.from_url(settings.REDIS_URL)
    with watcher.monitor() as monitor:
        assert quotes_publish([_quote("TCS", "3500"), _quote("INFY", "1500"),
                               _quote("TCS", "3501")]) == 2
        seen: list[list[str]] = []
        # MULTI, two PUBLISHes, EXEC; without a transaction, the two PUBLISHes alone.
        while len(seen) < (4 if seen and seen[0][0] == "MULTI" else 2):
            command = monitor.next_command()
            if f"{command['client_address']}:{command['client_port']}" == address:
                seen.append(command["command"].split(" ", 2))
    watcher.close()

    assert [c[0] for c in seen] == ["MULTI", "PUBLISH", "PUBLISH", "EXEC"]
    published = {c[1]: json.loads(c[2]) for c in seen[1:3]}
    assert set(published) == {quote_channel("NSE", "TCS"), quote_channel("NSE", "INFY")}
    assert published[quote_channel("NSE", "TCS")]["last_price"] == "3501.0000"  # the latest wins
