"""The Markets page: status banner, the instrument table and its first-render prices."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.market import ingest
from apps.market.calendar import market_status
from apps.market.models import DataSource, Instrument, LatestQuote
from apps.market.providers.base import Quote
from apps.market.views import format_inr, format_percent, format_volume, indian_grouping

pytestmark = pytest.mark.django_db

URL = "/markets/"
AT = datetime(2026, 1, 21, 5, 0, tzinfo=UTC)  # 10:30 IST


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """The NIFTY 50 seed (a data migration); re-run in case a transactional test flushed it."""
    importlib.import_module("apps.market.migrations.0002_seed_exchanges_nifty50_holidays").seed(
        apps, None
    )
    ingest._instrument_ids.clear()


@pytest.fixture
def client_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _store(symbol: str, price: str, prev_close: str, source: DataSource) -> LatestQuote:
    return LatestQuote.objects.create(
        instrument=Instrument.objects.get(symbol=symbol, exchange__code="NSE"),
        last_price=Decimal(price), open=Decimal(prev_close), high=Decimal(price),
        low=Decimal(prev_close), prev_close=Decimal(prev_close), volume=1_234_567, at=AT,
        source=source,
    )


def _row(html: str, symbol: str) -> str:
    match = re.search(rf'<tr data-key="NSE:{re.escape(symbol)}".*?</tr>', html, re.S)
    assert match, f"no row for {symbol}"
    return match.group(0)


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [
        ("2951.2", False, "₹2,951.20"),
        ("123456", False, "₹1,23,456.00"),
        ("12345678.005", False, "₹1,23,45,678.01"),
        ("999.999", False, "₹1,000.00"),
        ("0.5", False, "₹0.50"),
        ("-12.3", True, "-₹12.30"),
        ("12.3", True, "+₹12.30"),
        ("-0.001", True, "₹0.00"),
        ("0", True, "₹0.00"),
    ],
)
def test_inr_format_matches_intl_en_in(value: str, signed: bool, expected: str) -> None:
    assert format_inr(Decimal(value), signed=signed) == expected


def test_percent_volume_and_grouping() -> None:
    assert format_percent(Decimal("1.666")) == "+1.67%"
    assert format_percent(Decimal("-2.04")) == "-2.04%"
    assert format_percent(Decimal("0")) == "0.00%"
    assert format_volume(123_456_789) == "12,34,56,789"
    assert [indian_grouping(s) for s in ("1", "123", "1234", "12345", "123456")] == [
        "1", "123", "1,234", "12,345", "1,23,456"
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert reverse("markets") == URL


def test_lists_the_seeded_nifty_50_with_status_and_filters(client_in: Client) -> None:
    response = client_in.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    symbols = {unescape(s) for s in re.findall(r'<tr data-key="NSE:([^"]+)"', html)}
    nifty = set(
        Instrument.objects.filter(active=True, kind="equity").values_list("symbol", flat=True)
    )
    assert len(nifty) >= 50
    assert nifty <= symbols
    assert {"RELIANCE", "TCS", "INFY", "HDFCBANK"} <= symbols
    assert "Reliance Industries" in _row(html, "RELIANCE")
    assert 'data-testid="market-status"' in html
    status = market_status(timezone.now())
    assert f"market-status-{status.status}" in html
    assert '<option value="Information Technology"' in html
    assert 'aria-current="page"' in html
    assert ">Markets</a>" in html
    # Without quotes: dashes, and no simulated badge.
    assert "data-simulated-badge hidden" in html
    assert 'data-field="price">—</td>' in _row(html, "TCS")


def test_prices_are_in_inr_with_indian_grouping_and_direction(client_in: Client) -> None:
    _store("RELIANCE", "2951.2000", "2900", DataSource.YAHOO)
    _store("MARUTI", "123456.0000", "124000", DataSource.YAHOO)
    html = client_in.get(URL).content.decode()

    reliance = _row(html, "RELIANCE")
    assert 'data-field="price">₹2,951.20</td>' in reliance
    assert "price-up" in reliance
    assert "▲" in reliance
    assert "+₹51.20" in reliance
    assert "+1.77%" in reliance
    assert "12,34,567" in reliance  # volume
    assert '<time datetime="2026-01-21T10:30:00+05:30">' in reliance

    maruti = _row(html, "MARUTI")
    assert 'data-field="price">₹1,23,456.00</td>' in maruti
    assert "price-down" in maruti
    assert "▼" in maruti
    assert "-₹544.00" in maruti
    assert "-0.44%" in maruti


def test_simulated_badge_only_for_simulated_quotes(client_in: Client) -> None:
    badge = "Simulated feed — prices are generated, not real market data"
    _store("TCS", "3500", "3400", DataSource.YAHOO)
    html = client_in.get(URL).content.decode()
    assert badge in html  # present for the script to reveal, but hidden
    assert "data-simulated-badge hidden" in html

    _store("INFY", "1500", "1490", DataSource.SIMULATED)
    html = client_in.get(URL).content.decode()
    assert "data-simulated-badge>" in html
    assert 'data-simulated="1"' in _row(html, "INFY")
    assert 'data-simulated="0"' in _row(html, "TCS")


def test_server_side_filter_works_without_javascript(client_in: Client) -> None:
    html = client_in.get(URL, {"q": "relian", "sector": ""}).content.decode()
    assert "Showing 1 of" in html
    assert " hidden" not in _row(html, "RELIANCE").split(">")[0]
    assert _row(html, "TCS").split(">")[0].endswith(" hidden")


def test_query_count_does_not_grow_with_quotes(
    client_in: Client, django_assert_max_num_queries: Any
) -> None:
    client_in.get(URL)  # warms the trading calendar cache
    for instrument in Instrument.objects.filter(active=True):
        LatestQuote.objects.create(
            instrument=instrument, last_price=Decimal("100"), open=Decimal("99"),
            high=Decimal("101"), low=Decimal("98"), prev_close=Decimal("99"), volume=10,
            at=AT, source=DataSource.SIMULATED,
        )
    # The sign-in middleware (user, allauth's session tracking) costs a few queries; the
    # page itself one: instruments joined with their exchanges and latest quotes.
    with django_assert_max_num_queries(8) as captured:
        response = client_in.get(URL)
    market = [q["sql"] for q in captured.captured_queries if '"market_' in q["sql"]]
    assert len(market) == 1, market
    assert '"market_latestquote"' in market[0]
    assert '"market_exchange"' in market[0]
    assert response.content.decode().count('data-simulated="1"') >= 50


def test_quotes_ingest_feeds_the_page(client_in: Client) -> None:
    quote = Quote(
        symbol="SBIN", exchange="NSE", last_price=Decimal("812.35"), open=Decimal("800"),
        high=Decimal("815"), low=Decimal("799"), prev_close=Decimal("805"), volume=99_000,
        at=AT, simulated=True,
    )
    ingest.quotes_ingest(batch=[quote], source=DataSource.SIMULATED)
    html = client_in.get(URL).content.decode()
    assert 'data-field="price">₹812.35</td>' in _row(html, "SBIN")
    assert "data-simulated-badge>" in html


def test_the_page_is_translated(client_in: Client) -> None:
    client_in.cookies["django_language"] = "hi"
    html = client_in.get(URL).content.decode()
    assert '<html lang="hi"' in html
    assert "बाज़ार" in html
    assert "% बदलाव" in html
    assert "में से" in html  # "Showing x of y instruments"
