"""Read-only market endpoints: instruments, market status, candles, indicators, quotes."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.market import selectors
from apps.market.adjustments import IST as ADJUSTMENT_TZ
from apps.market.adjustments import adjust_ohlcv
from apps.market.calendar import market_status
from apps.market.feed import feed_status
from apps.market.indicators import INDICATORS, IndicatorError, compute, get_spec, validate_params
from apps.market.models import CorporateAction, DataSource, Instrument, LatestQuote
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_get_many
from apps.market.serializers import (
    CANDLE_LIMIT_MAX,
    CandleInputSerializer,
    CandlesOutputSerializer,
    ExchangeInputSerializer,
    IndicatorInputSerializer,
    IndicatorOutputSerializer,
    IndicatorSpecOutputSerializer,
    InstrumentDetailOutputSerializer,
    InstrumentListInputSerializer,
    InstrumentOutputSerializer,
    MarketStatusOutputSerializer,
    OptionalExchangeInputSerializer,
    QuotesInputSerializer,
    QuotesOutputSerializer,
    candles_compact_data,
    finite_or_none,
    quote_data,
)

extend_schema_field(MarketStatusOutputSerializer)(
    InstrumentDetailOutputSerializer.get_market_status
)

_EXCHANGE = OpenApiParameter("exchange", OpenApiTypes.STR, description="Exchange code: NSE, BSE.")


class InstrumentListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = InstrumentOutputSerializer

    @extend_schema(
        summary="Search instruments",
        description=(
            "Symbol prefix (any case) or company name substring. An exact symbol match comes "
            "first, then symbols A-Z. Only active instruments."
        ),
        parameters=[InstrumentListInputSerializer],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Instrument]:
        serializer = InstrumentListInputSerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return selectors.instrument_list(**serializer.validated_data)


def _instrument_or_404(symbol: str, exchange: str) -> Instrument:
    instrument = selectors.instrument_get(symbol=symbol, exchange=exchange)
    if instrument is None:
        raise Http404(_("No such instrument."))
    return instrument


class FeedState(NamedTuple):
    stale: bool  # `exchange` is open and the feed has stopped delivering quotes
    as_of: str | None  # the feed's last successful poll (ISO 8601), None before the first


def _feed_state(exchange: str) -> FeedState:
    status = feed_status(exchange=exchange)
    return FeedState(bool(status["stale"]), status.get("as_of"))


# --- quotes -----------------------------------------------------------------------------------


def _quote_from_row(row: LatestQuote, instrument: Instrument) -> Quote:
    return Quote(
        symbol=instrument.symbol, exchange=instrument.exchange.code,
        last_price=row.last_price, open=row.open, high=row.high, low=row.low,
        prev_close=row.prev_close, volume=row.volume, at=row.at,
        simulated=row.source == DataSource.SIMULATED,
    )


def _quotes_for(instruments: Sequence[Instrument]) -> dict[int, Quote]:
    """Latest quotes by instrument id: Redis first, the LatestQuote table for misses."""
    by_key = {(i.exchange.code, i.symbol): i for i in instruments}
    cached = quote_cache_get_many(by_key)
    quotes = {by_key[key].pk: quote for key, quote in cached.items()}
    missing = [i for i in instruments if i.pk not in quotes]
    if missing:
        rows = selectors.latest_quote_map(instrument_ids=[i.pk for i in missing])
        for instrument in missing:
            if instrument.pk in rows:
                quotes[instrument.pk] = _quote_from_row(rows[instrument.pk], instrument)
    return quotes


def _quote_body(quote: Quote, instrument: Instrument, feed: FeedState) -> dict[str, Any]:
    return quote_data(quote, stale=feed.stale, as_of=feed.as_of,
                      tz=ZoneInfo(instrument.exchange.timezone))


class QuoteListApi(APIView):
    @extend_schema(
        summary="Latest quotes for up to 200 symbols",
        description=(
            "From the live quote cache, falling back to the last stored quote. Symbols that "
            "match no active instrument are listed in `unknown` rather than failing the call; "
            "known instruments without any quote yet are listed in `unavailable`."
        ),
        parameters=[QuotesInputSerializer],
        responses=QuotesOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        params = QuotesInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        symbols: list[str] = params.validated_data["symbols"]
        found = selectors.instruments_by_symbols(
            symbols=symbols, exchange=params.validated_data.get("exchange", "")
        )
        quotes = _quotes_for(list(found.values()))
        feeds = {code: _feed_state(code) for code in {i.exchange.code for i in found.values()}}
        body: dict[str, list[Any]] = {"quotes": [], "unknown": [], "unavailable": []}
        for symbol in symbols:
            instrument = found.get(symbol)
            if instrument is None:
                body["unknown"].append(symbol)
            elif instrument.pk not in quotes:
                body["unavailable"].append(instrument.symbol)
            else:
                body["quotes"].append(
                    _quote_body(quotes[instrument.pk], instrument, feeds[instrument.exchange.code])
                )
        return Response(body)


# --- candles and indicators -------------------------------------------------------------------


@dataclass
class _Bars:
    starts: list[datetime]
    ohlc: list[tuple[Any, Any, Any, Any]]
    volumes: list[int]
    adjusted: bool


def _load_bars(
    instrument: Instrument,
    *,
    timeframe: str,
    limit: int,
    start: datetime | None,
    end_before: datetime | None,
    actions: Sequence[CorporateAction] | None,
) -> _Bars:
    """Bars as Decimals; adjusted for `actions` unless that is None (raw prices)."""
    rows = selectors.candle_list(
        instrument_id=instrument.pk, timeframe=timeframe, limit=limit,
        start=start, end_before=end_before,
    )
    bars = _Bars(
        starts=[r[0] for r in rows],
        ohlc=[(r[1], r[2], r[3], r[4]) for r in rows],
        volumes=[r[5] for r in rows],
        adjusted=actions is not None,
    )
    if actions and rows:
        frame = pd.DataFrame(bars.ohlc, columns=["open", "high", "low", "close"], dtype=object)
        frame["start"] = pd.Series(bars.starts, dtype=object)
        frame["volume"] = bars.volumes
        frame = adjust_ohlcv(frame, actions)  # Decimal columns stay Decimal (4 dp)
        bars.ohlc = list(
            zip(frame["open"], frame["high"], frame["low"], frame["close"], strict=True)
        )
        bars.volumes = [int(v) for v in frame["volume"]]
    return bars


def _actions(instrument: Instrument, adjusted: bool) -> list[CorporateAction] | None:
    return selectors.corporate_action_list(instrument_id=instrument.pk) if adjusted else None


class CandleListApi(APIView):
    @extend_schema(
        summary="OHLCV bars of one instrument",
        description=(
            "At most 5,000 bars a call, oldest first. Without `start`, the latest `limit` "
            "bars (up to `end`); with `start`, the first `limit` bars from `start`. Times are "
            "ISO 8601 in exchange time (+05:30); prices are decimal strings in INR."
        ),
        parameters=[CandleInputSerializer],
        responses=CandlesOutputSerializer,
    )
    def get(self, request: Request, symbol: str) -> Response:
        params = CandleInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        instrument = _instrument_or_404(symbol, data.get("exchange", ""))
        tz = ZoneInfo(instrument.exchange.timezone)
        window = {
            "timeframe": data["timeframe"], "limit": data["limit"],
            "start": data.get("start"), "end_before": data.get("end"),
        }
        actions = _actions(instrument, data["adjusted"])
        rows = selectors.candle_list_compact(instrument_id=instrument.pk, **window)
        if actions:
            rows = _adjust_compact(rows, actions)
        body = candles_compact_data(
            symbol=instrument.symbol, exchange=instrument.exchange.code,
            timeframe=data["timeframe"], adjusted=actions is not None, rows=rows, tz=tz,
        )
        return Response(body)


def _adjust_compact(
    rows: list[selectors.CompactCandle], actions: Sequence[CorporateAction]
) -> list[selectors.CompactCandle]:
    """Apply `adjust_ohlcv` to the bars that start before the latest ex-date (00:00 IST);
    later bars, usually all of a recent window, keep PostgreSQL's text untouched."""
    latest = max(action.ex_date for action in actions)
    cutoff = int(datetime.combine(latest, time(0), tzinfo=ADJUSTMENT_TZ).timestamp())
    count = bisect.bisect_left([row[0] for row in rows], cutoff)
    if not count:
        return rows
    head = rows[:count]
    frame = pd.DataFrame(
        {
            "start": [row[0] for row in head],
            **{
                name: pd.Series([Decimal(row[i]) for row in head], dtype=object)
                for i, name in enumerate(("open", "high", "low", "close"), 1)
            },
            "volume": [row[5] for row in head],
        }
    )
    done = adjust_ohlcv(frame, actions)  # Decimal columns stay Decimal, 4 dp
    adjusted = [
        (row[0], str(o), str(h), str(low), str(c), int(v), row[6])
        for row, o, h, low, c, v in zip(
            head, done["open"], done["high"], done["low"], done["close"], done["volume"],
            strict=True,
        )
    ]
    return adjusted + rows[count:]


