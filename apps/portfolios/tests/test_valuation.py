"""Valuation: per-holding and total figures, day change, allocation, warnings, prices.

The expected figures are worked out by hand in the comments. The pure tests build
instruments in memory (no database); the selector tests go through the summary API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from rest_framework.test import APIClient

from apps.market.models import Candle, DataSource, Exchange, Instrument, Timeframe
from apps.portfolios.ledger import Entry, ledger_replay
from apps.portfolios.models import Portfolio, Transaction
from apps.portfolios.valuation import (
    Valuation,
    portfolio_valuation,
    valuation_data,
    valuation_live_data,
)

from .conftest import ist, quote_set, tx_add

D = Decimal
NSE = Exchange(code="NSE", name="National Stock Exchange")


def _instrument(pk: int, symbol: str, sector: str, cap: str) -> Instrument:
    return Instrument(
        pk=pk, exchange=NSE, symbol=symbol, name=symbol.title(), sector=sector, market_cap=cap
    )


RELIANCE = _instrument(1, "RELIANCE", "Energy", "large")
TCS = _instrument(2, "TCS", "Information Technology", "large")
INFY = _instrument(3, "INFY", "Information Technology", "mid")
HDFCBANK = _instrument(4, "HDFCBANK", "", "")
INSTRUMENTS = {i.pk: i for i in (RELIANCE, TCS, INFY, HDFCBANK)}
QUOTE_AT = ist(2024, 6, 3, 15, 29)


@dataclass(frozen=True)
class Q:
    last_price: Decimal
    prev_close: Decimal
    at: datetime = QUOTE_AT


def _buy(instrument: Instrument, when: datetime, qty: str, price: str, charges: str = "0") -> Entry:
    return Entry(
        kind="buy",
        executed_at=when,
        instrument_id=instrument.pk,
        quantity=D(qty),
        price=D(price),
        charges=D(charges),
    )


def _example() -> Valuation:
    # RELIANCE 10 × 2,400 + 24 charges = 24,024, at 2,500 (prev 2,450)
    # TCS      5 × 3,600 = 18,000 in January, and 5 × 3,800 + 19 = 19,019 today (3 Jun),
    #          at 3,900 (prev 3,850)
    # INFY     20 × 1,400 = 28,000, no quote: at cost
    # HDFCBANK 4 × 1,500 = 6,000 at 1,550 (prev 1,540), no sector, no category
    ledger = ledger_replay(
        [
            _buy(TCS, ist(2024, 1, 10), "5", "3600"),
            _buy(INFY, ist(2024, 2, 1), "20", "1400"),
            _buy(HDFCBANK, ist(2024, 3, 1), "4", "1500"),
            _buy(RELIANCE, ist(2024, 5, 2), "10", "2400", "24"),
            _buy(TCS, ist(2024, 6, 3, 10, 5), "5", "3800", "19"),
        ]
    )
    quotes = {
        RELIANCE.pk: Q(D("2500"), D("2450")),
        TCS.pk: Q(D("3900"), D("3850")),
        HDFCBANK.pk: Q(D("1550"), D("1540")),
    }
    return portfolio_valuation(ledger=ledger, instruments=INSTRUMENTS, quotes=quotes)


def _holding(data: dict[str, Any], symbol: str) -> dict[str, Any]:
    return next(h for h in data["holdings"] if h["symbol"] == symbol)


def test_each_holding_has_its_cost_value_pl_and_weight() -> None:
    data = valuation_data(_example())
    # total value 25,000 + 39,000 + 28,000 + 6,200 = 98,200
    reliance = _holding(data, "RELIANCE")
    assert {
        k: reliance[k]
        for k in (
            "quantity",
            "average_cost",
            "invested",
            "last_price",
            "prev_close",
            "current_value",
            "unrealised_pl",
            "unrealised_pl_percent",
            "day_change",
            "day_change_percent",
            "weight",
            "priced",
            "price_source",
        )
    } == {
        "quantity": "10.000000",
        "average_cost": "2402.4000",
        "invested": "24024.00",
        "last_price": "2500.0000",
        "prev_close": "2450.0000",
        "current_value": "25000.00",
        "unrealised_pl": "976.00",
        "unrealised_pl_percent": "4.06",  # 976 / 24,024
        "day_change": "500.00",
        "day_change_percent": "2.04",  # 10 × 50 on 24,500
        "weight": "0.2546",  # 25,000 / 98,200
        "priced": True,
        "price_source": "quote",
    }
    assert reliance["key"] == "NSE:RELIANCE"
    assert [h["symbol"] for h in data["holdings"]] == ["TCS", "INFY", "RELIANCE", "HDFCBANK"]


def test_a_lot_bought_today_counts_its_day_change_from_what_it_cost() -> None:
    # TCS: the January lot moves 5 × (3,900 − 3,850) = 250 on 19,250; the lot bought today
    # moves 5 × 3,900 − 19,019 = 481 on its cost 19,019 (not 5 × 50 = 250).
    # day change 731 on 38,269 = 1.91 %
    tcs = _holding(valuation_data(_example()), "TCS")
    assert (tcs["day_change"], tcs["day_change_percent"]) == ("731.00", "1.91")
    assert (tcs["invested"], tcs["current_value"], tcs["unrealised_pl"]) == (
        "37019.00",
        "39000.00",
        "1981.00",
    )


def test_a_holding_without_a_price_is_shown_at_cost_and_flagged() -> None:
    infy = _holding(valuation_data(_example()), "INFY")
    assert (infy["priced"], infy["price_source"]) == (False, "cost")
    assert (infy["current_value"], infy["last_price"], infy["unrealised_pl"]) == (
        "28000.00",
        "1400.0000",
        "0.00",
    )
    assert (infy["day_change"], infy["day_change_percent"], infy["prev_close"]) == (
        "0.00",
        None,
        None,
    )


def test_totals_add_up_the_holdings() -> None:
    # invested 24,024 + 37,019 + 28,000 + 6,000 = 95,043; unrealised 98,200 − 95,043 = 3,157
    # (976 + 1,981 + 0 + 200); P/L % 3,157 / 95,043 = 3.32 %
    # day change 500 + 731 + 0 + 40 = 1,271 on 98,200 − 1,271 = 96,929 → 1.31 %
    # cash −95,043 (buys with no deposit); charges 24 + 19 = 43
    totals = valuation_data(_example())["totals"]
    assert totals == {
        "total_value": "98200.00",
        "cash": "-95043.00",
        "invested": "95043.00",
        "net_invested": "95000.00",
        "charges": "43.00",
        "fees": "0.00",
        "dividends": "0.00",
        "unrealised_pl": "3157.00",
        "unrealised_pl_percent": "3.32",
        "realised_pl": "0.00",
        "profit_loss": "3157.00",
        "profit_loss_percent": "3.32",
        "day_change": "1271.00",
        "day_change_percent": "1.31",
    }


def test_allocation_by_instrument_sector_and_market_cap_largest_first() -> None:
    allocation = valuation_data(_example())["allocation"]
    assert [(s["key"], s["value"], s["weight"]) for s in allocation["instrument"]] == [
        ("NSE:TCS", "39000.00", "0.3971"),
        ("NSE:INFY", "28000.00", "0.2851"),
        ("NSE:RELIANCE", "25000.00", "0.2546"),
        ("NSE:HDFCBANK", "6200.00", "0.0631"),
    ]
    # IT 39,000 + 28,000 = 67,000 → 0.6823
    assert [(s["key"], s["label"], s["value"], s["weight"]) for s in allocation["sector"]] == [
        ("Information Technology", "Information Technology", "67000.00", "0.6823"),
        ("Energy", "Energy", "25000.00", "0.2546"),
        ("", "Unclassified", "6200.00", "0.0631"),
    ]
    # large 25,000 + 39,000 = 64,000 → 0.6517
    assert [(s["key"], s["label"], s["weight"]) for s in allocation["market_cap"]] == [
        ("large", "Large cap", "0.6517"),
        ("mid", "Mid cap", "0.2851"),
        ("", "Unclassified", "0.0631"),
    ]


def test_concentration_warnings_name_each_stock_and_sector_over_the_limits() -> None:
    # Defaults 20 % a stock, 40 % a sector: TCS 39.7, INFY 28.5, RELIANCE 25.5; IT 68.2.
    warnings = valuation_data(_example())["warnings"]
    assert [(w["code"], w["key"], w["weight"]) for w in warnings] == [
        ("stock_concentration", "NSE:TCS", "0.3971"),
        ("stock_concentration", "NSE:INFY", "0.2851"),
        ("stock_concentration", "NSE:RELIANCE", "0.2546"),
        ("sector_concentration", "Information Technology", "0.6823"),
    ]
    assert warnings[0]["message"] == (
        "TCS is 39.7% of the portfolio, above the 20.0% guideline for one stock."
    )


def test_concentration_limits_come_from_the_arguments_or_settings(settings: Any) -> None:
    ledger = ledger_replay(
        [_buy(TCS, ist(2024, 1, 10), "1", "100"), _buy(RELIANCE, ist(2024, 1, 10), "3", "100")]
    )
    quotes = {TCS.pk: Q(D("100"), D("100")), RELIANCE.pk: Q(D("100"), D("100"))}
    # TCS 25 %, RELIANCE 75 %; Energy 75 %, IT 25 %
    strict = portfolio_valuation(
        ledger=ledger,
        instruments=INSTRUMENTS,
        quotes=quotes,
        max_stock_weight=D("0.80"),
        max_sector_weight=D("0.80"),
    )
    assert strict.warnings == []
    settings.PORTFOLIO_MAX_STOCK_WEIGHT = "0.70"
    settings.PORTFOLIO_MAX_SECTOR_WEIGHT = "0.74"
    loose = portfolio_valuation(ledger=ledger, instruments=INSTRUMENTS, quotes=quotes)
    assert [(w.code, w.key) for w in loose.warnings] == [
        ("stock_concentration", "NSE:RELIANCE"),
        ("sector_concentration", "Energy"),
    ]


def test_a_bonus_allotted_today_uses_the_previous_close_not_its_nil_cost() -> None:
    # 10 × 100 in January; bonus 1:1 today (10 more at nil cost). Quote 55, prev close 50
    # (already adjusted): day change 20 × 5 = 100 on 20 × 50 = 1,000 → 10 %.
    ledger = ledger_replay(
        [
            _buy(RELIANCE, ist(2024, 1, 10), "10", "100"),
            Entry(
                kind="bonus",
                executed_at=ist(2024, 6, 3, 9, 0),
                instrument_id=RELIANCE.pk,
                ratio_from=1,
                ratio_to=1,
            ),
        ]
    )
    valuation = portfolio_valuation(
        ledger=ledger, instruments=INSTRUMENTS, quotes={RELIANCE.pk: Q(D("55"), D("50"))}
    )
    (holding,) = valuation.holdings
    assert (holding.day_change, holding.day_change_percent) == (D("100"), D("10"))


def test_a_sold_out_instrument_is_listed_as_closed_with_its_realised_pl() -> None:
    # 4 × 1,500 bought, 4 × 1,600 sold → +400; dividend 20 before the sale → realised 420
    ledger = ledger_replay(
        [
            _buy(HDFCBANK, ist(2024, 3, 1), "4", "1500"),
            Entry(
                kind="dividend",
                executed_at=ist(2024, 4, 1),
                instrument_id=HDFCBANK.pk,
                amount=D("20"),
            ),
            Entry(
                kind="sell",
                executed_at=ist(2024, 5, 1),
                instrument_id=HDFCBANK.pk,
                quantity=D("4"),
                price=D("1600"),
            ),
        ]
    )
    valuation = portfolio_valuation(ledger=ledger, instruments=INSTRUMENTS, quotes={})
    data = valuation_data(valuation)
    assert data["holdings"] == []
    assert data["closed"] == [
        {
            "symbol": "HDFCBANK",
            "exchange": "NSE",
            "name": "Hdfcbank",
            "realised_pl": "420.00",
            "dividends": "20.00",
        }
    ]
    assert data["totals"]["profit_loss"] == "420.00"
    assert data["totals"]["total_value"] == "0.00"
    assert data["totals"]["day_change_percent"] is None


def test_the_live_frame_has_the_documented_fields() -> None:
    live = valuation_live_data(_example())
    assert set(live) == {
        "total_value",
        "cash",
        "invested",
        "unrealised_pl",
        "realised_pl",
        "profit_loss",
        "profit_loss_percent",
        "day_change",
        "day_change_percent",
        "as_of",
        "allocation",
        "holdings",
    }
    assert live["as_of"] == "2024-06-03T15:29:00+05:30"
    assert live["allocation"][0] == {"symbol": "NSE:TCS", "value": "39000.00", "weight": "0.3971"}
    assert set(live["holdings"][0]) == {
        "symbol",
        "quantity",
        "last_price",
        "current_value",
        "unrealised_pl",
        "unrealised_pl_percent",
        "day_change",
        "day_change_percent",
        "weight",
    }


# --- through the summary API ------------------------------------------------------------------


def _summary(client: APIClient, portfolio: Portfolio) -> dict[str, Any]:
    response = client.get(f"/api/v1/portfolios/{portfolio.pk}/summary/")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_summary_prices_a_holding_without_a_quote_at_its_last_daily_close(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    # 10 INFY × 1,400 = 14,000; last daily close 1,450 (the older bar 1,300 is ignored)
    # → value 14,500, unrealised 500
    tx_add(portfolio, "buy", ist(2024, 2, 1), instruments["INFY"], quantity="10", price="1400")
    for day, close in ((ist(2024, 5, 30, 0, 0), "1300"), (ist(2024, 5, 31, 0, 0), "1450")):
        Candle.objects.create(
            instrument=instruments["INFY"],
            timeframe=Timeframe.D1,
            start=day,
            open=close,
            high=close,
            low=close,
            close=D(close),
            source=DataSource.CSV,
        )
    body = _summary(auth_client, portfolio)
    (holding,) = body["holdings"]
    assert (holding["price_source"], holding["priced"], holding["last_price"]) == (
        "close",
        True,
        "1450.0000",
    )
    assert (holding["current_value"], holding["unrealised_pl"], holding["day_change"]) == (
        "14500.00",
        "500.00",
        "0.00",
    )
    assert body["as_of"] == "2024-05-31T00:00:00+05:30"
    assert body["simulated"] is False


@pytest.mark.django_db
def test_summary_reports_simulated_prices_and_a_stale_feed(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tx_add(portfolio, "buy", ist(2024, 2, 1), instruments["TCS"], quantity="2", price="3500")
    quote_set(instruments["TCS"], "3600", "3550", source=DataSource.NSE)
    with mock.patch("apps.portfolios.selectors.feed_status", return_value={"stale": False}):
        body = _summary(auth_client, portfolio)
    assert (body["simulated"], body["stale"], body["currency"]) == (False, False, "INR")
    assert body["holdings"][0]["price_source"] == "quote"

    quote_set(instruments["TCS"], "3600", "3550", source=DataSource.SIMULATED)
    with mock.patch("apps.portfolios.selectors.feed_status", return_value={"stale": True}):
        body = _summary(auth_client, portfolio)
    assert (body["simulated"], body["stale"]) == (True, True)


@pytest.mark.django_db
def test_an_empty_portfolio_has_zero_totals(auth_client: APIClient, portfolio: Portfolio) -> None:
    body = _summary(auth_client, portfolio)
    assert body["holdings"] == []
    assert body["warnings"] == []
    assert body["totals"]["total_value"] == "0.00"
    assert body["totals"]["profit_loss_percent"] is None
    assert (body["as_of"], body["stale"], body["simulated"]) == (None, False, False)


@pytest.mark.django_db
def test_summary_of_10000_transactions_takes_a_bounded_number_of_queries(
    auth_client: APIClient,
    portfolio: Portfolio,
    instruments: dict[str, Instrument],
    django_assert_max_num_queries: Any,
) -> None:
    held = [instruments[s] for s in ("RELIANCE", "TCS", "INFY", "HDFCBANK")]
    start = ist(2020, 1, 1, 10, 0)
    rows = []
    # Per instrument, every fifth transaction sells 1 of the 2 bought by each of the others:
    # 2,000 buys and 500 sells each, ending with 3,500 shares.
    for i in range(10_000):
        kind, quantity = ("sell", D("1")) if (i // 4) % 5 == 4 else ("buy", D("2"))
        rows.append(
            Transaction(
                portfolio=portfolio,
                kind=kind,
                instrument=held[i % 4],
                executed_at=start + timedelta(hours=i),
                quantity=quantity,
                price=D("100") + i % 50,
                brokerage=D("1.5"),
            )
        )
    Transaction.objects.bulk_create(rows)
    for instrument in held[:3]:
        quote_set(instrument, "150", "149")

    began = time.perf_counter()
    with django_assert_max_num_queries(8):
        body = _summary(auth_client, portfolio)
    elapsed = time.perf_counter() - began
    print(f"summary of 10,000 transactions: {elapsed * 1000:.0f} ms")
    assert [h["quantity"] for h in body["holdings"]] == ["3500.000000"] * 4
    # A sanity bound for a shared CI machine; bench/ measures the real p95.
    assert elapsed < 3, elapsed
