"""Input and output shapes of backtest runs (REST and the backtest form post the same body).

The input serializers check types and bounds; what needs the database or the strategy's
parameter schema (symbols, params, grid, the per-user limit) is checked by
`apps.signals.runs.backtest_run_create`, with errors keyed the same way (`params.fast`).
Money is a decimal string in and out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.portfolios.serializers import symbol_text
from apps.signals.models import BacktestRun, RunKind, RunStatus
from apps.signals.run_selectors import run_summary
from apps.signals.strategies import STRATEGIES

TIMEFRAMES = ("1d", "1h", "15m", "5m")
UNIVERSES = ("NIFTY 50",)
DIRECTIONS = ("long", "short", "both")
SIZINGS = ("fixed", "percent", "risk")
MAX_INSTRUMENTS = 50
MAX_GRID_VALUES = 100


def _number(minimum: float, maximum: float, **kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(min_value=minimum, max_value=maximum, **kwargs)


def _money(minimum: str, maximum: str, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(minimum),
        max_value=Decimal(maximum),
        **kwargs,
    )


class ChargesInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Charges as fractions of turnover (0.001 = 0.1 %); omitted ones keep the NSE defaults."""

    brokerage_rate = _number(0, 0.05, required=False)
    brokerage_cap = _number(0, 10_000, required=False, help_text="Rupees per order; 0 = no cap.")
    stt_rate = _number(0, 0.05, required=False)
    exchange_rate = _number(0, 0.01, required=False)
    sebi_rate = _number(0, 0.01, required=False)
    gst_rate = _number(0, 0.5, required=False)
    stamp_rate = _number(0, 0.01, required=False)


class BacktestConfigInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """`BacktestConfig` (apps/signals/backtest/config.py); omitted fields keep its defaults."""

    direction = serializers.ChoiceField(choices=DIRECTIONS, required=False)
    sizing = serializers.ChoiceField(choices=SIZINGS, required=False)
    initial_capital = _money("1000", "10000000000", required=False)
    fixed_amount = _money("100", "10000000000", required=False)
    percent_of_equity = _number(0.1, 100, required=False)
    risk_percent = _number(0.01, 10, required=False)
    stop_atr = _number(0.1, 20, required=False, allow_null=True)
    target_r = _number(0.1, 20, required=False, allow_null=True)
    atr_period = serializers.IntegerField(min_value=1, max_value=200, required=False)
    max_bars = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False, allow_null=True
    )
    slippage_bps = _number(0, 500, required=False)
    fractional = serializers.BooleanField(required=False)
    charges = ChargesInputSerializer(required=False)


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "number"}, "example": {"fast": 20}}
)
class ParamsField(serializers.DictField):  # type: ignore[type-arg]
    """Strategy parameters by name; checked against the strategy's schema by the service."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "number"}},
        "example": {"fast": [10, 20], "slow": [50, 100]},
    }
)
class GridField(serializers.DictField):  # type: ignore[type-arg]
    """Values to try per parameter name (a sweep); each checked against the parameter's bounds."""

    child = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=MAX_GRID_VALUES
    )


class BacktestRunInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=RunKind.choices)
    strategy = serializers.ChoiceField(choices=[(k, str(s.name)) for k, s in STRATEGIES.items()])
    params = ParamsField(required=False, help_text="single and portfolio runs")
    grid = GridField(required=False, help_text="sweeps: values to try per parameter")
    instruments = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=MAX_INSTRUMENTS,
        help_text='Symbols: "RELIANCE" (NSE) or "BSE:RELIANCE". One for single and sweep '
        "runs, 2 to 50 for a portfolio.",
    )
    universe = serializers.ChoiceField(
        choices=UNIVERSES,
        required=False,
        allow_blank=True,
        help_text="Portfolio runs: every constituent instead of `instruments`.",
    )
    timeframe = serializers.ChoiceField(choices=TIMEFRAMES)
    start = serializers.DateField(required=False, allow_null=True, help_text="Default: all bars.")
    end = serializers.DateField(required=False, allow_null=True, help_text="Inclusive.")
    config = BacktestConfigInputSerializer(required=False)
    windows = serializers.IntegerField(
        min_value=2, max_value=10, required=False, help_text="Sweeps: walk-forward windows."
    )
    in_sample = _number(
        0.5, 0.9, required=False, help_text="Sweeps: in-sample fraction of each window."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end < start:
            raise serializers.ValidationError({"end": [_("The end must not be before the start.")]})
        return attrs


class ShareInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    shared = serializers.BooleanField()


class ShareOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    shared = serializers.BooleanField()
    url = serializers.CharField(allow_null=True, help_text="The public report page; null if off.")
    api_url = serializers.CharField(allow_null=True, help_text="Its JSON; null if off.")


class BacktestRunOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A run without its (possibly large) report: for lists and progress."""

    instruments = serializers.SerializerMethodField()
    strategy_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    kind = serializers.ChoiceField(choices=RunKind.choices)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = BacktestRun
        fields = (
            "id",
            "name",
            "kind",
            "strategy",
            "strategy_name",
            "timeframe",
            "instruments",
            "request",
            "status",
            "progress",
            "error",
            "summary",
            "shared",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_instruments(self, run: BacktestRun) -> list[str]:
        return sorted(symbol_text(i) for i in run.instruments.all())

    def get_strategy_name(self, run: BacktestRun) -> str:
        strategy = STRATEGIES.get(run.strategy)
        return str(strategy.name) if strategy else run.strategy

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_summary(self, run: BacktestRun) -> dict[str, Any] | None:
        """The headline figures of a finished run (a sweep: its out-of-sample summary)."""
        return run_summary(run.result)


class BacktestRunDetailSerializer(BacktestRunOutputSerializer):
    """A run with its stored report (`result`, see docs/backtesting.md) once done."""

    result = serializers.JSONField(allow_null=True)

    class Meta(BacktestRunOutputSerializer.Meta):
        fields = (*BacktestRunOutputSerializer.Meta.fields, "result")  # type: ignore[assignment]
        read_only_fields = fields  # type: ignore[assignment]
