"""Provider-neutral market data types and the `MarketDataProvider` interface.

Providers work on `InstrumentRef` (a plain frozen dataclass), not on ORM rows, so they can run
without a database (tests, workers, scripts). Build one from an `Instrument` with
`InstrumentRef.from_instrument(instrument)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar


class ProviderError(Exception):
    """A provider could not answer. `transient=True` means retrying later may succeed."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class InstrumentRef:
    symbol: str
    exchange: str = "NSE"
    sector: str = ""
    tick_size: Decimal = Decimal("0.05")
    kind: str = "equity"  # "equity" | "index" | "etf" (apps.market.models.InstrumentKind)

    @classmethod
    def from_instrument(cls, instrument: Any) -> InstrumentRef:
        """From an `apps.market.models.Instrument` (exchange loaded, or it costs a query)."""
        return cls(
            symbol=instrument.symbol,
            exchange=instrument.exchange.code,
            sector=instrument.sector or "",
            tick_size=Decimal(instrument.tick_size),
            kind=str(instrument.kind),
        )


@dataclass(frozen=True)
class Quote:
    symbol: str
    exchange: str
    last_price: Decimal
    open: Decimal  # today's (or the last session's) open, high and low
    high: Decimal
    low: Decimal
    prev_close: Decimal
    volume: int  # cumulative for the session
    at: datetime  # aware
    simulated: bool


@dataclass(frozen=True)
class Bar:
    symbol: str
    timeframe: str  # "1m", "1d"
    start: datetime  # aware
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


class MarketDataProvider(ABC):
    name: ClassVar[str]

    @abstractmethod
    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        """One quote per instrument, in the order given, fetched in one call."""

    @abstractmethod
    def history(
        self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime
    ) -> list[Bar]:
        """Bars of `timeframe` whose start lies in [start, end), oldest first."""
