from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.market import selectors
from apps.market.models import DataSource, Instrument, InstrumentKind, Timeframe
from apps.market.providers.base import Quote

MARKET_TZ = ZoneInfo("Asia/Kolkata")
CANDLE_LIMIT_DEFAULT = 500
CANDLE_LIMIT_MAX = 5000
QUOTE_SYMBOLS_MAX = 200


class ExchangeTimeField(serializers.DateTimeField):
    """ISO 8601 in the offset the value already carries (the exchange's, e.g. +05:30),
    not the reader's active time zone."""

    def to_representation(self, value: datetime | None) -> str | None:  # type: ignore[override]
        return value.isoformat() if value is not None else None


def _exchange_code(value: str) -> str:
    code = value.strip().upper()
    if selectors.exchange_get(code=code) is None:
        raise serializers.ValidationError(_("Unknown exchange %(code)s.") % {"code": value})
    return code


class InstrumentListInputSerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text=_("Symbol prefix or part of the company name, any case."),
    )
    sector = serializers.CharField(required=False, allow_blank=True, max_length=100)
    exchange = serializers.CharField(required=False, allow_blank=True, max_length=10)
    kind = serializers.ChoiceField(choices=InstrumentKind.choices, required=False)

    def validate_exchange(self, value: str) -> str:
        return _exchange_code(value) if value.strip() else ""


class ExchangeInputSerializer(serializers.Serializer):
    exchange = serializers.CharField(required=False, default="NSE", max_length=10)

    def validate_exchange(self, value: str) -> str:
        return _exchange_code(value)


class OptionalExchangeInputSerializer(serializers.Serializer):
    exchange = serializers.CharField(
        required=False, allow_blank=True, max_length=10,
        help_text=_("Exchange code; without it NSE is preferred when the symbol is on both."),
    )

    def validate_exchange(self, value: str) -> str:
        return _exchange_code(value) if value.strip() else ""


class MarketStatusOutputSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    status = serializers.ChoiceField(choices=["pre_open", "open", "closed"])
    is_open = serializers.BooleanField()
    is_trading_day = serializers.BooleanField()
    next_open = ExchangeTimeField(help_text=_("Next normal-session open, exchange time."))
    closes_at = ExchangeTimeField(
        allow_null=True, help_text=_("Today's close while the market is open, else null.")
    )
    server_time = ExchangeTimeField(source="at", help_text=_("Now, in exchange time."))


class InstrumentOutputSerializer(serializers.ModelSerializer):
    exchange = serializers.CharField(source="exchange.code")

    class Meta:
        model = Instrument
        fields: tuple[str, ...] = (
            "symbol", "exchange", "name", "isin", "sector", "industry", "kind",
            "lot_size", "tick_size", "active",
        )
        read_only_fields: tuple[str, ...] = fields


# --- quotes ----------------------------------------------------------------------------


class QuoteOutputSerializer(serializers.Serializer):
    """Schema of one quote; bodies are built by `quote_data` (no per-field overhead)."""

    symbol = serializers.CharField()
    exchange = serializers.CharField()
    last_price = serializers.DecimalField(max_digits=16, decimal_places=4)
    change = serializers.DecimalField(
        max_digits=16, decimal_places=4, help_text=_("last_price − prev_close, INR.")
    )
    change_percent = serializers.DecimalField(max_digits=10, decimal_places=2)
    open = serializers.DecimalField(max_digits=16, decimal_places=4)
    high = serializers.DecimalField(max_digits=16, decimal_places=4)
    low = serializers.DecimalField(max_digits=16, decimal_places=4)
    prev_close = serializers.DecimalField(max_digits=16, decimal_places=4)
    volume = serializers.IntegerField(help_text=_("Cumulative for the session."))
    at = ExchangeTimeField(help_text=_("Quote time, exchange time (+05:30)."))
    simulated = serializers.BooleanField(help_text=_("From the simulated feed, not a market."))
    stale = serializers.BooleanField(help_text=_("The feed has stopped updating this quote."))
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text=_("When the feed last delivered quotes; with `stale`, how old prices may be."),
    )


_PRICE_PLACES = Decimal("0.0001")
_PERCENT_PLACES = Decimal("0.01")


def price_str(value: Decimal | float) -> str:
    """A price as a 4-decimal string (how the database stores it)."""
    if isinstance(value, Decimal):
        return str(value.quantize(_PRICE_PLACES))
    return f"{value:.4f}"


def quote_data(
    quote: Quote, *, stale: bool, as_of: str | None = None, tz: ZoneInfo = MARKET_TZ
) -> dict[str, Any]:
    change = quote.last_price - quote.prev_close
    percent = change / quote.prev_close * 100 if quote.prev_close else Decimal(0)
    return {
        "symbol": quote.symbol,
        "exchange": quote.exchange,
        "last_price": price_str(quote.last_price),
        "change": price_str(change),
        "change_percent": str(percent.quantize(_PERCENT_PLACES)),
        "open": price_str(quote.open),
        "high": price_str(quote.high),
        "low": price_str(quote.low),
        "prev_close": price_str(quote.prev_close),
        "volume": quote.volume,
        "at": quote.at.astimezone(tz).isoformat(),
        "simulated": quote.simulated,
        "stale": stale,
        "as_of": as_of,
    }


