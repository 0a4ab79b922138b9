"""Record selectors: a fixed number of aggregate queries whatever the number of rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.market.models import Instrument
from apps.signals import selectors
from apps.signals.models import Outcome, StrategyEvidence
from apps.signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


def _rows(instruments: list[Instrument]) -> None:
    for n, instrument in enumerate(instruments):
        StrategyEvidence.objects.create(
            instrument=instrument,
            strategy="sma_crossover",
            params_key="fast=20,slow=50",
            timeframe="1d",
            trades=10 + n,
            wins=n,
            avg_r=0.1 * n,
        )
        SignalFactory.create(instrument=instrument, outcome=Outcome.TARGET, r_multiple=Decimal("2"))
        SignalFactory.create(instrument=instrument)


def test_records_take_two_queries_for_any_number_of_rows(
    market_seed: None, django_assert_num_queries: Any
) -> None:
    instruments = list(Instrument.objects.order_by("symbol")[:12])
    _rows(instruments)
    with django_assert_num_queries(2):
        records = selectors.strategy_records()
    [record] = records["sma_crossover"]
    assert record.bt_trades == sum(10 + n for n in range(12))  # 186
    assert record.bt_wins == sum(range(12))  # 66
    assert record.live_resolved == 12
    assert record.live_open == 12
    # Per instrument: the two aggregates and one query for the instruments.
    with django_assert_num_queries(3):
        rows = selectors.strategy_instrument_records(strategy="sma_crossover")
    assert [r.instrument.symbol for r in rows if r.instrument] == [i.symbol for i in instruments]


def test_a_symbol_with_or_without_its_exchange(reliance: Instrument) -> None:
    assert selectors.instrument_by_symbol(text="reliance") == reliance
    assert selectors.instrument_by_symbol(text="NSE:RELIANCE") == reliance
    assert selectors.instrument_by_symbol(text="NSE:") is None
    assert selectors.instrument_by_symbol(text="NOPE") is None
