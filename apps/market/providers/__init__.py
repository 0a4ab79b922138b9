"""Market data providers. `get_provider()` picks one by `settings.MARKET_DATA_PROVIDER`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import Bar, InstrumentRef, MarketDataProvider, ProviderError, Quote
from .csv_file import CsvFormatError, CsvProvider, parse_ohlcv_csv
from .nse import NseProvider
from .simulated import SimulatedProvider
from .yahoo import YahooProvider

PROVIDERS: dict[str, type[MarketDataProvider]] = {
    SimulatedProvider.name: SimulatedProvider,
    CsvProvider.name: CsvProvider,
    YahooProvider.name: YahooProvider,
    NseProvider.name: NseProvider,
}


def get_provider(name: str | None = None) -> MarketDataProvider:
    """A new provider instance named `name` (default: `settings.MARKET_DATA_PROVIDER`)."""
    chosen = (name if name is not None else settings.MARKET_DATA_PROVIDER or "").strip().lower()
    provider_class = PROVIDERS.get(chosen)
    if provider_class is None:
        raise ImproperlyConfigured(
            f"Unknown market data provider {chosen!r}; known providers: "
            f"{', '.join(sorted(PROVIDERS))}."
        )
    if provider_class is SimulatedProvider:
        # The exchange calendar (holidays) shapes the simulated price path, so history
        # loads and live quotes must use the same one, or they disagree by days of returns.
        from apps.market.calendar import trading_days

        return SimulatedProvider(
            trading_days=trading_days, always_open=settings.MARKET_SIMULATED_ALWAYS_OPEN
        )
    return provider_class()


__all__ = [
    "PROVIDERS",
    "Bar",
    "CsvFormatError",
    "CsvProvider",
    "InstrumentRef",
    "MarketDataProvider",
    "NseProvider",
    "ProviderError",
    "Quote",
    "SimulatedProvider",
    "YahooProvider",
    "get_provider",
    "parse_ohlcv_csv",
]
