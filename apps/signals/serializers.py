"""Input and output shapes of the signals API (signals, strategies and their records,
follows). A signal's output is a superset of the `signal.new` WebSocket payload
(docs/signals.md): the same names, plus its outcome and the EXIT that closed it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.market.models import Instrument, Timeframe
from apps.signals import selectors
from apps.signals.models import Action, FollowKind, Outcome, Signal, SignalFollow
from apps.signals.publishing import PAISA, signal_payload
from apps.signals.strategies import STRATEGIES

_PAYLOAD_FIELDS = (
    "entry_price",
    "target_price",
    "stop_loss",
    "risk_reward",
    "timestamp",
    "bar_time",
)


def _instrument(value: str) -> Instrument:
    instrument = selectors.instrument_by_symbol(text=value)
    if instrument is None:
        raise serializers.ValidationError(_("Unknown instrument “%s”.") % value.strip())
    return instrument


def _strategy(value: str) -> str:
    if value not in STRATEGIES:
        raise serializers.ValidationError(_("Unknown strategy “%s”.") % value)
    return value


# --- signals ---------------------------------------------------------------------------


class SignalFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    symbol = serializers.CharField(max_length=40, required=False)
    strategy = serializers.CharField(max_length=40, required=False)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)
    action = serializers.ChoiceField(choices=Action.choices, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)

    def validate_symbol(self, value: str) -> Instrument:
        return _instrument(value)

    def validate_strategy(self, value: str) -> str:
        return _strategy(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "symbol" in attrs:
            attrs["instrument"] = attrs.pop("symbol")
        return attrs


class _EvidenceSideSerializer(serializers.Serializer):  # type: ignore[type-arg]
    trades = serializers.IntegerField(required=False)
    resolved = serializers.IntegerField(required=False)
    wins = serializers.IntegerField(required=False)
    hit_rate = serializers.FloatField(required=False, allow_null=True)
    avg_r = serializers.FloatField(required=False, allow_null=True)
    # "from"/"to" (ISO dates) of the backtested period, as the live helper stores them.


class SignalEvidenceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    backtest = _EvidenceSideSerializer(required=False)
    live = _EvidenceSideSerializer(required=False)


class SignalOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    stock = serializers.CharField(source="instrument.symbol", help_text=_("The symbol."))
    exchange = serializers.CharField(source="instrument.exchange.code")
    strategy_name = serializers.SerializerMethodField()
    timestamp = serializers.DateTimeField(
        source="created_at", help_text=_("When the signal bar closed.")
    )
    evidence = serializers.SerializerMethodField()
    exit_signal = serializers.SerializerMethodField(
        help_text=_("Id of the EXIT signal that closed this one, if any.")
    )

    class Meta:
        model = Signal
        fields = (
            "id",
            "stock",
            "exchange",
            "action",
            "confidence",
            "entry_price",
            "target_price",
            "stop_loss",
            "risk_reward",
            "strength",
            "strategy",
            "strategy_name",
            "params",
            "timeframe",
            "explanation",
            "evidence",
            "timestamp",
            "bar_time",
            "outcome",
            "exit_price",
            "r_multiple",
            "bars_held",
            "days_held",
            "resolved_at",
            "closes",
            "exit_signal",
        )
        read_only_fields = fields

    def get_strategy_name(self, signal: Signal) -> str:
        strategy = STRATEGIES.get(signal.strategy)
        return str(strategy.name) if strategy else signal.strategy

    def to_representation(self, instance: Signal) -> dict[str, Any]:
        # The shared fields come from the `signal.new` payload itself, so REST and WebSocket
        # clients read the same prices (2-dp strings) and the same `timestamp` (bar close).
        data: dict[str, Any] = super().to_representation(instance)
        payload = signal_payload(instance)
        data.update({key: payload[key] for key in _PAYLOAD_FIELDS})
        if instance.exit_price is not None:
            data["exit_price"] = str(instance.exit_price.quantize(PAISA))
        return data

    @extend_schema_field(SignalEvidenceSerializer)
    def get_evidence(self, signal: Signal) -> dict[str, Any]:
        return dict(signal.evidence or {})

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_exit_signal(self, signal: Signal) -> int | None:
        return getattr(signal, "exit_signal_id", None)


# --- strategies ------------------------------------------------------------------------


class ParamOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    default = serializers.FloatField()
    min = serializers.FloatField(source="minimum")
    max = serializers.FloatField(source="maximum")
    integer = serializers.BooleanField()


class BacktestRecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    hit_rate = serializers.FloatField(allow_null=True)
    avg_r = serializers.FloatField(allow_null=True, help_text=_("Trade-weighted average R."))
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)


class LiveRecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    resolved = serializers.IntegerField()
    wins = serializers.IntegerField(help_text=_("Resolved with an R multiple above 0."))
    hit_rate = serializers.FloatField(allow_null=True)
    avg_r = serializers.FloatField(allow_null=True)
    open = serializers.IntegerField()


class RecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)
    backtest = BacktestRecordSerializer()
    live = LiveRecordSerializer()
    drift = serializers.BooleanField(
        help_text=_(
            "Enough live signals resolved and their hit rate is far from the "
            "backtested one (SIGNALS_DRIFT_MIN_LIVE, SIGNALS_DRIFT_THRESHOLD)."
        )
    )


class InstrumentRecordSerializer(RecordSerializer):
    symbol = serializers.CharField()
    exchange = serializers.CharField()


class StrategyOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    params = ParamOutputSerializer(many=True)
    records = RecordSerializer(many=True, help_text=_("One per timeframe with any data."))


class StrategyDetailOutputSerializer(StrategyOutputSerializer):
    instruments = InstrumentRecordSerializer(many=True)
    recent_signals = SignalOutputSerializer(many=True, help_text=_("The latest 20."))


# --- follows ---------------------------------------------------------------------------


class FollowInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=FollowKind.choices)
    strategy = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    symbol = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_("RELIANCE (NSE) or BSE:RELIANCE."),
    )
    timeframe = serializers.ChoiceField(
        choices=Timeframe.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Empty: every timeframe."),
    )

    def validate_strategy(self, value: str) -> str:
        return _strategy(value) if value else value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        symbol = attrs.pop("symbol", "")
        if attrs["kind"] == FollowKind.INSTRUMENT:
            if not symbol:
                raise serializers.ValidationError({"symbol": [_("Choose an instrument.")]})
            try:
                attrs["instrument"] = _instrument(symbol)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"symbol": exc.detail}) from None
            attrs["strategy"] = ""
        elif not attrs.get("strategy"):
            raise serializers.ValidationError({"strategy": [_("Choose a strategy.")]})
        return attrs


class FollowOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    symbol = serializers.CharField(source="instrument.symbol", allow_null=True, default=None)
    exchange = serializers.CharField(
        source="instrument.exchange.code", allow_null=True, default=None
    )
    strategy_name = serializers.SerializerMethodField()

    class Meta:
        model = SignalFollow
        fields = (
            "id",
            "kind",
            "strategy",
            "strategy_name",
            "symbol",
            "exchange",
            "timeframe",
            "created_at",
        )
        read_only_fields = fields

    def get_strategy_name(self, follow: SignalFollow) -> str:
        strategy = STRATEGIES.get(follow.strategy)
        return str(strategy.name) if strategy else ""
