"""Shared fixtures of the portfolio tests: instruments, a portfolio, quotes, transactions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from apps.market.models import DataSource, Exchange, Instrument, InstrumentKind, LatestQuote
from apps.portfolios import services
from apps.portfolios.models import Portfolio, Transaction

IST = ZoneInfo("Asia/Kolkata")
D = Decimal

# symbol: (name, sector, market-cap category) as in the NIFTY 50 seed (market migrations).
EQUITIES = {
    "RELIANCE": ("Reliance Industries Ltd.", "Oil Gas & Consumable Fuels", "large"),
    "TCS": ("Tata Consultancy Services Ltd.", "Information Technology", "large"),
    "INFY": ("Infosys Ltd.", "Information Technology", "large"),
    "HDFCBANK": ("HDFC Bank Ltd.", "Financial Services", "large"),
}


@pytest.fixture
def instruments(db: Any) -> dict[str, Instrument]:
    """RELIANCE, TCS, INFY, HDFCBANK (NSE equities) and the NIFTY 50 index, keyed by symbol.
    The migrations seed them; made here too because a transactional test elsewhere may have
    flushed the seed, and their sector and category are set so tests can rely on them."""
    nse, _ = Exchange.objects.get_or_create(code="NSE", defaults={"name": "NSE"})
    found: dict[str, Instrument] = {}
    for symbol, (name, sector, cap) in EQUITIES.items():
        instrument, _ = Instrument.objects.update_or_create(
            exchange=nse,
            symbol=symbol,
            defaults={
                "name": name,
                "sector": sector,
                "market_cap": cap,
                "kind": InstrumentKind.EQUITY,
                "active": True,
            },
        )
        found[symbol] = instrument
    found["NIFTY 50"], _ = Instrument.objects.update_or_create(
        exchange=nse,
        symbol="NIFTY 50",
        defaults={
            "name": "Nifty 50",
            "kind": InstrumentKind.INDEX,
            "active": True,
            "sector": "",
            "market_cap": "",
        },
    )
    return found


@pytest.fixture
def portfolio(user: Any, instruments: dict[str, Instrument]) -> Portfolio:
    """Owned by `user`, empty, benchmarked to NIFTY 50."""
    return services.portfolio_create(owner=user, name="Long term")


@pytest.fixture
def outsider_client(other_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def ist(year: int, month: int, day: int, hour: int = 15, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


def quote_set(
    instrument: Instrument,
    last: str | Decimal,
    prev_close: str | Decimal,
    *,
    at: datetime | None = None,
    source: int = DataSource.SIMULATED,
) -> LatestQuote:
    """The stored latest quote of `instrument` (the Redis copy is empty in tests)."""
    last, prev_close = D(last), D(prev_close)
    row, _ = LatestQuote.objects.update_or_create(
        instrument=instrument,
        defaults={
            "last_price": last,
            "open": prev_close,
            "high": max(last, prev_close),
            "low": min(last, prev_close),
            "prev_close": prev_close,
            "volume": 1000,
            "at": at or ist(2024, 6, 3, 15, 29),
            "source": source,
        },
    )
    return row


def tx_add(
    portfolio: Portfolio,
    kind: str,
    when: datetime | date,
    instrument: Instrument | None = None,
    **values: Any,
) -> Transaction:
    """One transaction through the service (validated, replayed); numbers may be strings."""
    if not isinstance(when, datetime):
        when = services.executed_at_from_date(when)
    for name, value in list(values.items()):
        if isinstance(value, str | int) and name not in (
            "notes",
            "external_id",
            "ratio_from",
            "ratio_to",
        ):
            values[name] = D(value)
    return services.transaction_create(
        portfolio=portfolio,
        data=services.TransactionData(kind=kind, executed_at=when, instrument=instrument, **values),
    )
