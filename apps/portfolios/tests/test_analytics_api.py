"""The analytics API: owner-only access, response shapes, figures as decimal strings."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios.models import DailySnapshot, Portfolio
from apps.portfolios.tests.conftest import ist, tx_add

pytestmark = pytest.mark.django_db

D = Decimal
ENDPOINTS = ("performance", "history", "tax")


def url(portfolio_id: int, endpoint: str) -> str:
    return f"/api/v1/portfolios/{portfolio_id}/{endpoint}/"


def weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@pytest.fixture
def grown(portfolio: Portfolio) -> list[date]:
    """30 weekday snapshots from Wed 1 Jan 2025: 10,000 invested on day one, then +1% a day;
    NIFTY 50 from 20,000, +0.5% a day."""
    days = weekdays(date(2025, 1, 1), 30)
    rows = []
    for i, day in enumerate(days):
        value = (D(10_000) * D("1.01") ** i).quantize(D("0.0001"))
        rows.append(
            DailySnapshot(
                portfolio=portfolio, date=day, value=value, net_invested=D(10_000),
                net_flow=D(10_000) if i == 0 else D(0), realised_pl=D(0),
                unrealised_pl=value - D(10_000), charges=D(0),
                benchmark_close=(D(20_000) * D("1.005") ** i).quantize(D("0.0001")),
            )
        )  # fmt: skip
    DailySnapshot.objects.bulk_create(rows)
    return days


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_owner_outsider_and_anonymous(
    endpoint: str,
    portfolio: Portfolio,
    auth_client: APIClient,
    outsider_client: APIClient,
    api_client: APIClient,
) -> None:
    assert auth_client.get(url(portfolio.pk, endpoint)).status_code == 200
    hidden = outsider_client.get(url(portfolio.pk, endpoint))
    missing = outsider_client.get(url(portfolio.pk + 10_000, endpoint))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert api_client.get(url(portfolio.pk, endpoint)).status_code == 401


def test_performance_shape_and_figures(
    portfolio: Portfolio, grown: list[date], auth_client: APIClient
) -> None:
    body = auth_client.get(url(portfolio.pk, "performance")).json()
    assert set(body) == {"as_of", "recomputing", "returns", "metrics", "definitions"}
    assert body["as_of"] == "2025-02-11"
    assert body["recomputing"] is False
    assert list(body["returns"]) == ["1D", "1W", "1M", "3M", "YTD", "1Y", "ALL"]
    # 29 daily returns of 1% (values rounded to 4 places, far below 6-place ratios).
    assert body["returns"]["ALL"] == {
        "twr": f"{D('1.01') ** 29 - 1:.6f}",
        "xirr": body["returns"]["ALL"]["xirr"],
        "start": "2025-01-01",
        "end": "2025-02-11",
    }
    assert body["returns"]["1D"]["twr"] == "0.010000"
    assert body["returns"]["1D"]["start"] == "2025-02-10"
    # One buy and the end value: XIRR = (V/10,000)^(365/41) − 1 over the 41 days.
    expected = (1.01**29) ** (365 / 41) - 1
    assert float(body["returns"]["ALL"]["xirr"]) == pytest.approx(expected, rel=1e-5)
    assert body["returns"]["1Y"] == {"twr": None, "xirr": None, "start": None,
                                     "end": "2025-02-11"}  # fmt: skip
    metrics = body["metrics"]
    assert metrics["observations"] == 29
    assert metrics["risk_free_rate"] == "0.055000"
    assert metrics["max_drawdown"] == "0.000000"
    assert metrics["max_drawdown_peak"] is None
    for name in ("volatility", "sharpe", "sortino", "beta", "alpha", "correlation"):
        value = metrics[name]
        assert value is None or (isinstance(value, str) and len(value.split(".")[1]) == 6)
    assert set(body["definitions"]) >= {
        "twr",
        "xirr",
        "volatility",
        "sharpe",
        "sortino",
        "beta",
        "alpha",
        "max_drawdown",
        "correlation",
    }
    assert all(isinstance(text, str) and text for text in body["definitions"].values())


def test_performance_of_an_empty_portfolio_is_all_null(
    portfolio: Portfolio, auth_client: APIClient
) -> None:
    body = auth_client.get(url(portfolio.pk, "performance")).json()
    assert body["as_of"] is None
    assert body["returns"]["ALL"] == {"twr": None, "xirr": None, "start": None, "end": None}
    assert body["metrics"]["observations"] == 0
    assert body["metrics"]["max_drawdown"] is None


def test_performance_says_when_a_rebuild_is_pending(
    portfolio: Portfolio, instruments: dict[str, Instrument], auth_client: APIClient
) -> None:
    tx_add(portfolio, "buy", ist(2025, 3, 3), instruments["TCS"], quantity="1", price="9")
    assert auth_client.get(url(portfolio.pk, "performance")).json()["recomputing"] is True


def test_history_rebases_the_benchmark_to_the_range_start(
    portfolio: Portfolio, grown: list[date], auth_client: APIClient
) -> None:
    body = auth_client.get(url(portfolio.pk, "history"), {"range": "1M"}).json()
    assert body["range"] == "1M"
    assert body["benchmark_symbol"] == "NIFTY 50"
    points = body["points"]
    # 1M before 11 Feb is 11 Jan (a Saturday): the range starts at Friday 10 Jan's close.
    assert points[0]["date"] == "2025-01-10"
    assert points[-1]["date"] == "2025-02-11"
    assert set(points[0]) == {"date", "value", "net_invested", "benchmark"}
    first = DailySnapshot.objects.get(portfolio=portfolio, date=date(2025, 1, 10))
    last = DailySnapshot.objects.get(portfolio=portfolio, date=date(2025, 2, 11))
    assert points[0]["benchmark"] == points[0]["value"] == f"{first.value:.4f}"
    assert last.benchmark_close is not None
    assert first.benchmark_close is not None
    rebased = (last.benchmark_close * first.value / first.benchmark_close).quantize(D("0.0001"))
    assert points[-1]["benchmark"] == f"{rebased:.4f}"
    assert points[-1]["net_invested"] == "10000.0000"


def test_history_defaults_to_one_year_and_all_covers_everything(
    portfolio: Portfolio, grown: list[date], auth_client: APIClient
) -> None:
    default = auth_client.get(url(portfolio.pk, "history")).json()
    assert default["range"] == "1Y"
    assert len(default["points"]) == 30  # younger than the range: everything
    assert (
        len(auth_client.get(url(portfolio.pk, "history"), {"range": "ALL"}).json()["points"]) == 30
    )


def test_history_rejects_an_unknown_range(portfolio: Portfolio, auth_client: APIClient) -> None:
    response = auth_client.get(url(portfolio.pk, "history"), {"range": "2W"})
    assert response.status_code == 400
    assert "range" in response.json()["error"]["fields"]


def test_tax_estimate_shape(
    portfolio: Portfolio, instruments: dict[str, Instrument], auth_client: APIClient
) -> None:
    # Buy 10 TCS @ 3,000 on 2 Jan 2025, sell 4 @ 3,500 on 3 Mar 2025 (short-term, FY
    # 2024-25 at 20%): cost 12,000, proceeds 14,000, gain 2,000 → tax 400.
    tcs = instruments["TCS"]
    tx_add(portfolio, "buy", ist(2025, 1, 2), tcs, quantity="10", price="3000")
    tx_add(portfolio, "sell", ist(2025, 3, 3), tcs, quantity="4", price="3500")
    body = auth_client.get(url(portfolio.pk, "tax")).json()
    assert body["estimate"] is True
    assert "estimate" in body["caveat"]
    [year] = body["financial_years"]
    assert (year["year"], year["start"], year["end"]) == ("2024-25", "2024-04-01", "2025-03-31")
    assert year["realisations"] == [{
        "symbol": "TCS", "acquired": "2025-01-02", "sold": "2025-03-03",
        "quantity": "4.000000", "cost": "12000.0000", "proceeds": "14000.0000",
        "gain": "2000.0000", "term": "short", "rate": "0.2000",
    }]  # fmt: skip
    assert (year["net_short_term"], year["short_term_tax"], year["total_tax"]) == (
        "2000.0000",
        "400.0000",
        "400.0000",
    )
