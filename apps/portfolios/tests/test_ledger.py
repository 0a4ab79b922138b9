"""Worked examples, computed by hand in the comments, on `ledger_replay` and through the API.

Each expected figure is written out from the rule it follows (FIFO, charges in the buy cost,
sell charges out of the proceeds, split keeps cost and date, bonus is a nil-cost lot dated
at allotment), never taken from the code's own output.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios.ledger import Entry, ledger_replay
from apps.portfolios.models import Portfolio

from .conftest import ist, quote_set

D = Decimal
A, B = 1, 2  # instrument ids of the pure examples


def buy(
    when: datetime,
    qty: str,
    price: str,
    charges: str = "0",
    instrument: int = A,
    id: int | None = None,
) -> Entry:
    return Entry(
        kind="buy",
        executed_at=when,
        instrument_id=instrument,
        quantity=D(qty),
        price=D(price),
        charges=D(charges),
        id=id,
    )


def sell(
    when: datetime,
    qty: str,
    price: str,
    charges: str = "0",
    instrument: int = A,
    id: int | None = None,
) -> Entry:
    return Entry(
        kind="sell",
        executed_at=when,
        instrument_id=instrument,
        quantity=D(qty),
        price=D(price),
        charges=D(charges),
        id=id,
    )


# --- on the pure replay -----------------------------------------------------------------------


def test_a_buy_is_one_lot_costing_price_times_quantity_plus_its_charges() -> None:
    # 10 × 2,500 = 25,000; charges 20 + 25 + 3.75 = 48.75 → cost 25,048.75
    # average 25,048.75 / 10 = 2,504.875
    ledger = ledger_replay([buy(ist(2024, 1, 10), "10", "2500", "48.75")])
    position = ledger.positions[A]
    assert position.quantity == D("10")
    assert position.cost == D("25048.75")
    assert position.average_cost == D("2504.8750")
    assert ledger.cash == D("-25048.75")
    assert ledger.net_invested == D("25000")
    assert ledger.charges == D("48.75")
    assert ledger.realised_pl == 0


def test_a_partial_sell_takes_the_oldest_lot_first_and_splits_its_charges_by_quantity() -> None:
    # Lot 1: 10 × 100 + 10 charges = 1,010.   Lot 2: 20 × 130 + 20 charges = 2,620.
    # Sell 15 × 150 = 2,250 gross, 30 charges → 2,220 net.
    #   all of lot 1 (10): cost 1,010, proceeds 2,220 × 10/15 = 1,480.00 → gain 470
    #   5 of lot 2:        cost 2,620 × 5/20 = 655, proceeds 2,220 − 1,480 = 740 → gain 85
    # realised 555; left: 15 of lot 2 costing 2,620 − 655 = 1,965 (average 131)
    ledger = ledger_replay(
        [
            buy(ist(2024, 1, 10), "10", "100", "10", id=1),
            buy(ist(2024, 2, 12), "20", "130", "20", id=2),
            sell(ist(2024, 3, 11), "15", "150", "30", id=3),
        ]
    )
    first, second = ledger.realisations
    assert (first.lot_entry_id, first.quantity, first.cost, first.proceeds) == (
        1,
        D("10"),
        D("1010"),
        D("1480.00"),
    )
    assert (second.lot_entry_id, second.quantity, second.cost, second.proceeds) == (
        2,
        D("5"),
        D("655.00"),
        D("740.00"),
    )
    assert ledger.realised_pl == D("555")
    position = ledger.positions[A]
    assert position.quantity == D("15")
    assert position.cost == D("1965")
    assert position.average_cost == D("131")
    # cash: −1,010 − 2,620 + 2,220 = −1,410; net invested 1,000 + 2,600 − 2,250 = 1,350
    assert ledger.cash == D("-1410")
    assert ledger.net_invested == D("1350")
    assert ledger.charges == D("60")


def test_a_split_multiplies_the_shares_and_keeps_each_lots_cost_and_date() -> None:
    # 10 × 1,000 = 10,000; split 1:5 → 50 shares still costing 10,000 (average 200),
    # still acquired on 5 Jan. Sell 20 × 250 = 5,000: cost 10,000 × 20/50 = 4,000 → gain 1,000.
    ledger = ledger_replay(
        [
            buy(ist(2024, 1, 5), "10", "1000", id=1),
            Entry(
                kind="split",
                executed_at=ist(2024, 2, 1),
                instrument_id=A,
                ratio_from=1,
                ratio_to=5,
                id=2,
            ),
        ]
    )
    position = ledger.positions[A]
    assert (position.quantity, position.cost, position.average_cost) == (
        D("50"),
        D("10000"),
        D("200"),
    )
    assert position.lots[0].acquired_at == ist(2024, 1, 5)

    ledger.apply(sell(ist(2024, 3, 1), "20", "250", id=3))
    (piece,) = ledger.realisations
    assert (piece.acquired_at, piece.cost, piece.proceeds, piece.gain) == (
        ist(2024, 1, 5),
        D("4000"),
        D("5000"),
        D("1000"),
    )
    assert ledger.positions[A].quantity == D("30")


def test_a_bonus_adds_a_nil_cost_lot_dated_at_allotment() -> None:
    # 10 × 300 = 3,000; bonus 1:1 on 1 Jun → a second lot of 10 at cost 0 acquired 1 Jun.
    # 20 shares cost 3,000 (average 150). Sell 15 × 200 (FIFO):
    #   the bought 10: cost 3,000, proceeds 2,000 → −1,000
    #   5 bonus shares: cost 0, proceeds 1,000 → +1,000
    # realised 0; left: 5 bonus shares at nil cost, acquired 1 Jun.
    ledger = ledger_replay(
        [
            buy(ist(2024, 1, 5), "10", "300", id=1),
            Entry(
                kind="bonus",
                executed_at=ist(2024, 6, 1),
                instrument_id=A,
                ratio_from=1,
                ratio_to=1,
                id=2,
            ),
        ]
    )
    bought, bonus = ledger.positions[A].lots
    assert (bought.quantity, bought.cost) == (D("10"), D("3000"))
    assert (bonus.quantity, bonus.cost, bonus.acquired_at) == (D("10"), D("0"), ist(2024, 6, 1))
    assert ledger.positions[A].average_cost == D("150")

    ledger.apply(sell(ist(2024, 7, 1), "15", "200", id=3))
    gains = [(r.quantity, r.cost, r.proceeds) for r in ledger.realisations]
    assert gains == [(D("10"), D("3000"), D("2000")), (D("5"), D("0"), D("1000"))]
    assert ledger.realised_pl == 0
    (left,) = ledger.positions[A].lots
    assert (left.quantity, left.cost, left.acquired_at) == (D("5"), D("0"), ist(2024, 6, 1))


def test_a_dividend_is_realised_income_and_cash_and_reduces_net_invested() -> None:
    # 10 × 1,500 = 15,000; dividend 215 (21.50 a share): realised 215, cash −15,000 + 215,
    # net invested 15,000 − 215 = 14,785; the lot's cost is unchanged.
    ledger = ledger_replay(
        [
            buy(ist(2024, 1, 5), "10", "1500"),
            Entry(kind="dividend", executed_at=ist(2024, 6, 1), instrument_id=A, amount=D("215")),
        ]
    )
    assert ledger.realised_pl == D("215")
    assert ledger.positions[A].dividends == D("215")
    assert ledger.cash == D("-14785")
    assert ledger.net_invested == D("14785")
    assert ledger.positions[A].cost == D("15000")


def test_a_fee_is_a_realised_loss_and_a_charge_and_a_deposit_only_moves_cash() -> None:
    # deposit 50,000 → cash 50,000; fee 354 (DP charges with GST) → realised −354,
    # charges 354, cash 49,646; a withdrawal of 10,000 → cash 39,646. No holdings touched.
    ledger = ledger_replay(
        [
            Entry(kind="deposit", executed_at=ist(2024, 1, 1), amount=D("50000")),
            Entry(kind="fee", executed_at=ist(2024, 3, 31), amount=D("354")),
            Entry(kind="withdrawal", executed_at=ist(2024, 4, 2), amount=D("10000")),
        ]
    )
    assert ledger.realised_pl == D("-354")
    assert ledger.charges == D("354")
    assert ledger.cash == D("39646")
    assert ledger.net_invested == 0
    assert ledger.positions == {}


# --- the same through the API -----------------------------------------------------------------


def _post(client: APIClient, portfolio: Portfolio, body: dict[str, Any]) -> Any:
    response = client.post(f"/api/v1/portfolios/{portfolio.pk}/transactions/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _summary(client: APIClient, portfolio: Portfolio) -> dict[str, Any]:
    response = client.get(f"/api/v1/portfolios/{portfolio.pk}/summary/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_fifo_example_through_the_api(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    # The partial-sell example above on TCS, then priced at 160 (previous close 155):
    # value 15 × 160 = 2,400; unrealised 2,400 − 1,965 = 435; realised 555; P/L 990
    # check: value − net invested − charges = 2,400 − 1,350 − 60 = 990
    # P/L % of every share's cost: 990 / (1,965 + 1,010 + 655) = 990 / 3,630 = 27.27 %
    # day change 15 × (160 − 155) = 75, on 15 × 155 = 2,325 → 3.23 %
    _post(
        auth_client,
        portfolio,
        {
            "kind": "buy",
            "symbol": "TCS",
            "executed_at": "2024-01-10",
            "quantity": "10",
            "price": "100",
            "brokerage": "10",
        },
    )
    _post(
        auth_client,
        portfolio,
        {
            "kind": "buy",
            "symbol": "TCS",
            "executed_at": "2024-02-12",
            "quantity": "20",
            "price": "130",
            "charges": "20",
        },
    )
    _post(
        auth_client,
        portfolio,
        {
            "kind": "sell",
            "symbol": "TCS",
            "executed_at": "2024-03-11",
            "quantity": "15",
            "price": "150",
            "stt": "25",
            "exchange_fees": "5",
        },
    )
    quote_set(instruments["TCS"], "160", "155")

    body = _summary(auth_client, portfolio)
    assert body["totals"] == {
        "total_value": "2400.00",
        "cash": "-1410.00",
        "invested": "1965.00",
        "net_invested": "1350.00",
        "charges": "60.00",
        "fees": "0.00",
        "dividends": "0.00",
        "unrealised_pl": "435.00",
        "unrealised_pl_percent": "22.14",  # 435 / 1,965
        "realised_pl": "555.00",
        "profit_loss": "990.00",
        "profit_loss_percent": "27.27",
        "day_change": "75.00",
        "day_change_percent": "3.23",
    }
    (holding,) = body["holdings"]
    assert (holding["quantity"], holding["average_cost"], holding["realised_pl"]) == (
        "15.000000",
        "131.0000",
        "555.00",
    )


def test_split_bonus_dividend_and_fee_through_the_api(
    auth_client: APIClient, portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    # INFY: buy 10 × 1,000 (cost 10,000) → split 1:5 (50 shares, cost 10,000)
    #       → bonus 1:1 (+50 at nil cost: 100 shares, cost 10,000, average 100)
    #       → dividend 500 → fee 100.
    # Priced at 120, previous close 118 (quote on a later day):
    # value 100 × 120 = 12,000; unrealised 12,000 − 10,000 = 2,000; realised 500 − 100 = 400
    # P/L 2,400; net invested 10,000 − 500 = 9,500; charges 100 (the fee):
    # check 12,000 − 9,500 − 100 = 2,400. P/L % 2,400 / 10,000 = 24 %.
    # day change 100 × (120 − 118) = 200 on 11,800 → 1.69 %.
    _post(
        auth_client,
        portfolio,
        {
            "kind": "buy",
            "symbol": "INFY",
            "executed_at": "2024-01-05",
            "quantity": "10",
            "price": "1000",
        },
    )
    _post(
        auth_client,
        portfolio,
        {
            "kind": "split",
            "symbol": "INFY",
            "executed_at": "2024-02-01",
            "ratio_from": 1,
            "ratio_to": 5,
        },
    )
    _post(
        auth_client,
        portfolio,
        {
            "kind": "bonus",
            "symbol": "INFY",
            "executed_at": "2024-03-01",
            "ratio_from": 1,
            "ratio_to": 1,
        },
    )
    _post(
        auth_client,
        portfolio,
        {"kind": "dividend", "symbol": "INFY", "executed_at": "2024-04-01", "amount": "500"},
    )
    _post(auth_client, portfolio, {"kind": "fee", "executed_at": "2024-04-30", "amount": "100"})
    quote_set(instruments["INFY"], "120", "118", at=ist(2024, 6, 3, 15, 29))

    body = _summary(auth_client, portfolio)
    totals = body["totals"]
    assert (totals["total_value"], totals["invested"], totals["unrealised_pl"]) == (
        "12000.00",
        "10000.00",
        "2000.00",
    )
    assert (totals["realised_pl"], totals["dividends"], totals["fees"]) == (
        "400.00",
        "500.00",
        "100.00",
    )
    assert (totals["profit_loss"], totals["profit_loss_percent"]) == ("2400.00", "24.00")
    assert (totals["net_invested"], totals["charges"]) == ("9500.00", "100.00")
    assert (totals["day_change"], totals["day_change_percent"]) == ("200.00", "1.69")
    (holding,) = body["holdings"]
    assert (holding["quantity"], holding["average_cost"], holding["dividends"]) == (
        "100.000000",
        "100.0000",
        "500.00",
    )
