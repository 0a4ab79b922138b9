"""Yahoo Finance: history from the v8 chart endpoint, quotes from the v7 quote endpoint.

Tickers: NSE `SYMBOL.NS`, BSE `SYMBOL.BO`; indices NIFTY 50 `^NSEI`, NIFTY BANK `^NSEBANK`,
SENSEX `^BSESN`. `latest_quotes` asks v7 for all symbols in one call; Yahoo now often demands a
cookie + "crumb" there and answers 401/403, in which case each symbol's quote is read from the
chart endpoint's `meta` (regularMarketPrice, chartPreviousClose, regularMarketDayHigh/Low,
regularMarketVolume, regularMarketTime; the open is the day's first 1m bar).

Errors: 4xx -> ProviderError(transient=False); timeouts, network errors, 429, 5xx and non-JSON
bodies -> transient=True; a JSON answer lacking a field -> transient=False naming the field.
Prices are rounded to the instrument's tick size.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from apps.core.http import HttpError

from ._common import IST, get_json, provider_error, require, tick_price, to_tick
from .base import Bar, InstrumentRef, MarketDataProvider, ProviderError, Quote

CHART_URL = "https://query1.finance.yahoo.com/v8/finance/chart/{ticker}"
QUOTE_URL = "https://query1.finance.yahoo.com/v7/finance/quote"
INTERVALS = {"1m": "1m", "1d": "1d", "1w": "1wk"}
INDEX_TICKERS = {"NIFTY 50": "^NSEI", "NIFTY BANK": "^NSEBANK", "SENSEX": "^BSESN"}
SUFFIXES = {"NSE": ".NS", "BSE": ".BO"}
HEADERS = {"User-Agent": "Mozilla/5.0 (StockSense market data)", "Accept": "application/json"}


def yahoo_ticker(ref: InstrumentRef) -> str:
    symbol = ref.symbol.upper()
    if ref.kind == "index":
        ticker = INDEX_TICKERS.get(symbol)
        if ticker is None:
            raise ProviderError(f"No Yahoo ticker for index {symbol!r}", transient=False)
        return ticker
    suffix = SUFFIXES.get(ref.exchange.upper())
    if suffix is None:
        raise ProviderError(f"Yahoo: unsupported exchange {ref.exchange!r}", transient=False)
    return f"{symbol}{suffix}"


def _epoch(value: Any, where: str) -> datetime:
    if not isinstance(value, int | float):
        raise ProviderError(f"{where} is not a Unix time: {value!r}", transient=False)
    return datetime.fromtimestamp(value, UTC).astimezone(IST)


class YahooProvider(MarketDataProvider):
    name: ClassVar[str] = "yahoo"

    def __init__(self, session: requests.Session | None = None, timeout: float | None = None):
        self.session = session or requests.Session()
        self.session.headers.update(HEADERS)
        self.timeout = timeout

    def _get(self, url: str, params: dict[str, Any]) -> Any:
        try:
            return get_json("Yahoo", url, session=self.session, params=params, timeout=self.timeout)
        except HttpError as exc:
            raise provider_error(exc, "Yahoo") from exc

    def _chart(self, ticker: str, params: dict[str, Any]) -> dict[str, Any]:
        payload = self._get(CHART_URL.format(ticker=quote(ticker, safe="")), params)
        chart = require(payload, "chart", f"Yahoo chart for {ticker}")
        results = chart.get("result") if isinstance(chart, dict) else None
        if not results or not isinstance(results, list):
            error = chart.get("error") if isinstance(chart, dict) else None
            raise ProviderError(
                f"Yahoo chart for {ticker} has no result ({error!r})", transient=False
            )
        result = results[0]
        if not isinstance(result, dict):
            raise ProviderError(f"Yahoo chart for {ticker}: result is not an object", False)
        return result

    def history(
        self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime
    ) -> list[Bar]:
        interval = INTERVALS.get(timeframe)
        if interval is None:
            raise ProviderError(
                f"Yahoo: unsupported timeframe {timeframe!r}; use {', '.join(INTERVALS)}",
                transient=False,
            )
        ticker = yahoo_ticker(symbol)
        result = self._chart(
            ticker,
            {
                "interval": interval,
                "period1": int(start.timestamp()),
                "period2": int(end.timestamp()),
                "includePrePost": "false",
            },
        )
        where = f"Yahoo chart for {ticker}"
        stamps = result.get("timestamp") or []  # absent when the range holds no bars
        if not stamps:
            return []
        indicators = require(result, "indicators", where)
        quotes = require(indicators, "quote", f"{where} indicators")
        if not isinstance(quotes, list) or not quotes:
            raise ProviderError(f"{where} indicators has an empty 'quote'", transient=False)
        series = {
            field: require(quotes[0], field, f"{where} quote")
            for field in ("open", "high", "low", "close")
        }
        volumes = quotes[0].get("volume") or [None] * len(stamps)
        if any(len(values) != len(stamps) for values in [*series.values(), volumes]):
            raise ProviderError(f"{where}: series lengths differ from timestamps", False)
        tick = symbol.tick_size
        bars: list[Bar] = []
        for i, stamp in enumerate(stamps):
            values = {field: series[field][i] for field in series}
            if any(value is None for value in values.values()):
                continue  # a minute without trades
            bar_start = _epoch(stamp, f"{where} timestamp")
            if not start <= bar_start < end:
                continue
            bars.append(
                Bar(
                    symbol=symbol.symbol,
                    timeframe=timeframe,
                    start=bar_start,
                    open=to_tick(values["open"], tick, f"{where} open"),
                    high=to_tick(values["high"], tick, f"{where} high"),
                    low=to_tick(values["low"], tick, f"{where} low"),
                    close=to_tick(values["close"], tick, f"{where} close"),
                    volume=int(volumes[i] or 0),
                )
            )
        return bars

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        """Live quotes (`at` is ignored: Yahoo only knows now)."""
        if not symbols:
            return []
        tickers = [yahoo_ticker(ref) for ref in symbols]
        try:
            payload = get_json(
                "Yahoo",
                QUOTE_URL,
                session=self.session,
                params={"symbols": ",".join(tickers)},
                timeout=self.timeout,
            )
        except HttpError as exc:
            if exc.status in (401, 403):  # crumb required: one chart call per symbol
                return [
                    self._quote_from_chart(ref, t) for ref, t in zip(symbols, tickers, strict=True)
                ]
            raise provider_error(exc, "Yahoo") from exc
        response = require(payload, "quoteResponse", "Yahoo quote answer")
        results = require(response, "result", "Yahoo quoteResponse")
        if not isinstance(results, list):
            raise ProviderError("Yahoo quoteResponse 'result' is not a list", transient=False)
        by_ticker = {
            str(item.get("symbol", "")).upper(): item for item in results if isinstance(item, dict)
        }
        missing = [t for t in tickers if t.upper() not in by_ticker]
        if missing:
            raise ProviderError(f"Yahoo answered no quote for {', '.join(missing)}", False)
        return [
            self._quote(ref, ticker, by_ticker[ticker.upper()])
            for ref, ticker in zip(symbols, tickers, strict=True)
        ]

    def _quote(self, ref: InstrumentRef, ticker: str, item: dict[str, Any]) -> Quote:
        where = f"Yahoo quote for {ticker}"
        tick = ref.tick_size
        return Quote(
            symbol=ref.symbol,
            exchange=ref.exchange,
            last_price=tick_price(item, "regularMarketPrice", tick, where),
            open=tick_price(item, "regularMarketOpen", tick, where),
            high=tick_price(item, "regularMarketDayHigh", tick, where),
            low=tick_price(item, "regularMarketDayLow", tick, where),
            prev_close=tick_price(item, "regularMarketPreviousClose", tick, where),
            volume=int(item.get("regularMarketVolume") or 0),  # indices have none
            at=_epoch(require(item, "regularMarketTime", where), f"{where} regularMarketTime"),
            simulated=False,
        )

    def _quote_from_chart(self, ref: InstrumentRef, ticker: str) -> Quote:
        result = self._chart(ticker, {"interval": "1m", "range": "1d"})
        where = f"Yahoo chart meta for {ticker}"
        meta = require(result, "meta", f"Yahoo chart for {ticker}")
        tick = ref.tick_size
        last = to_tick(require(meta, "regularMarketPrice", where), tick, where)
        opens = ((result.get("indicators") or {}).get("quote") or [{}])[0].get("open") or []
        first_open = next((value for value in opens if value is not None), None)
        return Quote(
            symbol=ref.symbol,
            exchange=ref.exchange,
            last_price=last,
            open=to_tick(first_open, tick, where) if first_open is not None else last,
            high=to_tick(require(meta, "regularMarketDayHigh", where), tick, where),
            low=to_tick(require(meta, "regularMarketDayLow", where), tick, where),
            prev_close=to_tick(require(meta, "chartPreviousClose", where), tick, where),
            volume=int(meta.get("regularMarketVolume") or 0),
            at=_epoch(require(meta, "regularMarketTime", where), f"{where} regularMarketTime"),
            simulated=False,
        )
