"""The portfolio pages: sign-in required, the owner sees them, anyone else gets a 404."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.market import ingest
from apps.market.models import DataSource, Instrument
from apps.market.providers.base import Quote
from apps.portfolios import services
from apps.portfolios.models import Portfolio, TransactionKind
from apps.portfolios.services import TransactionData

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _data(response: Any, script_id: str) -> dict[str, Any]:
    content = response.content.decode()
    start = content.index(f'<script id="{script_id}" type="application/json">')
    start = content.index(">", start) + 1
    return json.loads(content[start : content.index("</script>", start)])


def _portfolio(owner: Any, name: str = "Long term") -> Portfolio:
    return services.portfolio_create(owner=owner, name=name, description="Core holdings")


def _buy(portfolio: Portfolio, symbol: str, quantity: str, price: str) -> None:
    services.transaction_create(
        portfolio=portfolio,
        data=TransactionData(
            kind=TransactionKind.BUY,
            executed_at=timezone.now() - timedelta(days=3),
            instrument=Instrument.objects.get(symbol=symbol, exchange__code="NSE"),
            quantity=Decimal(quantity),
            price=Decimal(price),
        ),
    )


def _quote(symbol: str, price: str, prev_close: str) -> Quote:
    p, c = Decimal(price), Decimal(prev_close)
    return Quote(
        symbol=symbol, exchange="NSE", last_price=p, open=c, high=max(p, c), low=min(p, c),
        prev_close=c, volume=1_000, at=timezone.now() - timedelta(seconds=1), simulated=True,
    )  # fmt: skip


@pytest.mark.parametrize("name", ["portfolios", "portfolio", "portfolio_tax"])
def test_pages_require_login(client: Client, user: Any, name: str) -> None:
    args = [] if name == "portfolios" else [_portfolio(user).pk]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_list_page_shows_only_the_owners_portfolios(
    client: Client, user: Any, other_user: Any
) -> None:
    mine = _portfolio(user, "Retirement")
    _portfolio(other_user, "Somebody else's")
    client.force_login(user)

    response = client.get(reverse("portfolios"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Retirement" in html
    assert "Somebody else" not in html
    data = _data(response, "portfolio-list-data")
    assert [p["id"] for p in data["portfolios"]] == [mine.pk]
    assert data["portfolios"][0]["benchmark"] == "NIFTY 50"
    assert data["urls"]["summary"] == "/api/v1/portfolios/{id}/summary/"
    assert data["urls"]["page"] == "/portfolios/{id}/"
    # The nav links here, marked as the current page; the benchmark choice lists the indices.
    assert f'href="{reverse("portfolios")}" aria-current="page"' in html
    assert '<option value="NIFTY 50" selected>' in html


def test_list_page_explains_what_to_do_when_empty(client: Client, user: Any) -> None:
    client.force_login(user)
    response = client.get(reverse("portfolios"))
    html = response.content.decode()
    assert "You have no portfolios yet." in html
    assert "import a Zerodha tradebook" in html
    assert _data(response, "portfolio-list-data")["portfolios"] == []


def test_owner_sees_the_portfolio_with_its_holdings(client: Client, user: Any) -> None:
    portfolio = _portfolio(user)
    _buy(portfolio, "RELIANCE", "10", "2800")
    _buy(portfolio, "TCS", "4", "3500")
    ingest.quotes_ingest(
        batch=[_quote("RELIANCE", "2951.20", "2900"), _quote("TCS", "3412.55", "3450.10")],
        source=DataSource.SIMULATED,
    )
    client.force_login(user)

    response = client.get(reverse("portfolio", args=[portfolio.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1 data-portfolio-name>Long term</h1>" in html
    assert f'href="/api/v1/portfolios/{portfolio.pk}/export/"' in html
    assert f'href="{reverse("portfolio_tax", args=[portfolio.pk])}"' in html
    data = _data(response, "portfolio-data")
    assert data["portfolio"]["id"] == portfolio.pk
    summary = data["summary"]
    holdings = {h["key"]: h for h in summary["holdings"]}
    assert holdings["NSE:RELIANCE"]["quantity"] == "10.000000"
    # 10 × 2,951.20 + 4 × 3,412.55 = 29,512.00 + 13,650.20; cost 28,000 + 14,000.
    assert summary["totals"]["total_value"] == "43162.20"
    assert summary["totals"]["invested"] == "42000.00"
    # Day change: 10 × (2,951.20 − 2,900) + 4 × (3,412.55 − 3,450.10) = 512 − 150.20.
    assert summary["totals"]["day_change"] == "361.80"
    assert data["urls"]["transaction"] == "/api/v1/portfolios/{id}/transactions/{tx}/"
    assert data["strings"]["kind_bonus"] == "Bonus issue"
    assert data["strings"]["metric_sharpe"] == "Sharpe ratio"


def test_tax_page_labels_the_figures_an_estimate(client: Client, user: Any) -> None:
    portfolio = _portfolio(user)
    client.force_login(user)

    response = client.get(reverse("portfolio_tax", args=[portfolio.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Estimate only: this is not tax advice." in html
    assert "not tax advice" in html
    assert _data(response, "portfolio-tax-data")["urls"]["tax"] == "/api/v1/portfolios/{id}/tax/"


@pytest.mark.parametrize("name", ["portfolio", "portfolio_tax"])
def test_outsider_gets_the_same_404_as_for_a_missing_portfolio(
    client: Client, user: Any, other_user: Any, name: str
) -> None:
    portfolio = _portfolio(user, "Private holdings")
    missing = portfolio.pk + 1000
    client.force_login(other_user)

    outsider = client.get(reverse(name, args=[portfolio.pk]))
    absent = client.get(reverse(name, args=[missing]))

    assert outsider.status_code == absent.status_code == 404
    assert "Private holdings" not in outsider.content.decode()
    assert outsider.content == absent.content
