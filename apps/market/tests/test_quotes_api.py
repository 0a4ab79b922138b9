"""Latest quotes: the batch endpoint and the quote on an instrument's detail."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.market.calendar import market_status
from apps.market.feed import FeedGuard
from apps.market.models import DataSource, Instrument, LatestQuote
from apps.market.providers import InstrumentRef, SimulatedProvider
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_put

pytestmark = pytest.mark.django_db

URL = "/api/v1/quotes/"
AT = datetime(2026, 1, 21, 5, 0, tzinfo=UTC)  # 10:30 IST


def _quote(symbol: str, exchange: str = "NSE", price: str = "1250.50") -> Quote:
    return Quote(
        symbol=symbol, exchange=exchange, last_price=Decimal(price),
        open=Decimal("1240"), high=Decimal("1260.25"), low=Decimal("1235.1"),
        prev_close=Decimal("1230"), volume=123_456, at=AT, simulated=True,
    )


def _stored(symbol: str, price: str = "2400.0000", exchange: str = "NSE") -> LatestQuote:
    instrument = Instrument.objects.get(symbol=symbol, exchange__code=exchange)
    return LatestQuote.objects.create(
        instrument=instrument, last_price=Decimal(price), open=Decimal("2390"),
        high=Decimal("2410"), low=Decimal("2380"), prev_close=Decimal("2450"),
        volume=5_000, at=AT, source=DataSource.YAHOO,
    )


def test_anonymous_callers_get_401(api_client: APIClient) -> None:
    assert api_client.get(URL, {"symbols": "TCS"}).status_code == 401


def test_quotes_come_from_the_cache_with_change_and_india_time(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asked on a Sunday: the market is closed, so a feed that never polled is not stale
    # (in market hours it would be; see test_feed.py) — whatever the hour the suite runs.
    monkeypatch.setattr("apps.market.feed._utcnow", lambda: datetime(2026, 1, 25, 5, 0, tzinfo=UTC))
    quote_cache_put([_quote("TCS")])
    response = auth_client.get(URL, {"symbols": "tcs"})
    assert response.status_code == 200
    assert response.json() == {
        "quotes": [
            {
                "symbol": "TCS", "exchange": "NSE", "last_price": "1250.5000",
                "change": "20.5000", "change_percent": "1.67", "open": "1240.0000",
                "high": "1260.2500", "low": "1235.1000", "prev_close": "1230.0000",
                "volume": 123_456, "at": "2026-01-21T10:30:00+05:30", "simulated": True,
                "stale": False, "as_of": None,
            }
        ],
        "unknown": [],
        "unavailable": [],
    }


def test_cache_misses_fall_back_to_the_stored_quote(
    auth_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    quote_cache_put([_quote("TCS")])
    _stored("RELIANCE")
    _stored("TCS", price="1.0000")  # older durable copy: the cache wins
    market_status(AT, "NSE")  # the trading calendar lives in Redis once read
    with django_assert_max_num_queries(2):  # instruments, then the stored misses
        response = auth_client.get(URL, {"symbols": "RELIANCE,TCS"})
    quotes = response.json()["quotes"]
    assert [(q["symbol"], q["last_price"]) for q in quotes] == [
        ("RELIANCE", "2400.0000"), ("TCS", "1250.5000")
    ]
    reliance = quotes[0]
    assert (reliance["change"], reliance["change_percent"]) == ("-50.0000", "-2.04")
    assert reliance["simulated"] is False


def test_unknown_symbols_are_listed_rather_than_failing(auth_client: APIClient) -> None:
    quote_cache_put([_quote("INFY")])
    response = auth_client.get(URL, {"symbols": "NOSUCH, infy ,,ZZZ,INFY"})
    assert response.status_code == 200
    body = response.json()
    assert [q["symbol"] for q in body["quotes"]] == ["INFY"]
    assert body["unknown"] == ["NOSUCH", "ZZZ"]


def test_known_instruments_without_any_quote_are_unavailable(auth_client: APIClient) -> None:
    body = auth_client.get(URL, {"symbols": "WIPRO"}).json()
    assert body == {"quotes": [], "unknown": [], "unavailable": ["WIPRO"]}


def test_the_exchange_picks_the_listing(auth_client: APIClient) -> None:
    quote_cache_put([_quote("SENSEX", exchange="BSE", price="80000")])
    default = auth_client.get(URL, {"symbols": "SENSEX"}).json()
    assert default["quotes"][0]["exchange"] == "BSE"
    on_nse = auth_client.get(URL, {"symbols": "SENSEX", "exchange": "NSE"}).json()
    assert on_nse["unknown"] == ["SENSEX"]


def test_up_to_200_symbols_a_call(auth_client: APIClient) -> None:
    two_hundred = ",".join(f"SYM{i}" for i in range(200))
    ok = auth_client.get(URL, {"symbols": two_hundred})
    assert ok.status_code == 200
    assert len(ok.json()["unknown"]) == 200
    response = auth_client.get(URL, {"symbols": two_hundred + ",ONEMORE"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["symbols"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "symbols"), ({"symbols": " , ,"}, "symbols"), ({"symbols": "TCS", "exchange": "X"},
                                                         "exchange")],
)
def test_bad_requests_get_400_naming_the_field(
    auth_client: APIClient, params: dict[str, str], field: str
) -> None:
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_quotes_are_stale_while_the_market_is_open_and_the_feed_is_silent(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote_cache_put([_quote("TCS")])
    monkeypatch.setattr("apps.market.feed._utcnow", lambda: AT)  # Wednesday 10:30 IST
    assert auth_client.get(URL, {"symbols": "TCS"}).json()["quotes"][0]["stale"] is True
    # After a successful poll the quote says how fresh the feed is.
    FeedGuard(SimulatedProvider(), clock=lambda: AT).latest_quotes([InstrumentRef("TCS")])
    body = auth_client.get(URL, {"symbols": "TCS"}).json()["quotes"][0]
    assert body["stale"] is False
    assert body["as_of"] == AT.isoformat()
    monkeypatch.setattr(
        "apps.market.feed._utcnow", lambda: datetime(2026, 1, 21, 12, 0, tzinfo=UTC)
    )  # 17:30 IST, closed
    assert auth_client.get(URL, {"symbols": "TCS"}).json()["quotes"][0]["stale"] is False


def test_the_instrument_detail_carries_its_quote(auth_client: APIClient) -> None:
    assert auth_client.get("/api/v1/instruments/TCS/").json()["quote"] is None
    _stored("TCS")
    stored = auth_client.get("/api/v1/instruments/TCS/").json()["quote"]
    assert (stored["symbol"], stored["last_price"]) == ("TCS", "2400.0000")
    quote_cache_put([_quote("TCS")])
    cached = auth_client.get("/api/v1/instruments/TCS/").json()["quote"]
    assert (cached["last_price"], cached["at"]) == ("1250.5000", "2026-01-21T10:30:00+05:30")