_BAR_PARAMS = frozenset(
    {"timeframe", "name", "limit", "start", "end", "exchange", "adjusted", "format"}
)
WARMUP_FACTOR = 3


def _indicator_field(field: str) -> str:
    return "name" if field == "indicator" else field


def _series(bars: _Bars, inputs: Sequence[str]) -> dict[str, Any]:
    prices = np.array(bars.ohlc, dtype=np.float64).reshape(-1, 4)
    series: dict[str, Any] = {
        "open": prices[:, 0], "high": prices[:, 1], "low": prices[:, 2], "close": prices[:, 3],
        "volume": np.array(bars.volumes, dtype=np.float64),
    }
    if "timestamp" in inputs:
        seconds = [int(s.timestamp()) for s in bars.starts]
        series["timestamp"] = np.array(seconds, dtype="datetime64[s]")
    return {key: series[key] for key in inputs}


class IndicatorApi(APIView):
    @extend_schema(
        summary="A technical indicator over one instrument's bars",
        description=(
            "Computes `name` (see /indicators/) over the latest `limit` bars up to `end`, "
            "loading extra earlier bars to warm it up (3× the largest period parameter, at "
            "most 5,000 bars in all). Every other query parameter is an indicator parameter, "
            "e.g. `period=14`; an unknown one is a 400 naming it."
        ),
        parameters=[IndicatorInputSerializer],
        responses=IndicatorOutputSerializer,
    )
    def get(self, request: Request, symbol: str) -> Response:
        params = IndicatorInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "start" in request.query_params:
            raise ValidationError({"start": [_("Not supported here; use end and limit.")]})
        raw = {k: v for k, v in request.query_params.items() if k not in _BAR_PARAMS}
        try:
            spec = get_spec(data["name"])
            values = validate_params(spec.name, raw)
        except IndicatorError as exc:
            raise ValidationError({_indicator_field(exc.field): [exc.message]}) from None
        instrument = _instrument_or_404(symbol, data.get("exchange", ""))
        periods = [
            int(v) for p, v in zip(spec.params, values.values(), strict=True) if p.kind is int
        ]
        limit: int = data["limit"]
        wanted = min(limit + WARMUP_FACTOR * max(periods, default=0), CANDLE_LIMIT_MAX)
        bars = _load_bars(
            instrument, timeframe=data["timeframe"], limit=wanted, start=None,
            end_before=data.get("end"), actions=_actions(instrument, data["adjusted"]),
        )
        try:
            outputs = compute(spec.name, _series(bars, spec.inputs), **values)
        except IndicatorError as exc:
            raise ValidationError({_indicator_field(exc.field): [exc.message]}) from None
        count = min(limit, len(bars.starts))
        tz = ZoneInfo(instrument.exchange.timezone)
        body = {
            "symbol": instrument.symbol,
            "exchange": instrument.exchange.code,
            "timeframe": data["timeframe"],
            "adjusted": bars.adjusted,
            "name": spec.name,
            "params": values,
            "outputs": finite_or_none(outputs, count),
            "t": [s.astimezone(tz).isoformat() for s in bars.starts[len(bars.starts) - count :]],
        }
        return Response(body)


