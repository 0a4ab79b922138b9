"""`ledger_replay(..., realisations=False)`, the fast path of summaries and snapshots, keeps
every total of the full replay; `realised_cost` is the cost of what was sold."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from apps.portfolios.ledger import Entry, ledger_replay


def _history(seed: int) -> list[Entry]:
    rng = random.Random(seed)
    start = datetime(2023, 4, 3, 4, 0, tzinfo=UTC)
    held = {1: Decimal(0), 2: Decimal(0)}
    entries = []
    for n in range(300):
        at = start + timedelta(hours=n)
        instrument = rng.choice([1, 2])
        roll = rng.random()
        price = Decimal(rng.randint(5_000, 500_000)) / 100
        charges = Decimal(rng.randint(0, 2_000)) / 100
        if roll < 0.55 or held[instrument] == 0:
            quantity = Decimal(rng.randint(1, 40))
            held[instrument] += quantity
            entries.append(Entry("buy", at, instrument, quantity, price, charges=charges, id=n))
        elif roll < 0.85:
            quantity = Decimal(rng.randint(1, int(held[instrument])))
            held[instrument] -= quantity
            entries.append(Entry("sell", at, instrument, quantity, price, charges=charges, id=n))
        elif roll < 0.93:
            entries.append(Entry("dividend", at, instrument, amount=price, id=n))
        elif roll < 0.97:
            entries.append(Entry("split", at, instrument, ratio_from=1, ratio_to=2, id=n))
            held[instrument] *= 2
        else:
            entries.append(Entry("fee", at, amount=charges + 1, id=n))
    return entries


def test_skipping_realisations_changes_no_total_lot_or_position() -> None:
    for seed in range(20):
        entries = _history(seed)
        full = ledger_replay(entries)
        fast = ledger_replay(entries, realisations=False)
        assert fast.realisations == []
        assert full.realised_cost == sum((r.cost for r in full.realisations), Decimal(0))
        assert fast.realised_cost == full.realised_cost
        for name in ("cash", "bought", "sold", "dividends", "fees", "charges", "net_invested",
                     "realised_pl", "open_cost"):
            assert getattr(fast, name) == getattr(full, name), name
        assert fast.quantities() == full.quantities()
        for instrument_id, position in full.positions.items():
            other = fast.positions[instrument_id]
            assert [(lot.quantity, lot.cost, lot.acquired_at) for lot in other.lots] == [
                (lot.quantity, lot.cost, lot.acquired_at) for lot in position.lots
            ]
            assert other.realised_pl == position.realised_pl
