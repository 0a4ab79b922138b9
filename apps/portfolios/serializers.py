"""Input and output shapes of the portfolios API. Money and quantities are decimal strings."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.market.models import Instrument
from apps.market.selectors import instrument_get
from apps.portfolios.models import Portfolio, Transaction, TransactionKind
from apps.portfolios.services import (
    CHARGE_FIELDS,
    DESCRIPTION_MAX_LENGTH,
    EXTERNAL_ID_MAX_LENGTH,
    IST,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    executed_at_from_date,
)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RATIO_MAX = 2**31 - 1


def instrument_from_symbol(symbol: str) -> Instrument | None:
    """`"TCS"` is the NSE listing; `"BSE:SENSEX"` names the exchange. Active ones only."""
    exchange, _sep, code = symbol.strip().upper().rpartition(":")
    return instrument_get(symbol=code, exchange=exchange.strip() or "NSE") if code else None


def symbol_text(instrument: Instrument) -> str:
    """How an instrument is written in input: "TCS" on NSE, "BSE:SENSEX" elsewhere."""
    code = instrument.exchange.code
    return instrument.symbol if code == "NSE" else f"{code}:{instrument.symbol}"


@extend_schema_field(OpenApiTypes.STR)
class SymbolField(serializers.Field):  # type: ignore[type-arg]
    """A symbol in, the active `Instrument` out; unknown symbols are a 400 on the field."""

    default_error_messages = {
        "invalid": gettext_lazy("Give a symbol as text."),
        "unknown": gettext_lazy(
            "Unknown symbol “%(symbol)s”. Use an NSE symbol such as RELIANCE, or EXCHANGE:SYMBOL."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            gettext_lazy('"RELIANCE" means NSE; or EXCHANGE:SYMBOL, e.g. "BSE:RELIANCE".'),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Instrument:
        if not isinstance(data, str) or len(data) > 50:
            self.fail("invalid")
        instrument = instrument_from_symbol(data) if data.strip() else None
        if instrument is None:
            raise serializers.ValidationError(
                self.error_messages["unknown"] % {"symbol": data.strip()}
            )
        return instrument

    def to_representation(self, value: Instrument) -> str:
        return symbol_text(value)


@extend_schema_field(OpenApiTypes.DATETIME)
class ExecutedAtField(serializers.Field):  # type: ignore[type-arg]
    """ISO 8601 date and time; without an offset it is Indian time; a bare date
    (2024-03-05) is 15:30 IST that day (the NSE close). Output: ISO 8601, +05:30."""

    default_error_messages = {
        "invalid": gettext_lazy("Give a date (2024-03-05) or an ISO 8601 date and time."),
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        try:
            if _DATE_ONLY.match(text):
                return executed_at_from_date(date.fromisoformat(text))
            parsed = parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if parsed is None:
            self.fail("invalid")
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=IST)
        return parsed

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(IST).isoformat()


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=4, **kwargs)


# --- portfolios -------------------------------------------------------------------------------


class PortfolioInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False
    )
    benchmark = SymbolField(
        allow_null=True,
        required=False,
        help_text=gettext_lazy(
            'An index or stock to compare with, e.g. "NIFTY 50"; null for none. Left out on '
            "create: settings.PORTFOLIO_DEFAULT_BENCHMARK."
        ),
    )


class PortfolioOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    benchmark = serializers.SerializerMethodField()
    benchmark_name = serializers.SerializerMethodField()
    transaction_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Portfolio
        fields = (
            "id",
            "name",
            "description",
            "base_currency",
            "benchmark",
            "benchmark_name",
            "position",
            "transaction_count",
            "snapshots_stale_from",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_benchmark(self, portfolio: Portfolio) -> str | None:
        return symbol_text(portfolio.benchmark) if portfolio.benchmark else None

    def get_benchmark_name(self, portfolio: Portfolio) -> str | None:
        return portfolio.benchmark.name if portfolio.benchmark else None


# --- transactions -----------------------------------------------------------------------------


class TransactionInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A transaction. What each kind needs: buy/sell `symbol`, `quantity`, `price` (charges
    optional); dividend `symbol`, `amount`; split/bonus `symbol`, `ratio_from`, `ratio_to`;
    fee/deposit/withdrawal `amount`. Charges itemised, or as one total in `charges`."""

    kind = serializers.ChoiceField(choices=TransactionKind.choices)
    symbol = SymbolField(allow_null=True, required=False)
    executed_at = ExecutedAtField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6, required=False)
    price = _money(required=False)
    amount = _money(required=False)
    ratio_from = serializers.IntegerField(allow_null=True, required=False, max_value=_RATIO_MAX)
    ratio_to = serializers.IntegerField(allow_null=True, required=False, max_value=_RATIO_MAX)
    brokerage = _money(required=False)
    stt = _money(required=False)
    exchange_fees = _money(required=False)
    gst = _money(required=False)
    stamp_duty = _money(required=False)
    other_charges = _money(required=False)
    charges = _money(
        required=False,
        write_only=True,
        help_text=gettext_lazy("All charges as one total (stored as other charges)."),
    )
    notes = serializers.CharField(max_length=NOTES_MAX_LENGTH, allow_blank=True, required=False)
    external_id = serializers.CharField(
        max_length=EXTERNAL_ID_MAX_LENGTH, allow_blank=True, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "charges" in attrs:
            if any(name in attrs for name in CHARGE_FIELDS):
                raise serializers.ValidationError(
                    {"charges": [_("Give charges itemised or as one total, not both.")]}
                )
            # The total replaces every stored charge (a PATCH may meet itemised ones).
            attrs.update(dict.fromkeys(CHARGE_FIELDS, Decimal(0)))
            attrs["other_charges"] = attrs.pop("charges")
        if "symbol" in attrs:
            attrs["instrument"] = attrs.pop("symbol")
        return attrs


class TransactionPatchSerializer(TransactionInputSerializer):
    """PATCH: any subset of the fields; the others keep their stored values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class TransactionFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    instrument = serializers.CharField(required=False, allow_blank=True, max_length=50)
    kind = serializers.ChoiceField(choices=TransactionKind.choices, required=False)


class TransactionOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    symbol = serializers.SerializerMethodField()
    exchange = serializers.SerializerMethodField()
    executed_at = ExecutedAtField()
    charges = serializers.SerializerMethodField()

    class Meta:
        model = Transaction
        fields = (
            "id",
            "kind",
            "symbol",
            "exchange",
            "executed_at",
            "quantity",
            "price",
            "amount",
            "ratio_from",
            "ratio_to",
            *CHARGE_FIELDS,
            "charges",
            "notes",
            "external_id",
            "source",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_symbol(self, row: Transaction) -> str | None:
        return row.instrument.symbol if row.instrument else None

    def get_exchange(self, row: Transaction) -> str | None:
        return row.instrument.exchange.code if row.instrument else None

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_charges(self, row: Transaction) -> str:
        return str(row.charges)


# --- summary (schema only: the selector's dict is returned as is) -----------------------------


def _money_out(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


def _percent_out() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class SummaryTotalsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    total_value = _money_out(help_text=gettext_lazy("Market value of the holdings."))
    cash = _money_out(
        help_text=gettext_lazy(
            "Deposits − withdrawals − buys + sells + dividends − fees − charges."
        )
    )
    invested = _money_out(help_text=gettext_lazy("Cost of the open lots, charges included."))
    net_invested = _money_out(
        help_text=gettext_lazy(
            "Bought − sold − dividends: money put into holdings and not taken out."
        )
    )
    charges = _money_out(help_text=gettext_lazy("Trade charges and fees paid."))
    fees = _money_out()
    dividends = _money_out()
    unrealised_pl = _money_out()
    unrealised_pl_percent = _percent_out()
    realised_pl = _money_out(help_text=gettext_lazy("Sells (FIFO) and dividends, minus fees."))
    profit_loss = _money_out(help_text=gettext_lazy("Realised + unrealised P/L."))
    profit_loss_percent = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text=gettext_lazy("P/L as a percentage of the cost of every share bought."),
    )
    day_change = _money_out()
    day_change_percent = _percent_out()


class SummaryHoldingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField(help_text=gettext_lazy("EXCHANGE:SYMBOL, as in live updates."))
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    name = serializers.CharField()
    sector = serializers.CharField()
    market_cap = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    average_cost = serializers.DecimalField(max_digits=20, decimal_places=4)
    invested = _money_out()
    last_price = serializers.DecimalField(max_digits=20, decimal_places=4)
    prev_close = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    current_value = _money_out()
    unrealised_pl = _money_out()
    unrealised_pl_percent = _percent_out()
    realised_pl = _money_out()
    dividends = _money_out()
    day_change = _money_out()
    day_change_percent = _percent_out()
    weight = serializers.DecimalField(max_digits=6, decimal_places=4)
    priced = serializers.BooleanField(
        help_text=gettext_lazy(
            "False: no quote or close is known, so the holding is shown at cost."
        )
    )
    price_source = serializers.ChoiceField(choices=["quote", "close", "cost"])
    price_at = serializers.DateTimeField(allow_null=True)


class SummaryClosedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    name = serializers.CharField()
    realised_pl = _money_out()
    dividends = _money_out()


class AllocationSliceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    value = _money_out()
    weight = serializers.DecimalField(max_digits=6, decimal_places=4)


class AllocationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    instrument = AllocationSliceSerializer(many=True)
    sector = AllocationSliceSerializer(many=True)
    market_cap = AllocationSliceSerializer(many=True)


class ConcentrationWarningSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.ChoiceField(choices=["stock_concentration", "sector_concentration"])
    key = serializers.CharField()
    message = serializers.CharField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=4)


class SummaryOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    as_of = serializers.DateTimeField(
        allow_null=True, help_text=gettext_lazy("Time of the newest price used.")
    )
    currency = serializers.CharField()
    stale = serializers.BooleanField(
        help_text=gettext_lazy("The market is open and the feed has stopped: prices may be old.")
    )
    simulated = serializers.BooleanField(
        help_text=gettext_lazy("Some prices come from the simulated feed, not a market.")
    )
    totals = SummaryTotalsSerializer()
    holdings = SummaryHoldingSerializer(many=True)
    closed = SummaryClosedSerializer(many=True)
    allocation = AllocationSerializer()
    warnings = ConcentrationWarningSerializer(many=True)
