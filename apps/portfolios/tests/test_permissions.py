"""Who may do what: owner / outsider / anonymous over every portfolio endpoint.

Only the owner sees a portfolio. Another signed-in user gets 404 with exactly the body of a
missing id (ids leak nothing) and changes nothing; anonymous callers are refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios.models import Portfolio, Transaction

from .conftest import tx_add

pytestmark = pytest.mark.django_db

SELL = {
    "kind": "sell",
    "symbol": "TCS",
    "executed_at": "2024-02-01",
    "quantity": "1",
    "price": "3600",
}

# (method, path under /api/v1/portfolios/{id}/, body, the owner's success status)
ENDPOINTS = [
    ("get", "", None, 200),
    ("patch", "", {"name": "Renamed"}, 200),
    ("delete", "", None, 204),
    ("get", "summary/", None, 200),
    ("get", "transactions/", None, 200),
    ("post", "transactions/", SELL, 201),
    ("get", "transactions/{tx}/", None, 200),
    ("patch", "transactions/{tx}/", {"notes": "checked"}, 200),
    ("delete", "transactions/{tx}/", None, 204),
]


@pytest.fixture
def holding(portfolio: Portfolio, instruments: dict[str, Instrument]) -> Transaction:
    """The owner's portfolio holds 10 TCS; this is the buy (a deposit follows it)."""
    buy = tx_add(
        portfolio, "buy", date(2024, 1, 10), instruments["TCS"], quantity="10", price="3500"
    )
    tx_add(portfolio, "deposit", date(2024, 1, 11), amount="5000")
    return buy


def _client(who: str, user: Any, other_user: Any) -> APIClient:
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(user if who == "owner" else other_user)
    return client


def _deposit(portfolio: Portfolio) -> Transaction:
    return Transaction.objects.get(portfolio=portfolio, kind="deposit")


def _request(
    client: APIClient, method: str, path: str, body: Any, portfolio_id: int, tx_id: int
) -> Any:
    url = f"/api/v1/portfolios/{portfolio_id}/{path.format(tx=tx_id)}"
    return getattr(client, method)(url, body, format="json")


def _snapshot(portfolio: Portfolio) -> tuple[Any, ...]:
    row = Portfolio.objects.filter(pk=portfolio.pk).values_list("name", "updated_at").first()
    txs = list(
        Transaction.objects.filter(portfolio=portfolio)
        .order_by("id")
        .values_list("id", "notes", "updated_at")
    )
    return row, txs


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
@pytest.mark.parametrize("who", ["owner", "outsider", "anonymous"])
def test_each_endpoint_answers_only_the_owner(
    user: Any,
    other_user: Any,
    portfolio: Portfolio,
    holding: Transaction,
    who: str,
    method: str,
    path: str,
    body: Any,
    ok: int,
) -> None:
    before = _snapshot(portfolio)
    client = _client(who, user, other_user)
    response = _request(client, method, path, body, portfolio.pk, _deposit(portfolio).pk)
    expected = {"owner": (ok,), "outsider": (404,), "anonymous": (401, 403)}[who]
    assert response.status_code in expected, response.content
    if who != "owner":
        assert _snapshot(portfolio) == before


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
def test_an_outsider_gets_the_same_404_as_for_a_missing_portfolio(
    user: Any,
    other_user: Any,
    portfolio: Portfolio,
    holding: Transaction,
    method: str,
    path: str,
    body: Any,
    ok: int,
) -> None:
    outsider = _client("outsider", user, other_user)
    tx_id = _deposit(portfolio).pk
    theirs = _request(outsider, method, path, body, portfolio.pk, tx_id)
    missing = _request(outsider, method, path, body, portfolio.pk + 1000, tx_id + 1000)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_an_outsider_cannot_reach_a_transaction_through_their_own_portfolio(
    other_user: Any, portfolio: Portfolio, holding: Transaction
) -> None:
    from apps.portfolios import services

    mine = services.portfolio_create(owner=other_user, name="Mine")
    client = APIClient()
    client.force_authenticate(other_user)
    url = f"/api/v1/portfolios/{mine.pk}/transactions/{holding.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"notes": "x"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    assert Transaction.objects.filter(pk=holding.pk, notes="").exists()


def test_the_list_holds_only_the_callers_portfolios(
    user: Any, other_user: Any, portfolio: Portfolio, api_client: APIClient
) -> None:
    outsider = _client("outsider", user, other_user)
    assert outsider.get("/api/v1/portfolios/").json()["results"] == []
    owner = _client("owner", user, other_user)
    assert [p["id"] for p in owner.get("/api/v1/portfolios/").json()["results"]] == [portfolio.pk]
    assert api_client.get("/api/v1/portfolios/").status_code in (401, 403)
    assert api_client.post("/api/v1/portfolios/", {"name": "x"}, format="json").status_code in (
        401,
        403,
    )
    assert not Portfolio.objects.filter(name="x").exists()