class QuotesInputSerializer(serializers.Serializer):
    symbols = serializers.CharField(
        max_length=10_000,
        help_text=_("Comma-separated symbols, at most %(max)d, e.g. RELIANCE,TCS.")
        % {"max": QUOTE_SYMBOLS_MAX},
    )
    exchange = serializers.CharField(
        required=False, allow_blank=True, max_length=10,
        help_text=_("Exchange code; without it NSE is preferred when a symbol is on both."),
    )

    def validate_symbols(self, value: str) -> list[str]:
        symbols = list(dict.fromkeys(s.strip().upper() for s in value.split(",") if s.strip()))
        if not symbols:
            raise serializers.ValidationError(_("Give at least one symbol."))
        if len(symbols) > QUOTE_SYMBOLS_MAX:
            raise serializers.ValidationError(
                _("At most %(max)d symbols per request, got %(count)d.")
                % {"max": QUOTE_SYMBOLS_MAX, "count": len(symbols)}
            )
        return symbols

    def validate_exchange(self, value: str) -> str:
        return _exchange_code(value) if value.strip() else ""


class QuotesOutputSerializer(serializers.Serializer):
    quotes = QuoteOutputSerializer(many=True, help_text=_("In the order the symbols were given."))
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text=_("Symbols that match no active instrument.")
    )
    unavailable = serializers.ListField(
        child=serializers.CharField(), help_text=_("Known instruments with no quote yet.")
    )


class InstrumentDetailOutputSerializer(InstrumentOutputSerializer):
    market_status = serializers.SerializerMethodField()
    quote = serializers.SerializerMethodField()

    class Meta(InstrumentOutputSerializer.Meta):
        fields: tuple[str, ...] = (
            *InstrumentOutputSerializer.Meta.fields, "market_status", "quote"
        )
        read_only_fields: tuple[str, ...] = fields

    def get_market_status(self, instrument: Instrument) -> dict[str, Any]:
        return dict(MarketStatusOutputSerializer(self.context["market_status"]).data)

    @extend_schema_field(QuoteOutputSerializer(allow_null=True))
    def get_quote(self, instrument: Instrument) -> dict[str, Any] | None:
        quote = self.context.get("quote")
        return dict(quote) if quote is not None else None


# --- candles and indicators ---------------------------------------------------------------


class MarketTimeField(serializers.CharField):
    """An ISO 8601 date or date-time; a naive value is Asia/Kolkata time.

    Returns `(aware datetime, is_date_only)`; a date means 00:00 that day.
    """

    EARLIEST_YEAR = 1900
    LATEST_YEAR = 2200

    def to_internal_value(self, data: Any) -> tuple[datetime, bool]:  # type: ignore[override]
        text = str(super().to_internal_value(data)).strip()
        message = _("Enter an ISO 8601 date (2026-01-21) or date-time (2026-01-21T09:15).")
        try:
            moment = parse_datetime(text)
            day = None if moment is not None else parse_date(text)
        except ValueError:  # well-formed but impossible, e.g. 2026-02-30
            raise serializers.ValidationError(message) from None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=MARKET_TZ)
            result = moment, False
        elif day is not None:
            result = datetime.combine(day, time(0), tzinfo=MARKET_TZ), True
        else:
            raise serializers.ValidationError(message)
        if not self.EARLIEST_YEAR <= result[0].year <= self.LATEST_YEAR:
            # Also keeps the arithmetic below (a day added, UTC conversion) in range.
            raise serializers.ValidationError(
                _("Must be between the years %(first)d and %(last)d.")
                % {"first": self.EARLIEST_YEAR, "last": self.LATEST_YEAR}
            )
        return result


class _BarsInputSerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.D1)
    limit = serializers.IntegerField(
        min_value=1, max_value=CANDLE_LIMIT_MAX, default=CANDLE_LIMIT_DEFAULT,
        help_text=_("Bars to return, at most %(max)d.") % {"max": CANDLE_LIMIT_MAX},
    )
    end = MarketTimeField(
        required=False,
        help_text=_(
            "Last bar start to include: a date (the whole day) or a date-time (inclusive). "
            "Naive values are India time."
        ),
    )
    exchange = serializers.CharField(
        required=False, allow_blank=True, max_length=10,
        help_text=_("Exchange code; without it NSE is preferred when the symbol is on both."),
    )
    adjusted = serializers.BooleanField(
        default=True, help_text=_("Adjust earlier prices for splits and bonus issues.")
    )

    def validate_exchange(self, value: str) -> str:
        return _exchange_code(value) if value.strip() else ""

    def validate_end(self, value: tuple[datetime, bool]) -> datetime:
        """Turned into an exclusive upper bound on the bar start."""
        moment, date_only = value
        return moment + (timedelta(days=1) if date_only else timedelta(microseconds=1))


