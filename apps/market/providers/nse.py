"""NSE's public website JSON (the API behind nseindia.com's quote pages).

NSE serves its JSON only to clients holding the cookies the home page sets, so the provider
keeps one `requests.Session`: it GETs https://www.nseindia.com first ("priming"), then calls
the API with a browser-like User-Agent and a `Referer` from the same site. A 401/403 from the
API means the cookies expired: the session is primed again and the call retried once.

* Equity quotes: `/api/quote-equity?symbol=X` (one call per symbol; NSE has no batch form).
  `priceInfo.lastPrice`, `priceInfo.open`, `priceInfo.intraDayHighLow.min/max`,
  `priceInfo.previousClose`; time from `metadata.lastUpdateTime` (IST).
  Volume: this endpoint carries no session volume, so `volume` is
  `preOpenMarket.totalTradedVolume` (the pre-open auction quantity; 0 when absent): a lower
  bound of the session's volume, not the running total.
* Index quotes (NIFTY 50, NIFTY BANK, ...): `/api/allIndices` (one call for all), fields
  `last`, `open`, `high`, `low`, `previousClose`; no volume.
* Daily history: `/api/historical/cm/equity?symbol=X&series=["EQ"]&from=dd-mm-yyyy&to=...`,
  fields CH_TIMESTAMP, CH_OPENING_PRICE, CH_TRADE_HIGH_PRICE, CH_TRADE_LOW_PRICE,
  CH_CLOSING_PRICE, CH_TOT_TRADED_QTY; asked in windows of at most `HISTORY_WINDOW_DAYS`.
  Bars start at 09:15 IST of their date, like the simulated feed's.

Only NSE instruments and the "1d" timeframe (history) are served.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from apps.core.http import HttpError, http_request

from ._common import IST, get_json, provider_error, require, tick_price, to_tick
from .base import Bar, InstrumentRef, MarketDataProvider, ProviderError, Quote

HOME_URL = "https://www.nseindia.com"
QUOTE_URL = "https://www.nseindia.com/api/quote-equity"
INDICES_URL = "https://www.nseindia.com/api/allIndices"
HISTORY_URL = "https://www.nseindia.com/api/historical/cm/equity"
HISTORY_WINDOW_DAYS = 365
OPENS_AT = time(9, 15)
HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36"
    ),
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-IN,en;q=0.9",
}


def _nse_time(text: Any) -> datetime | None:
    for fmt in ("%d-%b-%Y %H:%M:%S", "%d-%b-%Y %H:%M"):
        try:
            return datetime.strptime(str(text), fmt).replace(tzinfo=IST)
        except ValueError:
            continue
    return None


class NseProvider(MarketDataProvider):
    name: ClassVar[str] = "nse"

    def __init__(
        self,
        session: requests.Session | None = None,
        timeout: float | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.session = session or requests.Session()
        self.session.headers.update(HEADERS)
        self.timeout = timeout
        self.now = now or (lambda: datetime.now(UTC))
        self._primed = False

    # -- transport ---------------------------------------------------------------------------

    def prime(self) -> None:
        """Fetch the home page so the session holds NSE's cookies."""
        self.session.cookies.clear()
        try:
            http_request("GET", HOME_URL, session=self.session, timeout=self.timeout)
        except HttpError as exc:
            raise provider_error(exc, "NSE (cookie priming)") from exc
        self._primed = True

    def _api(self, url: str, params: dict[str, str], referer: str) -> Any:
        if not self._primed:
            self.prime()
        headers = {"Referer": referer}
        for attempt in (1, 2):
            try:
                return get_json(
                    "NSE",
                    url,
                    session=self.session,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                )
            except HttpError as exc:
                if exc.status in (401, 403) and attempt == 1:
                    self.prime()  # cookies expired or missing: once more with fresh ones
                    continue
                raise provider_error(exc, "NSE") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- quotes ------------------------------------------------------------------------------

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        """Live quotes (`at` is ignored: NSE only knows now)."""
        for ref in symbols:
            if ref.exchange.upper() != "NSE":
                raise ProviderError(
                    f"NSE provider serves NSE instruments only, not {ref.exchange}:{ref.symbol}",
                    transient=False,
                )
        indices: tuple[dict[str, dict[str, Any]], datetime | None] | None = None
        quotes: list[Quote] = []
        for ref in symbols:
            if ref.kind == "index":
                if indices is None:
                    indices = self._all_indices()
                quotes.append(self._index_quote(ref, indices))
            else:
                quotes.append(self._equity_quote(ref))
        return quotes

    def _equity_quote(self, ref: InstrumentRef) -> Quote:
        symbol = ref.symbol.upper()
        payload = self._api(
            QUOTE_URL,
            {"symbol": symbol},
            f"{HOME_URL}/get-quotes/equity?symbol={quote(symbol)}",
        )
        where = f"NSE quote for {symbol}"
        info = require(payload, "priceInfo", where)
        high_low = require(info, "intraDayHighLow", f"{where} priceInfo")
        tick = ref.tick_size

        def price(source: Any, field: str, label: str) -> Any:
            return to_tick(require(source, field, label), tick, f"{label} {field}")

        metadata = payload.get("metadata") or {}
        pre_open = payload.get("preOpenMarket") or {}
        volume = pre_open.get("totalTradedVolume") if isinstance(pre_open, dict) else None
        at = _nse_time(metadata.get("lastUpdateTime")) if isinstance(metadata, dict) else None
        return Quote(
            symbol=ref.symbol,
            exchange=ref.exchange,
            last_price=price(info, "lastPrice", f"{where} priceInfo"),
            open=price(info, "open", f"{where} priceInfo"),
            high=price(high_low, "max", f"{where} priceInfo.intraDayHighLow"),
            low=price(high_low, "min", f"{where} priceInfo.intraDayHighLow"),
            prev_close=price(info, "previousClose", f"{where} priceInfo"),
            volume=int(volume) if isinstance(volume, int | float) else 0,
            at=at or self.now().astimezone(IST),
            simulated=False,
        )

    def _all_indices(self) -> tuple[dict[str, dict[str, Any]], datetime | None]:
        """(rows by upper-case index name, the answer's timestamp)."""
        payload = self._api(INDICES_URL, {}, f"{HOME_URL}/market-data/live-market-indices")
        rows = require(payload, "data", "NSE allIndices")
        if not isinstance(rows, list):
            raise ProviderError("NSE allIndices 'data' is not a list", transient=False)
        by_name = {str(row.get("index", "")).upper(): row for row in rows if isinstance(row, dict)}
        return by_name, _nse_time(payload.get("timestamp"))

    def _index_quote(
        self, ref: InstrumentRef, indices: tuple[dict[str, dict[str, Any]], datetime | None]
    ) -> Quote:
        symbol = ref.symbol.upper()
        row = indices[0].get(symbol)
        if row is None:
            raise ProviderError(f"NSE allIndices has no {symbol!r}", transient=False)
        where = f"NSE allIndices {symbol}"
        tick = ref.tick_size
        return Quote(
            symbol=ref.symbol,
            exchange=ref.exchange,
            last_price=tick_price(row, "last", tick, where),
            open=tick_price(row, "open", tick, where),
            high=tick_price(row, "high", tick, where),
            low=tick_price(row, "low", tick, where),
            prev_close=tick_price(row, "previousClose", tick, where),
            volume=0,
            at=indices[1] or self.now().astimezone(IST),
            simulated=False,
        )

    # -- history -----------------------------------------------------------------------------

    def history(
        self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime
    ) -> list[Bar]:
        if timeframe != "1d":
            raise ProviderError(f"NSE history serves '1d' only, not {timeframe!r}", False)
        if symbol.exchange.upper() != "NSE" or symbol.kind == "index":
            raise ProviderError(
                f"NSE history serves NSE equities only, not {symbol.exchange}:{symbol.symbol}",
                transient=False,
            )
        if end <= start:
            return []
        first = start.astimezone(IST).date()
        last = (end - timedelta(microseconds=1)).astimezone(IST).date()
        by_day: dict[date, Bar] = {}
        window_start = first
        while window_start <= last:
            window_end = min(last, window_start + timedelta(days=HISTORY_WINDOW_DAYS - 1))
            for bar in self._history_window(symbol, window_start, window_end):
                if start <= bar.start < end:
                    by_day[bar.start.date()] = bar
            window_start = window_end + timedelta(days=1)
        return [by_day[day] for day in sorted(by_day)]

    def _history_window(self, ref: InstrumentRef, first: date, last: date) -> list[Bar]:
        symbol = ref.symbol.upper()
        payload = self._api(
            HISTORY_URL,
            {
                "symbol": symbol,
                "series": '["EQ"]',
                "from": first.strftime("%d-%m-%Y"),
                "to": last.strftime("%d-%m-%Y"),
            },
            f"{HOME_URL}/get-quotes/equity?symbol={quote(symbol)}",
        )
        where = f"NSE history for {symbol}"
        rows = require(payload, "data", where)
        if not isinstance(rows, list):
            raise ProviderError(f"{where}: 'data' is not a list", transient=False)
        tick = ref.tick_size
        bars: list[Bar] = []
        for row in rows:
            day_text = row.get("CH_TIMESTAMP") if isinstance(row, dict) else repr(row)
            label = f"{where} row {day_text}"
            stamp = require(row, "CH_TIMESTAMP", label)
            try:
                day = date.fromisoformat(str(stamp)[:10])
            except ValueError as exc:
                raise ProviderError(f"{label}: bad CH_TIMESTAMP {stamp!r}", False) from exc

            def price(field: str, row: Any = row, label: str = label) -> Any:
                return to_tick(require(row, field, label), tick, f"{label} {field}")

            bars.append(
                Bar(
                    symbol=ref.symbol,
                    timeframe="1d",
                    start=datetime.combine(day, OPENS_AT, tzinfo=IST),
                    open=price("CH_OPENING_PRICE"),
                    high=price("CH_TRADE_HIGH_PRICE"),
                    low=price("CH_TRADE_LOW_PRICE"),
                    close=price("CH_CLOSING_PRICE"),
                    volume=int(row.get("CH_TOT_TRADED_QTY") or 0),
                )
            )
        return bars
