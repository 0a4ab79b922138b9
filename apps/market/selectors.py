"""Reads for market reference data: exchanges and instruments."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from apps.market.models import Exchange, Instrument


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
