from __future__ import annotations

from typing import Any

import pytest

from apps.market.selectors import instrument_get

pytestmark = pytest.mark.django_db


def test_instrument_get_finds_a_symbol_in_any_case_and_prefers_nse(market_seed: Any) -> None:
    found = instrument_get(symbol=" reliance ")
    assert found is not None
    assert (found.exchange.code, found.symbol) == ("NSE", "RELIANCE")


def test_instrument_get_answers_none_for_a_nul_byte_instead_of_a_database_error(
    market_seed: Any,
) -> None:
    assert instrument_get(symbol="REL\x00IANCE") is None
    assert instrument_get(symbol="RELIANCE", exchange="N\x00SE") is None
