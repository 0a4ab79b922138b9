"""The market REST API: instrument search and detail, market status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.market.models import Exchange, Instrument

pytestmark = pytest.mark.django_db


def _symbols(response: Any) -> list[str]:
    return [row["symbol"] for row in response.json()["results"]]


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Wednesday 21 January 2026, 10:30 in Mumbai."""
    now = datetime(2026, 1, 21, 5, 0, tzinfo=UTC)
    monkeypatch.setattr("apps.market.api.timezone.now", lambda: now)
    return now


class TestAnonymous:
    @pytest.mark.parametrize(
        "url", ["/api/v1/instruments/", "/api/v1/instruments/RELIANCE/", "/api/v1/market/status/"]
    )
    def test_anonymous_callers_get_401_with_the_error_body(
        self, api_client: APIClient, url: str
    ) -> None:
        response = api_client.get(url)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


class TestInstrumentSearch:
    def test_a_lowercase_symbol_prefix_finds_the_instrument(self, auth_client: APIClient) -> None:
        response = auth_client.get("/api/v1/instruments/", {"search": "reli"})
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        row = body["results"][0]
        assert row == {
            "symbol": "RELIANCE", "exchange": "NSE", "name": "Reliance Industries Ltd.",
            "isin": "INE002A01018", "sector": "Oil Gas & Consumable Fuels",
            "industry": "Refineries & Marketing", "kind": "equity", "lot_size": 1,
            "tick_size": "0.0500", "active": True,
        }

    def test_symbol_prefix_or_name_matches_are_ordered_by_symbol(
        self, auth_client: APIClient
    ) -> None:
        # TCS matches by name (Tata Consultancy Services); the rest by symbol prefix.
        response = auth_client.get("/api/v1/instruments/", {"search": "TATA"})
        assert _symbols(response) == ["TATACONSUM", "TATAMOTORS", "TATASTEEL", "TCS"]

    def test_an_exact_symbol_match_comes_first(self, auth_client: APIClient) -> None:
        nse = Exchange.objects.get(code="NSE")
        Instrument.objects.create(exchange=nse, symbol="ABEL", name="Abel Industries Ltd.")
        response = auth_client.get("/api/v1/instruments/", {"search": "bel"})
        assert _symbols(response) == ["BEL", "ABEL"]

    def test_filters_by_sector_kind_and_exchange(self, auth_client: APIClient) -> None:
        it = auth_client.get("/api/v1/instruments/", {"sector": "information technology"})
        assert _symbols(it) == ["HCLTECH", "INFY", "TCS", "TECHM", "WIPRO"]
        indices = auth_client.get("/api/v1/instruments/", {"kind": "index"})
        assert _symbols(indices) == ["NIFTY 50", "NIFTY BANK", "SENSEX"]
        bse = auth_client.get("/api/v1/instruments/", {"exchange": "bse"})
        assert _symbols(bse) == ["SENSEX"]
        banks = auth_client.get("/api/v1/instruments/", {"search": "bank", "kind": "equity"})
        assert _symbols(banks) == ["AXISBANK", "HDFCBANK", "ICICIBANK", "KOTAKBANK", "SBIN"]

    def test_inactive_instruments_are_not_listed(self, auth_client: APIClient) -> None:
        Instrument.objects.filter(symbol="INFY").update(active=False)
        assert auth_client.get("/api/v1/instruments/", {"search": "INFY"}).json()["count"] == 0

    def test_results_are_paginated(self, auth_client: APIClient) -> None:
        body = auth_client.get("/api/v1/instruments/", {"page_size": 10}).json()
        assert body["count"] == 53
        assert len(body["results"]) == 10
        assert body["next"] is not None

    def test_a_bad_kind_or_unknown_exchange_gets_400_naming_the_field(
        self, auth_client: APIClient
    ) -> None:
        response = auth_client.get("/api/v1/instruments/", {"kind": "bond", "exchange": "NYSE"})
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"kind", "exchange"}