class CandleInputSerializer(_BarsInputSerializer):
    start = MarketTimeField(
        required=False,
        help_text=_(
            "First bar start to include (date = from 00:00). With it, the first `limit` bars "
            "from here; without it, the latest `limit` bars."
        ),
    )

    def validate_start(self, value: tuple[datetime, bool]) -> datetime:
        return value[0]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end": [_("Must not be before start.")]})
        return attrs


class IndicatorInputSerializer(_BarsInputSerializer):
    name = serializers.CharField(max_length=50, help_text=_("Indicator, see /indicators/."))

    def validate_name(self, value: str) -> str:
        return value.strip().lower()


class CandleBarSerializer(serializers.Serializer):
    t = ExchangeTimeField(help_text=_("Bar start, exchange time (+05:30)."))
    o = serializers.DecimalField(max_digits=16, decimal_places=4)
    h = serializers.DecimalField(max_digits=16, decimal_places=4)
    l = serializers.DecimalField(max_digits=16, decimal_places=4)  # noqa: E741
    c = serializers.DecimalField(max_digits=16, decimal_places=4)
    v = serializers.IntegerField()


class CandlesOutputSerializer(serializers.Serializer):
    """Schema of the candles body; `candles_compact_data` builds it (2,000 bars in ~2 ms)."""

    symbol = serializers.CharField()
    exchange = serializers.CharField()
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)
    adjusted = serializers.BooleanField(
        help_text=_("Whether corporate-action adjustment was applied to these bars.")
    )
    simulated = serializers.BooleanField(help_text=_("Some bars come from the simulated feed."))
    bars = CandleBarSerializer(many=True, help_text=_("Oldest first."))


def iso_times(epochs: Sequence[int], tz: ZoneInfo = MARKET_TZ) -> list[str]:
    """ISO 8601 strings in `tz` for epoch seconds, vectorised when the zone keeps one
    offset over the span (always for Asia/Kolkata), else one `datetime` at a time."""
    if not len(epochs):
        return []
    first = datetime.fromtimestamp(int(epochs[0]), tz)
    last = datetime.fromtimestamp(int(epochs[-1]), tz)
    probes = [first, last] + [
        datetime(year, month, 1, tzinfo=tz) for year in {first.year, last.year} for month in (1, 7)
    ]
    offsets = {probe.utcoffset() for probe in probes}
    if len(offsets) != 1 or last.year - first.year > 1:
        return [datetime.fromtimestamp(int(e), tz).isoformat() for e in epochs]
    offset = first.utcoffset() or timedelta(0)
    local = np.asarray(epochs, dtype=np.int64) + int(offset.total_seconds())
    suffix = first.isoformat()[19:]  # "+05:30"
    texts: list[str] = np.datetime_as_string(local.astype("datetime64[s]"), unit="s").tolist()
    return [text + suffix for text in texts]


def candles_compact_data(
    *,
    symbol: str,
    exchange: str,
    timeframe: str,
    adjusted: bool,
    rows: Sequence[tuple[int, str, str, str, str, int, int]],
    tz: ZoneInfo = MARKET_TZ,
) -> dict[str, Any]:
    """The candles body from `selectors.candle_list_compact` rows (prices already text)."""
    times = iso_times([row[0] for row in rows], tz)
    bars = [
        {"t": t, "o": row[1], "h": row[2], "l": row[3], "c": row[4], "v": row[5]}
        for t, row in zip(times, rows, strict=True)
    ]
    return {
        "symbol": symbol,
        "exchange": exchange,
        "timeframe": timeframe,
        "adjusted": adjusted,
        "simulated": any(row[6] == DataSource.SIMULATED for row in rows),
        "bars": bars,
    }


class IndicatorParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["int", "float"])
    default = serializers.FloatField()
    min = serializers.FloatField()
    max = serializers.FloatField()


class IndicatorSpecOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    inputs = serializers.ListField(child=serializers.CharField())
    params = IndicatorParamSerializer(many=True)
    outputs = serializers.ListField(child=serializers.CharField())


class IndicatorOutputSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)
    adjusted = serializers.BooleanField()
    name = serializers.CharField()
    params = serializers.DictField(
        child=serializers.FloatField(), help_text=_("Validated, defaults filled in.")
    )
    outputs = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text=_("One array per output, aligned with `t`; null during warm-up."),
    )
    t = serializers.ListField(child=ExchangeTimeField(), help_text=_("Bar starts, oldest first."))


def finite_or_none(values: Mapping[str, Any], count: int) -> dict[str, list[float | None]]:
    """The last `count` values of each array as JSON-safe lists (NaN/inf → null)."""
    out: dict[str, list[float | None]] = {}
    for name, array in values.items():
        tail = array[-count:].tolist() if count else []
        out[name] = [x if x == x and x not in (float("inf"), float("-inf")) else None for x in tail]
    return out

