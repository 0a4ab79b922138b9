from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.market import selectors
from apps.market.models import Instrument, InstrumentKind


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


class InstrumentDetailOutputSerializer(InstrumentOutputSerializer):
    market_status = serializers.SerializerMethodField()

    class Meta(InstrumentOutputSerializer.Meta):
        fields: tuple[str, ...] = (*InstrumentOutputSerializer.Meta.fields, "market_status")
        read_only_fields: tuple[str, ...] = fields

    def get_market_status(self, instrument: Instrument) -> dict[str, Any]:
        return dict(MarketStatusOutputSerializer(self.context["market_status"]).data)
