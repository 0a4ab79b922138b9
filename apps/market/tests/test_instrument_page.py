"""The instrument page: login required, header from the stored quote, 404 for unknowns."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from apps.market import ingest
from apps.market.models import DataSource, Instrument, LatestQuote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seeded() -> None:
    importlib.import_module("apps.market.migrations.0002_seed_exchanges_nifty50_holidays").seed(
        apps, None
    )
    ingest._instrument_ids.clear()


def test_login_required(client: Client) -> None:
    url = reverse("instrument", args=["RELIANCE"])
    assert url == "/markets/RELIANCE/"
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_renders_instrument_and_quote(client: Client, user: Any) -> None:
    reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    LatestQuote.objects.create(
        instrument=reliance, last_price=Decimal("2951.20"), open=Decimal("2900"),
        high=Decimal("2960"), low=Decimal("2890"), prev_close=Decimal("2900"), volume=1_234_567,
        at=datetime(2026, 1, 21, 5, 0, tzinfo=UTC), source=DataSource.SIMULATED,
    )
    client.force_login(user)
    response = client.get("/markets/reliance/")
    assert response.status_code == 200
    html = response.content.decode()
    assert reliance.name in html
    assert 'data-symbol="RELIANCE"' in html
    assert 'data-exchange="NSE"' in html
    assert "₹2,951.20" in html
    assert "+₹51.20 (+1.77%)" in html
    assert "Simulated feed" in html
    assert 'data-candles-url="/api/v1/instruments/RELIANCE/candles/"' in html
    assert 'data-drawings-url="/api/v1/instruments/RELIANCE/drawings/"' in html
    assert 'data-testid="market-status"' in html
    for label in ("1m", "5m", "15m", "1h", "1D", "1W"):
        assert f">{label}</button>" in html
    assert "js/chart.js" in html


def test_without_quote_and_exchange_param(client: Client, user: Any) -> None:
    client.force_login(user)
    response = client.get("/markets/TCS/?exchange=nse")
    assert response.status_code == 200
    assert 'data-price=""' in response.content.decode()


@pytest.mark.parametrize("path", ["/markets/NOPE/", "/markets/RELIANCE/?exchange=BSE"])
def test_unknown_symbol_is_404(client: Client, user: Any, path: str) -> None:
    client.force_login(user)
    assert client.get(path).status_code == 404


def test_markets_table_links_to_instrument_pages(client: Client, user: Any) -> None:
    client.force_login(user)
    html = client.get("/markets/").content.decode()
    assert 'href="/markets/RELIANCE/"' in html