class IndicatorCatalogueApi(APIView):
    @extend_schema(
        summary="Every indicator the API computes",
        description="Names, input series, parameters (type, default, inclusive range), outputs.",
        responses=IndicatorSpecOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response([spec.describe() for spec in INDICATORS.values()])


class InstrumentDetailApi(APIView):
    @extend_schema(
        summary="One instrument, with its exchange's market status",
        parameters=[OptionalExchangeInputSerializer],
        responses=InstrumentDetailOutputSerializer,
    )
    def get(self, request: Request, symbol: str) -> Response:
        params = OptionalExchangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        instrument = _instrument_or_404(symbol, params.validated_data.get("exchange", ""))
        status = market_status(timezone.now(), exchange=instrument.exchange.code)
        quote = _quotes_for([instrument]).get(instrument.pk)
        context = {
            "market_status": status,
            "quote": (
                _quote_body(quote, instrument, _feed_state(instrument.exchange.code))
                if quote is not None
                else None
            ),
        }
        body = InstrumentDetailOutputSerializer(instrument, context=context).data
        return Response(body)


class MarketStatusApi(APIView):
    @extend_schema(
        summary="Is the market open?",
        description="Session state now: pre_open 09:00-09:15, open 09:15-15:30, else closed.",
        parameters=[ExchangeInputSerializer],
        responses=MarketStatusOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        params = ExchangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        status = market_status(timezone.now(), exchange=params.validated_data["exchange"])
        return Response(MarketStatusOutputSerializer(status).data)
