"""Properties of random histories: holdings never go negative, a sell beyond the holding is
refused without changing anything, and the P/L identity holds exactly (Decimal):

    realised + unrealised == value − net invested − charges

The cash balance is checked against a running total kept by the test itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.market.models import Exchange, Instrument
from apps.portfolios import services
from apps.portfolios.ledger import Entry, Ledger, OversellError, ledger_replay
from apps.portfolios.models import Portfolio, Transaction
from apps.portfolios.valuation import portfolio_valuation

from .conftest import IST

D = Decimal
SIX = D("0.000001")
START = datetime(2020, 1, 1, 10, 0, tzinfo=IST)
IDS = (1, 2, 3)
NSE = Exchange(code="NSE", name="NSE")
INSTRUMENTS = {
    pk: Instrument(
        pk=pk,
        exchange=NSE,
        symbol=f"S{pk}",
        name=f"S{pk}",
        sector=("IT", "Energy", "")[pk - 1],
        market_cap="large",
    )
    for pk in IDS
}

prices = st.decimals(min_value=D("0.05"), max_value=D("20000"), places=2)
charges = st.decimals(min_value=D("0"), max_value=D("250"), places=4)
amounts = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
quantities = st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3)
KINDS = [
    "buy",
    "buy",
    "buy",
    "sell",
    "sell",
    "split",
    "bonus",
    "dividend",
    "fee",
    "deposit",
    "withdrawal",
    "oversell",
]


def _state(ledger: Ledger) -> tuple[Any, ...]:
    # A refused sell of a never-held instrument leaves an empty Position behind: no state.
    return (
        {
            pk: [(lot.quantity, lot.cost) for lot in p.lots]
            for pk, p in ledger.positions.items()
            if p.lots or p.realised_pl
        },
        ledger.cash,
        ledger.realised_pl,
        ledger.charges,
        ledger.net_invested,
        len(ledger.realisations),
    )


def _held(ledger: Ledger, instrument_id: int) -> Decimal:
    position = ledger.positions.get(instrument_id)
    return position.quantity if position is not None else D("0")


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_random_histories_keep_holdings_non_negative_and_pl_exact(data: Any) -> None:
    ledger = Ledger()
    cash = D("0")  # kept here from the transaction rules, not read from the ledger
    when = START
    for entry_id in range(1, data.draw(st.integers(1, 40)) + 1):
        when += timedelta(days=1)
        kind = data.draw(st.sampled_from(KINDS))
        instrument = data.draw(st.sampled_from(IDS))
        held = _held(ledger, instrument)
        entry: Entry | None = None
        if kind == "buy":
            qty, price, cost = data.draw(quantities), data.draw(prices), data.draw(charges)
            entry = Entry(
                kind=kind,
                executed_at=when,
                instrument_id=instrument,
                quantity=qty,
                price=price,
                charges=cost,
                id=entry_id,
            )
            cash -= qty * price + cost
        elif kind == "sell" and held > 0:
            if data.draw(st.booleans()):
                qty = held
            else:
                share = D(data.draw(st.integers(1, 99))) / 100
                qty = (held * share).quantize(SIX, rounding=ROUND_DOWN)
            if qty > 0:
                price, cost = data.draw(prices), data.draw(charges)
                entry = Entry(
                    kind=kind,
                    executed_at=when,
                    instrument_id=instrument,
                    quantity=qty,
                    price=price,
                    charges=cost,
                    id=entry_id,
                )
                cash += qty * price - cost
        elif kind == "oversell":
            extra = data.draw(st.decimals(min_value=SIX, max_value=D("50"), places=6))
            before = _state(ledger)
            with pytest.raises(OversellError) as raised:
                ledger.apply(
                    Entry(
                        kind="sell",
                        executed_at=when,
                        instrument_id=instrument,
                        quantity=held + extra,
                        price=D("1"),
                        id=entry_id,
                    )
                )
            assert raised.value.held == held
            assert _state(ledger) == before
        elif kind in ("split", "bonus") and held > 0:
            entry = Entry(
                kind=kind,
                executed_at=when,
                instrument_id=instrument,
                ratio_from=data.draw(st.integers(1, 3)),
                ratio_to=data.draw(st.integers(1, 10)),
                id=entry_id,
            )
        elif kind == "dividend" and instrument in ledger.positions:
            amount = data.draw(amounts)
            entry = Entry(
                kind=kind, executed_at=when, instrument_id=instrument, amount=amount, id=entry_id
            )
            cash += amount
        elif kind in ("fee", "deposit", "withdrawal"):
            amount = data.draw(amounts)
            entry = Entry(kind=kind, executed_at=when, amount=amount, id=entry_id)
            cash += amount if kind == "deposit" else -amount
        if entry is not None:
            ledger.apply(entry)
        for position in ledger.positions.values():
            assert all(lot.quantity >= 0 and lot.cost >= 0 for lot in position.lots)
            assert position.quantity >= 0

    assert ledger.cash == cash
    quotes = {pk: _Quote(data.draw(prices), data.draw(prices), when) for pk in IDS}
    value = sum(
        (_held(ledger, pk) * quotes[pk].last_price for pk in IDS if _held(ledger, pk) > 0),
        D("0"),
    )
    unrealised = value - ledger.open_cost
    assert ledger.realised_pl + unrealised == value - ledger.net_invested - ledger.charges

    valuation = portfolio_valuation(ledger=ledger, instruments=INSTRUMENTS, quotes=quotes)
    assert valuation.total_value == sum((h.current_value for h in valuation.holdings), D("0"))
    assert valuation.realised_pl + valuation.unrealised_pl == (
        valuation.total_value - valuation.net_invested - valuation.charges
    )
    assert valuation.profit_loss == valuation.realised_pl + valuation.unrealised_pl
    assert valuation.unrealised_pl == sum((h.unrealised_pl for h in valuation.holdings), D("0"))


class _Quote:
    def __init__(self, last_price: Decimal, prev_close: Decimal, at: datetime) -> None:
        self.last_price, self.prev_close, self.at = last_price, prev_close, at


# --- through the services (database) ----------------------------------------------------------


def _data(entry: Entry, instruments: dict[int, Instrument]) -> services.TransactionData:
    return services.TransactionData(
        kind=entry.kind,
        executed_at=entry.executed_at,
        instrument=instruments[entry.instrument_id] if entry.instrument_id else None,
        quantity=entry.quantity,
        price=entry.price,
        other_charges=entry.charges,
    )


def _stored(portfolio: Portfolio) -> list[tuple[Any, ...]]:
    return list(
        Transaction.objects.filter(portfolio=portfolio)
        .order_by("id")
        .values_list("id", "kind", "instrument_id", "executed_at", "quantity", "price")
    )


@st.composite
def trade_histories(draw: Any) -> list[tuple[int, str, int, Decimal, Decimal, Decimal]]:
    """(minute offset, kind, instrument index, quantity, price, charges), each sell within
    what is held at that moment; offsets are shuffled so entries arrive out of order."""
    held = [D("0"), D("0")]
    rows = []
    for step in range(draw(st.integers(2, 14))):
        index = draw(st.integers(0, 1))
        if held[index] > 0 and draw(st.booleans()):
            qty = draw(st.integers(1, int(held[index])))
            rows.append((step, "sell", index, D(qty), draw(prices), draw(charges)))
            held[index] -= qty
        else:
            qty = draw(st.integers(1, 50))
            rows.append((step, "buy", index, D(qty), draw(prices), draw(charges)))
            held[index] += qty
    return draw(st.permutations(rows))


@pytest.mark.django_db
@given(history=trade_histories(), data=st.data())
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_services_refuse_any_oversell_and_any_delete_a_later_sell_needs(
    portfolio: Portfolio, instruments: dict[str, Instrument], history: Any, data: Any
) -> None:
    pair = [instruments["TCS"], instruments["INFY"]]
    by_id = {i.pk: i for i in pair}
    with transaction.atomic():
        entries = [
            Entry(
                kind=kind,
                executed_at=START + timedelta(minutes=offset),
                instrument_id=pair[index].pk,
                quantity=qty,
                price=price,
                charges=cost,
            )
            for offset, kind, index, qty, price, cost in history
        ]
        services.transactions_add_many(
            portfolio=portfolio, entries=[_data(e, by_id) for e in entries], source="csv"
        )
        portfolio.refresh_from_db()
        stale_from, stored = portfolio.snapshots_stale_from, _stored(portfolio)

        # A sell of more than was held at a random moment: refused on `quantity`.
        moment = START + timedelta(minutes=data.draw(st.integers(0, len(history))), seconds=30)
        target = data.draw(st.sampled_from(pair))
        held = _held(ledger_replay(e for e in entries if e.executed_at < moment), target.pk)
        extra = D(data.draw(st.integers(1, 20)))
        with pytest.raises(ValidationError) as refused:
            services.transaction_create(
                portfolio=portfolio,
                data=services.TransactionData(
                    kind="sell",
                    executed_at=moment,
                    instrument=target,
                    quantity=held + extra,
                    price=D("10"),
                ),
            )
        assert "quantity" in refused.value.message_dict
        assert _stored(portfolio) == stored
        portfolio.refresh_from_db()
        assert portfolio.snapshots_stale_from == stale_from

        # Deleting a buy: allowed exactly when the history without it still holds.
        buys = [row for row in stored if row[1] == "buy"]
        victim = data.draw(st.sampled_from(buys))
        rest = [
            Entry(kind=k, executed_at=at, instrument_id=i, quantity=q, price=p, id=pk)
            for pk, k, i, at, q, p in stored
            if pk != victim[0]
        ]
        try:
            ledger_replay(rest)
            possible = True
        except OversellError:
            possible = False
        if possible:
            services.transaction_delete(portfolio=portfolio, transaction_id=victim[0])
            assert len(_stored(portfolio)) == len(stored) - 1
        else:
            with pytest.raises(ValidationError) as refused:
                services.transaction_delete(portfolio=portfolio, transaction_id=victim[0])
            assert "quantity" in refused.value.message_dict
            assert _stored(portfolio) == stored
        transaction.set_rollback(True)
