"""The portfolios REST API: create/edit/delete, every validation error on its field, history
checks on edits and deletes, stale snapshots and the rebuild queued after commit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios import services
from apps.portfolios.models import MAX_PORTFOLIOS_PER_OWNER, Portfolio, Transaction

from .conftest import ist, tx_add

pytestmark = pytest.mark.django_db

D = Decimal
BUY = {
    "kind": "buy",
    "symbol": "RELIANCE",
    "executed_at": "2024-03-05",
    "quantity": "10",
    "price": "2500",
}


def _tx_url(portfolio: Portfolio, tx: Transaction | int | None = None) -> str:
    base = f"/api/v1/portfolios/{portfolio.pk}/transactions/"
    return base if tx is None else f"{base}{getattr(tx, 'pk', tx)}/"


def _fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert body["code"] == "invalid"
    fields: dict[str, list[str]] = body["fields"]
    return fields


# --- portfolios -------------------------------------------------------------------------------


def test_a_new_portfolio_gets_the_default_benchmark(
    auth_client: APIClient, instruments: dict[str, Instrument]
) -> None:
    response = auth_client.post("/api/v1/portfolios/", {"name": "Retirement"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["benchmark"], body["benchmark_name"]) == (
        "Retirement",
        "NIFTY 50",
        "Nifty 50",
    )
    assert (body["base_currency"], body["transaction_count"], body["position"]) == ("INR", 0, 0)


def test_a_portfolio_can_be_created_without_a_benchmark_or_with_another(
    auth_client: APIClient, instruments: dict[str, Instrument]
) -> None:
    none = auth_client.post("/api/v1/portfolios/", {"name": "A", "benchmark": None}, format="json")
    assert none.json()["benchmark"] is None
    tcs = auth_client.post("/api/v1/portfolios/", {"name": "B", "benchmark": "tcs"}, format="json")
    assert tcs.json()["benchmark"] == "TCS"
    unknown = auth_client.post(
        "/api/v1/portfolios/", {"name": "C", "benchmark": "NOPE 99"}, format="json"
    )
    assert "NOPE 99" in _fields(unknown)["benchmark"][0]


def test_portfolio_names_are_unique_per_owner_in_any_case(
    auth_client: APIClient, outsider_client: APIClient, portfolio: Portfolio
) -> None:
    response = auth_client.post("/api/v1/portfolios/", {"name": "  LONG TERM "}, format="json")
    assert _fields(response) == {"name": ["You already have a portfolio named “LONG TERM”."]}
    other = outsider_client.post("/api/v1/portfolios/", {"name": "Long term"}, format="json")
    assert other.status_code == 201


def test_an_owner_has_at_most_the_maximum_number_of_portfolios(
    auth_client: APIClient, user: Any, instruments: dict[str, Instrument]
) -> None:
    for n in range(MAX_PORTFOLIOS_PER_OWNER):
        services.portfolio_create(owner=user, name=f"P{n}")
    response = auth_client.post("/api/v1/portfolios/", {"name": "One more"}, format="json")
    assert "at most 20 portfolios" in _fields(response)["name"][0]


def test_the_list_shows_the_callers_portfolios_in_order_with_their_counts(
    auth_client: APIClient,
    user: Any,
    other_user: Any,
    portfolio: Portfolio,
    instruments: dict[str, Instrument],
) -> None:
    second = services.portfolio_create(owner=user, name="Trading")
    services.portfolio_create(owner=other_user, name="Not mine")
    tx_add(second, "deposit", date(2024, 1, 1), amount="1000")
    body = auth_client.get("/api/v1/portfolios/").json()
    assert [(p["name"], p["transaction_count"]) for p in body["results"]] == [
        ("Long term", 0),
        ("Trading", 1),
    ]


def test_a_portfolio_can_be_renamed_described_and_unbenchmarked(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = auth_client.patch(
        f"/api/v1/portfolios/{portfolio.pk}/",
        {"name": "Core", "description": "Index-like", "benchmark": None},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["benchmark"]) == ("Core", "Index-like", None)
    kept = auth_client.patch(
        f"/api/v1/portfolios/{portfolio.pk}/", {"description": "x"}, format="json"
    ).json()
    assert (kept["name"], kept["benchmark"]) == ("Core", None)


def test_deleting_a_portfolio_deletes_its_transactions(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    tx_add(portfolio, "deposit", date(2024, 1, 1), amount="1000")
    assert auth_client.delete(f"/api/v1/portfolios/{portfolio.pk}/").status_code == 204
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()
    assert not Transaction.objects.filter(portfolio_id=portfolio.pk).exists()


# --- transactions: happy paths ----------------------------------------------------------------


def test_a_buy_on_a_bare_date_is_stored_at_the_nse_close_with_its_charges(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = auth_client.post(
        _tx_url(portfolio),
        {
            **BUY,
            "brokerage": "20",
            "stt": "25",
            "exchange_fees": "0.87",
            "gst": "3.76",
            "stamp_duty": "3.75",
            "notes": "first",
            "external_id": "T-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "kind": "buy",
        "symbol": "RELIANCE",
        "exchange": "NSE",
        "executed_at": "2024-03-05T15:30:00+05:30",
        "quantity": "10.000000",
        "price": "2500.0000",
        "amount": "0.0000",
        "ratio_from": None,
        "ratio_to": None,
        "brokerage": "20.0000",
        "stt": "25.0000",
        "exchange_fees": "0.8700",
        "gst": "3.7600",
        "stamp_duty": "3.7500",
        "other_charges": "0.0000",
        "charges": "53.3800",
        "notes": "first",
        "external_id": "T-1",
        "source": "manual",
    }


def test_times_without_an_offset_are_indian_and_others_are_converted(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    naive = auth_client.post(
        _tx_url(portfolio), {**BUY, "executed_at": "2024-03-05T10:15:00"}, format="json"
    ).json()
    assert naive["executed_at"] == "2024-03-05T10:15:00+05:30"
    utc = auth_client.post(
        _tx_url(portfolio), {**BUY, "executed_at": "2024-03-05T04:45:00Z"}, format="json"
    ).json()
    assert utc["executed_at"] == "2024-03-05T10:15:00+05:30"


def test_one_total_of_charges_is_stored_as_other_charges(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    body = auth_client.post(_tx_url(portfolio), {**BUY, "charges": "41.5"}, format="json").json()
    assert (body["other_charges"], body["charges"]) == ("41.5000", "41.5000")


def test_a_bare_date_of_today_before_the_close_is_taken_as_now(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    morning = ist(2024, 3, 5, 9, 20)
    assert services.executed_at_from_date(date(2024, 3, 5), now=morning) == morning
    assert services.executed_at_from_date(date(2024, 3, 4), now=morning) == ist(2024, 3, 4)
    evening = ist(2024, 3, 5, 20, 0)
    assert services.executed_at_from_date(date(2024, 3, 5), now=evening) == ist(2024, 3, 5)
    today = timezone.localdate().isoformat()
    response = auth_client.post(_tx_url(portfolio), {**BUY, "executed_at": today}, format="json")
    assert response.status_code == 201, response.content


def test_a_charges_total_in_an_edit_replaces_the_itemised_charges(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    row = auth_client.post(
        _tx_url(portfolio), {**BUY, "brokerage": "20", "stt": "25"}, format="json"
    ).json()
    body = auth_client.patch(_tx_url(portfolio, row["id"]), {"charges": "30"}, format="json").json()
    assert (body["brokerage"], body["stt"], body["other_charges"], body["charges"]) == (
        "0.0000",
        "0.0000",
        "30.0000",
        "30.0000",
    )


def test_each_cash_kind_and_corporate_action_is_accepted(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    bodies = [
        {"kind": "deposit", "executed_at": "2024-03-01", "amount": "100000"},
        BUY,
        {
            "kind": "split",
            "symbol": "RELIANCE",
            "executed_at": "2024-04-01",
            "ratio_from": 1,
            "ratio_to": 2,
        },
        {
            "kind": "bonus",
            "symbol": "RELIANCE",
            "executed_at": "2024-05-01",
            "ratio_from": 1,
            "ratio_to": 1,
        },
        {"kind": "dividend", "symbol": "RELIANCE", "executed_at": "2024-06-01", "amount": "180"},
        {"kind": "fee", "executed_at": "2024-06-30", "amount": "23.6"},
        {"kind": "withdrawal", "executed_at": "2024-07-01", "amount": "5000"},
    ]
    for body in bodies:
        response = auth_client.post(_tx_url(portfolio), body, format="json")
        assert response.status_code == 201, (body, response.content)


def test_a_transaction_can_be_edited(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    row = tx_add(
        portfolio, "buy", date(2024, 3, 5), instruments["TCS"], quantity="10", price="3500"
    )
    response = auth_client.patch(
        _tx_url(portfolio, row), {"quantity": "12", "notes": "fixed"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["quantity"], body["price"], body["notes"], body["symbol"]) == (
        "12.000000",
        "3500.0000",
        "fixed",
        "TCS",
    )


def test_an_edit_can_change_the_kind_when_the_fields_fit_the_new_kind(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    row = tx_add(portfolio, "buy", date(2024, 3, 5), instruments["TCS"], quantity="1", price="100")
    refused = auth_client.patch(
        _tx_url(portfolio, row), {"kind": "fee", "amount": "100"}, format="json"
    )
    assert set(_fields(refused)) == {"symbol", "quantity", "price"}
    response = auth_client.patch(
        _tx_url(portfolio, row),
        {"kind": "fee", "symbol": None, "quantity": "0", "price": "0", "amount": "100"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["kind"], response.json()["symbol"]) == ("fee", None)


def test_a_transaction_can_be_deleted(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    row = tx_add(portfolio, "buy", date(2024, 3, 5), instruments["TCS"], quantity="1", price="100")
    assert auth_client.delete(_tx_url(portfolio, row)).status_code == 204
    assert not Transaction.objects.filter(pk=row.pk).exists()
    assert auth_client.get(_tx_url(portfolio, row)).status_code == 404


def test_the_list_is_newest_first_paginated_and_filtered(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tx_add(portfolio, "buy", date(2024, 1, 2), instruments["TCS"], quantity="5", price="10")
    tx_add(portfolio, "buy", date(2024, 1, 3), instruments["INFY"], quantity="5", price="10")
    tx_add(portfolio, "sell", date(2024, 1, 4), instruments["TCS"], quantity="2", price="11")
    tx_add(portfolio, "fee", date(2024, 1, 5), amount="10")
    body = auth_client.get(_tx_url(portfolio)).json()
    assert body["count"] == 4
    assert [(t["kind"], t["symbol"]) for t in body["results"]] == [
        ("fee", None),
        ("sell", "TCS"),
        ("buy", "INFY"),
        ("buy", "TCS"),
    ]
    tcs = auth_client.get(_tx_url(portfolio), {"instrument": "nse:tcs"}).json()
    assert [t["kind"] for t in tcs["results"]] == ["sell", "buy"]
    buys = auth_client.get(_tx_url(portfolio), {"instrument": "TCS", "kind": "buy"}).json()
    assert buys["count"] == 1
    page = auth_client.get(_tx_url(portfolio), {"page_size": 3, "page": 2}).json()
    assert [t["kind"] for t in page["results"]] == ["buy"]
    assert "kind" in _fields(auth_client.get(_tx_url(portfolio), {"kind": "gift"}))


def test_a_transaction_of_another_portfolio_of_the_same_owner_is_not_found(
    auth_client: APIClient, user: Any, portfolio: Portfolio
) -> None:
    other = services.portfolio_create(owner=user, name="Other")
    row = tx_add(other, "deposit", date(2024, 1, 1), amount="10")
    assert auth_client.get(_tx_url(portfolio, row)).status_code == 404
    assert (
        auth_client.patch(_tx_url(portfolio, row), {"amount": "5"}, format="json").status_code
        == 404
    )
    assert auth_client.delete(_tx_url(portfolio, row)).status_code == 404
    assert Transaction.objects.get(pk=row.pk).amount == D("10")


# --- transactions: validation -----------------------------------------------------------------


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**BUY, "symbol": "NOPE"}, "symbol", "Unknown symbol “NOPE”"),
        ({**BUY, "symbol": "NIFTY 50"}, "symbol", "NIFTY 50 is an index"),
        ({**BUY, "symbol": None}, "symbol", "A buy needs a symbol."),
        ({**BUY, "quantity": "-5"}, "quantity", "more than zero"),
        ({**BUY, "quantity": "0"}, "quantity", "more than zero"),
        ({**BUY, "price": "0"}, "price", "more than zero"),
        ({**BUY, "price": "1.23456"}, "price", "decimal places"),
        ({**BUY, "quantity": "abc"}, "quantity", "valid number"),
        ({**BUY, "amount": "5"}, "amount", "no amount"),
        ({**BUY, "executed_at": TOMORROW}, "executed_at", "cannot be in the future"),
        ({**BUY, "executed_at": "5/3/2024"}, "executed_at", "ISO 8601"),
        ({**BUY, "brokerage": "-1"}, "brokerage", "cannot be negative"),
        ({**BUY, "charges": "5", "gst": "1"}, "charges", "not both"),
        ({**BUY, "kind": "gift"}, "kind", "valid choice"),
        (
            {"kind": "split", "symbol": "RELIANCE", "executed_at": "2024-03-06"},
            "ratio_from",
            "needs ratio_from and ratio_to",
        ),
        (
            {
                "kind": "split",
                "symbol": "RELIANCE",
                "executed_at": "2024-03-06",
                "ratio_from": 0,
                "ratio_to": 5,
            },
            "ratio_from",
            "at least 1",
        ),
        (
            {"kind": "dividend", "executed_at": "2024-03-06", "amount": "10"},
            "symbol",
            "needs a symbol",
        ),
        (
            {"kind": "dividend", "symbol": "RELIANCE", "executed_at": "2024-03-06"},
            "amount",
            "more than zero",
        ),
        (
            {"kind": "fee", "symbol": "RELIANCE", "executed_at": "2024-03-06", "amount": "10"},
            "symbol",
            "has no symbol",
        ),
        (
            {"kind": "deposit", "executed_at": "2024-03-06", "amount": "0"},
            "amount",
            "more than zero",
        ),
        (
            {"kind": "deposit", "executed_at": "2024-03-06", "amount": "10", "brokerage": "1"},
            "brokerage",
            "enter other costs as a fee",
        ),
        (
            {"kind": "deposit", "executed_at": "2024-03-06", "amount": "10", "ratio_to": 2},
            "ratio_to",
            "Only splits and bonus issues",
        ),
        (
            {
                "kind": "split",
                "symbol": "TCS",
                "executed_at": "2024-03-06",
                "ratio_from": 1,
                "ratio_to": 5,
            },
            "symbol",
            "You held no TCS on 2024-03-06",
        ),
        (
            {
                "kind": "bonus",
                "symbol": "TCS",
                "executed_at": "2024-03-06",
                "ratio_from": 1,
                "ratio_to": 1,
            },
            "symbol",
            "You held no TCS on 2024-03-06",
        ),
        (
            {"kind": "dividend", "symbol": "TCS", "executed_at": "2024-03-06", "amount": "5"},
            "symbol",
            "You held no TCS on 2024-03-06",
        ),
        ({**BUY, "external_id": "T-1"}, "external_id", "already in this portfolio"),
    ],
)
def test_each_bad_input_is_a_400_on_its_field_and_stores_nothing(
    auth_client: APIClient,
    portfolio: Portfolio,
    instruments: dict[str, Instrument],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    tx_add(
        portfolio,
        "buy",
        date(2024, 3, 1),
        instruments["RELIANCE"],
        quantity="1",
        price="2400",
        external_id="T-1",
    )
    response = auth_client.post(_tx_url(portfolio), body, format="json")
    fields = _fields(response)
    assert field in fields, fields
    assert any(message in text for text in fields[field]), fields[field]
    assert Transaction.objects.filter(portfolio=portfolio).count() == 1


def test_a_sell_beyond_the_holding_names_the_quantity_held_and_the_date(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tx_add(portfolio, "buy", date(2024, 3, 1), instruments["RELIANCE"], quantity="10", price="2400")
    tx_add(portfolio, "buy", date(2024, 5, 1), instruments["RELIANCE"], quantity="5", price="2600")
    # On 2 April only the first 10 were held, although 15 are held today.
    response = auth_client.post(
        _tx_url(portfolio),
        {
            "kind": "sell",
            "symbol": "RELIANCE",
            "executed_at": "2024-04-02",
            "quantity": "12",
            "price": "2500",
        },
        format="json",
    )
    assert _fields(response) == {
        "quantity": ["You held 10 RELIANCE on 2024-04-02; you cannot sell 12."]
    }
    assert Transaction.objects.filter(portfolio=portfolio).count() == 2


def test_editing_a_buy_below_what_a_later_sell_needs_is_refused(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    buy = tx_add(
        portfolio, "buy", date(2024, 3, 1), instruments["TCS"], quantity="10", price="3500"
    )
    tx_add(portfolio, "sell", date(2024, 4, 1), instruments["TCS"], quantity="8", price="3600")
    response = auth_client.patch(_tx_url(portfolio, buy), {"quantity": "5"}, format="json")
    assert _fields(response) == {
        "quantity": ["This change leaves the sell of 8 TCS on 2024-04-01 with only 5 held."]
    }
    moved = auth_client.patch(_tx_url(portfolio, buy), {"executed_at": "2024-04-02"}, format="json")
    assert "only 0 held" in _fields(moved)["quantity"][0]
    buy.refresh_from_db()
    assert (buy.quantity, buy.executed_at) == (D("10"), ist(2024, 3, 1))


def test_deleting_a_buy_that_a_later_sell_needs_is_refused_and_nothing_is_deleted(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    buy = tx_add(
        portfolio, "buy", date(2024, 3, 1), instruments["TCS"], quantity="10", price="3500"
    )
    sell = tx_add(
        portfolio, "sell", date(2024, 4, 1), instruments["TCS"], quantity="8", price="3600"
    )
    response = auth_client.delete(_tx_url(portfolio, buy))
    assert _fields(response) == {
        "quantity": ["This change leaves the sell of 8 TCS on 2024-04-01 with only 0 held."]
    }
    assert Transaction.objects.filter(pk=buy.pk).exists()
    # Deleting the sell first, then the buy, is fine.
    assert auth_client.delete(_tx_url(portfolio, sell)).status_code == 204
    assert auth_client.delete(_tx_url(portfolio, buy)).status_code == 204


def test_deleting_the_only_buy_before_a_split_is_refused_on_the_symbol(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    buy = tx_add(
        portfolio, "buy", date(2024, 3, 1), instruments["TCS"], quantity="10", price="3500"
    )
    tx_add(portfolio, "split", date(2024, 4, 1), instruments["TCS"], ratio_from=1, ratio_to=2)
    response = auth_client.delete(_tx_url(portfolio, buy))
    assert _fields(response) == {
        "symbol": ["This change leaves the split of TCS on 2024-04-01 with no shares held."]
    }


def test_a_dividend_paid_after_the_shares_were_sold_is_accepted(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    # Record date before the sale, payment after it: the shares were held, just not now.
    tx_add(portfolio, "buy", date(2024, 3, 1), instruments["TCS"], quantity="10", price="3500")
    tx_add(portfolio, "sell", date(2024, 4, 1), instruments["TCS"], quantity="10", price="3600")
    tx_add(portfolio, "dividend", date(2024, 4, 20), instruments["TCS"], amount="280")


# --- stale snapshots and the rebuild ----------------------------------------------------------


def _stale_from(portfolio: Portfolio) -> date | None:
    portfolio.refresh_from_db()
    return portfolio.snapshots_stale_from


def test_every_write_marks_snapshots_stale_from_the_earliest_changed_date(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    assert _stale_from(portfolio) is None
    row = auth_client.post(_tx_url(portfolio), BUY, format="json").json()
    assert _stale_from(portfolio) == date(2024, 3, 5)
    auth_client.post(_tx_url(portfolio), {**BUY, "executed_at": "2024-06-01"}, format="json")
    assert _stale_from(portfolio) == date(2024, 3, 5)  # a later change keeps the earlier date

    Portfolio.objects.filter(pk=portfolio.pk).update(snapshots_stale_from=None)  # rebuilt
    auth_client.patch(_tx_url(portfolio, row["id"]), {"executed_at": "2024-05-01"}, format="json")
    assert _stale_from(portfolio) == date(2024, 3, 5)  # the old date is the earliest changed

    Portfolio.objects.filter(pk=portfolio.pk).update(snapshots_stale_from=None)
    auth_client.delete(_tx_url(portfolio, row["id"]))
    assert _stale_from(portfolio) == date(2024, 5, 1)

    # A time late in the evening is still that Indian day (18:30 UTC is midnight IST).
    auth_client.post(
        _tx_url(portfolio), {**BUY, "executed_at": "2024-02-01T18:29:00Z"}, format="json"
    )
    assert _stale_from(portfolio) == date(2024, 2, 1)


def test_the_rebuild_is_queued_after_commit_with_the_portfolio_id(
    auth_client: APIClient, portfolio: Portfolio, django_capture_on_commit_callbacks: Any
) -> None:
    with mock.patch("apps.portfolios.tasks.portfolio_snapshots_rebuild.delay") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            auth_client.post(_tx_url(portfolio), BUY, format="json")
        assert delay.call_count == 0  # nothing inside the transaction
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(portfolio.pk)


def test_a_refused_write_queues_nothing(
    auth_client: APIClient, portfolio: Portfolio, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        auth_client.post(_tx_url(portfolio), {**BUY, "quantity": "-1"}, format="json")
    assert callbacks == []
    assert _stale_from(portfolio) is None


# --- the batch service used by imports --------------------------------------------------------


def _data(
    kind: str, day: date, instrument: Instrument | None = None, **values: Any
) -> services.TransactionData:
    return services.TransactionData(
        kind=kind, executed_at=services.executed_at_from_date(day), instrument=instrument, **values
    )


def test_a_batch_is_stored_whole_with_its_source(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tcs = instruments["TCS"]
    rows = services.transactions_add_many(
        portfolio=portfolio,
        source="zerodha",
        entries=[
            _data("buy", date(2024, 1, 2), tcs, quantity=D("5"), price=D("3500"), external_id="1"),
            _data("sell", date(2024, 1, 3), tcs, quantity=D("5"), price=D("3600"), external_id="2"),
        ],
    )
    assert [r.source for r in rows] == ["zerodha", "zerodha"]
    assert Transaction.objects.filter(portfolio=portfolio).count() == 2
    assert _stale_from(portfolio) == date(2024, 1, 2)


def test_a_batch_with_bad_entries_reports_each_by_index_and_stores_nothing(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tcs = instruments["TCS"]
    tx_add(portfolio, "buy", date(2024, 1, 1), tcs, quantity="1", price="10", external_id="old")
    with pytest.raises(services.TransactionBatchInvalid) as refused:
        services.transactions_add_many(
            portfolio=portfolio,
            source="csv",
            entries=[
                _data("buy", date(2024, 1, 2), tcs, quantity=D("-5"), price=D("3500")),
                _data("buy", date(2024, 1, 2), tcs, quantity=D("5"), price=D("3500")),
                _data(
                    "buy", date(2024, 1, 2), tcs, quantity=D("5"), price=D("1"), external_id="old"
                ),
            ],
        )
    assert set(refused.value.by_entry) == {0, 2}
    assert set(refused.value.by_entry[0]) == {"quantity"}
    assert set(refused.value.by_entry[2]) == {"external_id"}
    assert Transaction.objects.filter(portfolio=portfolio).count() == 1


def test_a_batch_whose_sell_exceeds_the_merged_history_is_refused_at_that_entry(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tcs = instruments["TCS"]
    tx_add(portfolio, "buy", date(2024, 1, 1), tcs, quantity="3", price="10")
    with pytest.raises(services.TransactionBatchInvalid) as refused:
        services.transactions_add_many(
            portfolio=portfolio,
            source="csv",
            entries=[
                _data("buy", date(2024, 2, 1), tcs, quantity=D("2"), price=D("10")),
                _data("sell", date(2024, 1, 15), tcs, quantity=D("4"), price=D("10")),
            ],
        )
    assert refused.value.by_entry == {
        1: {"quantity": ["You held 3 TCS on 2024-01-15; you cannot sell 4."]}
    }
    with pytest.raises(ValidationError):  # a TransactionBatchInvalid is a ValidationError
        services.transactions_add_many(
            portfolio=portfolio,
            source="csv",
            entries=[_data("sell", date(2024, 1, 15), tcs, quantity=D("4"), price=D("10"))],
        )
    assert Transaction.objects.filter(portfolio=portfolio).count() == 1