class TestInstrumentDetail:
    def test_details_include_the_exchange_market_status(
        self, auth_client: APIClient, frozen_now: datetime
    ) -> None:
        response = auth_client.get("/api/v1/instruments/reliance/")
        assert response.status_code == 200
        body = response.json()
        assert (body["symbol"], body["exchange"], body["isin"]) == (
            "RELIANCE", "NSE", "INE002A01018"
        )
        assert body["market_status"]["status"] == "open"
        assert body["market_status"]["closes_at"] == "2026-01-21T15:30:00+05:30"
        # No quote stored yet: null rather than a made-up price.
        assert body["quote"] is None

    def test_symbols_with_special_characters_and_spaces_resolve(
        self, auth_client: APIClient
    ) -> None:
        assert auth_client.get("/api/v1/instruments/M%26M/").json()["name"] == (
            "Mahindra & Mahindra Ltd."
        )
        index = auth_client.get("/api/v1/instruments/NIFTY%2050/").json()
        assert (index["kind"], index["isin"]) == ("index", "")

    def test_the_exchange_parameter_picks_the_listing(
        self, auth_client: APIClient, frozen_now: datetime
    ) -> None:
        sensex = auth_client.get("/api/v1/instruments/SENSEX/")
        assert sensex.json()["exchange"] == "BSE"
        assert sensex.json()["market_status"]["exchange"] == "BSE"
        on_nse = auth_client.get("/api/v1/instruments/SENSEX/", {"exchange": "NSE"})
        assert on_nse.status_code == 404

    def test_an_unknown_symbol_gets_404_with_the_error_body(self, auth_client: APIClient) -> None:
        response = auth_client.get("/api/v1/instruments/NOSUCHCO/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestMarketStatusApi:
    def test_status_is_reported_in_india_time(
        self, auth_client: APIClient, frozen_now: datetime
    ) -> None:
        response = auth_client.get("/api/v1/market/status/")
        assert response.status_code == 200
        assert response.json() == {
            "exchange": "NSE",
            "status": "open",
            "is_open": True,
            "is_trading_day": True,
            "next_open": "2026-01-22T09:15:00+05:30",
            "closes_at": "2026-01-21T15:30:00+05:30",
            "server_time": "2026-01-21T10:30:00+05:30",
        }

    def test_times_stay_in_exchange_time_for_a_user_in_another_zone(
        self, auth_client: APIClient, user: Any, frozen_now: datetime
    ) -> None:
        user.time_zone = "Europe/London"
        user.save()
        body = auth_client.get("/api/v1/market/status/", {"exchange": "bse"}).json()
        assert body["exchange"] == "BSE"
        assert body["next_open"].endswith("+05:30")

    def test_a_holiday_reports_closed_with_the_next_open(
        self, auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        republic_day = datetime(2026, 1, 26, 6, 0, tzinfo=UTC)
        monkeypatch.setattr("apps.market.api.timezone.now", lambda: republic_day)
        body = auth_client.get("/api/v1/market/status/").json()
        assert (body["status"], body["is_trading_day"], body["closes_at"]) == (
            "closed", False, None
        )
        assert body["next_open"] == "2026-01-27T09:15:00+05:30"

    def test_an_unknown_exchange_gets_400_naming_exchange(self, auth_client: APIClient) -> None:
        response = auth_client.get("/api/v1/market/status/", {"exchange": "NYSE"})
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["exchange"]


def test_the_openapi_schema_documents_the_market_endpoints(auth_client: APIClient) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert {"/api/v1/instruments/", "/api/v1/instruments/{symbol}/", "/api/v1/market/status/"} <= (
        set(schema["paths"])
    )
    params = {p["name"] for p in schema["paths"]["/api/v1/instruments/"]["get"]["parameters"]}
    assert {"search", "sector", "exchange", "kind", "page"} <= params
