"""Reads for market data: exchanges, instruments, candles and latest quotes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from apps.market.models import Candle, CorporateAction, Exchange, Instrument, LatestQuote


def exchange_get(*, code: str) -> Exchange | None:
    return Exchange.objects.filter(code=code.upper()).first()


def instrument_list(
    *,
    search: str = "",
    sector: str = "",
    exchange: str = "",
    kind: str = "",
) -> QuerySet[Instrument]:
    """Active instruments. `search` matches a symbol prefix or a name substring (any case);
    an exact symbol match sorts first, then symbols alphabetically."""
    queryset = Instrument.objects.filter(active=True).select_related("exchange")
    if exchange:
        queryset = queryset.filter(exchange__code=exchange.upper())
    if sector:
        queryset = queryset.filter(sector__iexact=sector)
    if kind:
        queryset = queryset.filter(kind=kind)
    search = search.strip()
    if not search:
        return queryset.order_by("symbol", "exchange__code")
    term = search.upper()
    queryset = queryset.annotate(symbol_upper=Upper("symbol")).filter(
        Q(symbol_upper__startswith=term) | Q(name__icontains=search)
    )
    return queryset.annotate(
        exact=Case(
            When(symbol_upper=term, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("exact", "symbol", "exchange__code")


def instrument_get(*, symbol: str, exchange: str = "") -> Instrument | None:
    """The active instrument `symbol` (any case); without `exchange`, NSE wins over others."""
    if "\x00" in symbol or "\x00" in exchange:
        return None  # PostgreSQL text cannot hold NUL: no instrument has it, and it is no 500
    queryset = (
        Instrument.objects.filter(active=True)
        .select_related("exchange")
        .annotate(symbol_upper=Upper("symbol"))
        .filter(symbol_upper=symbol.strip().upper())
    )
    if exchange:
        return queryset.filter(exchange__code=exchange.upper()).first()
    return queryset.annotate(
        preferred=Case(
            When(exchange__code="NSE", then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("preferred", "exchange__code").first()


def instruments_by_symbols(*, symbols: list[str], exchange: str = "") -> dict[str, Instrument]:
    """Active instruments for upper-cased `symbols`, keyed by upper-cased symbol, in one
    query; without `exchange`, the NSE listing wins when a symbol is on several exchanges."""
    queryset = (
        Instrument.objects.filter(active=True)
        .select_related("exchange")
        .annotate(symbol_upper=Upper("symbol"))
        .filter(symbol_upper__in=symbols)
    )
    if exchange:
        queryset = queryset.filter(exchange__code=exchange.upper())
    found: dict[str, Instrument] = {}
    for instrument in sorted(queryset, key=lambda i: (i.exchange.code != "NSE", i.exchange.code)):
        found.setdefault(instrument.symbol.upper(), instrument)
    return found


# (start, open, high, low, close, volume, source); `start` is an aware UTC datetime.
CandleTuple = tuple[datetime, Decimal, Decimal, Decimal, Decimal, int, int]

_CANDLE_FIELDS = ("start", "open", "high", "low", "close", "volume", "source")


def candle_list(
    *,
    instrument_id: int,
    timeframe: str,
    limit: int,
    start: datetime | None = None,
    end_before: datetime | None = None,
) -> list[CandleTuple]:
    """Up to `limit` bars in ascending time order, in one query on the unique
    (instrument, timeframe, start) index.

    With `start`: the first `limit` bars from `start` on (index read forwards). Without it:
    the latest `limit` bars (index read backwards: ORDER BY start DESC LIMIT n, reversed
    here). `end_before` is an exclusive upper bound on the bar start.
    """
    queryset = Candle.objects.filter(instrument_id=instrument_id, timeframe=timeframe)
    if start is not None:
        queryset = queryset.filter(start__gte=start)
    if end_before is not None:
        queryset = queryset.filter(start__lt=end_before)
    if start is not None:
        return list(queryset.order_by("start").values_list(*_CANDLE_FIELDS)[:limit])
    rows = list(queryset.order_by("-start").values_list(*_CANDLE_FIELDS)[:limit])
    rows.reverse()
    return rows


# (start as epoch seconds, open, high, low, close as 4-decimal strings, volume, source)
CompactCandle = tuple[int, str, str, str, str, int, int]

_COMPACT_SQL = """
SELECT EXTRACT(EPOCH FROM start)::bigint, open::text, high::text, low::text, close::text,
       volume, source
FROM market_candle
WHERE instrument_id = %s AND timeframe = %s{bounds}
ORDER BY start {direction}
LIMIT %s
"""


def candle_list_compact(
    *,
    instrument_id: int,
    timeframe: str,
    limit: int,
    start: datetime | None = None,
    end_before: datetime | None = None,
) -> list[CompactCandle]:
    """`candle_list` for the wire: the same single indexed query and order, but epoch
    seconds and price text straight from PostgreSQL (about 5× cheaper to fetch than
    datetimes and Decimals through the ORM: 2,000 bars in ~3 ms instead of ~20 ms)."""
    bounds = ""
    params: list[Any] = [instrument_id, timeframe]
    if start is not None:
        bounds += " AND start >= %s"
        params.append(start)
    if end_before is not None:
        bounds += " AND start < %s"
        params.append(end_before)
    params.append(limit)
    # Only the literal fragments above are formatted into the statement.
    sql = _COMPACT_SQL.format(bounds=bounds, direction="ASC" if start is not None else "DESC")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[CompactCandle] = cursor.fetchall()
    if start is None:
        rows.reverse()
    return rows


def corporate_action_list(*, instrument_id: int) -> list[CorporateAction]:
    return list(CorporateAction.objects.filter(instrument_id=instrument_id).order_by("ex_date"))


def latest_quote_map(*, instrument_ids: list[int]) -> dict[int, LatestQuote]:
    """The durable latest quotes of `instrument_ids` (missing ones left out), one query."""
    rows = LatestQuote.objects.filter(instrument_id__in=instrument_ids)
    return {row.instrument_id: row for row in rows}
