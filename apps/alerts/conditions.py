"""Condition types: their parameters (validated by DRF serializers) and what the engine watches.

Every condition becomes a threshold on one scalar *series* (price, % change, RSI, MACD − signal,
price − SMA, …): `series op threshold` with op `gt` or `lt`. "Level" conditions (price above,
RSI below, …) fire when first seen true; "cross" conditions (crossing up, MACD cross, leaving a
Bollinger band) only on a change from false to true. See docs/alerts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.market.models import Timeframe

PRICE_MAX = Decimal("10000000")


class _Base(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.CharField()


class _Value(_Base):
    value = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal("0.0001"), max_value=PRICE_MAX
    )


class _Change(_Base):
    value = serializers.DecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal("0.0001"), max_value=Decimal("1000")
    )
    direction = serializers.ChoiceField(choices=["up", "down"])
    window_minutes = serializers.IntegerField(
        min_value=1, max_value=1440, required=False, allow_null=True
    )


class _Volume(_Base):
    value = serializers.IntegerField(min_value=1, max_value=10**15)


class _Indicator(_Base):
    timeframe = serializers.ChoiceField(choices=Timeframe.values)


class _VolumeMultiple(_Indicator):
    multiple = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.1"), max_value=Decimal("1000")
    )
    bars = serializers.IntegerField(min_value=2, max_value=500, default=20)


class _Rsi(_Indicator):
    value = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100")
    )
    period = serializers.IntegerField(min_value=2, max_value=200, default=14)


class _Macd(_Indicator):
    fast = serializers.IntegerField(min_value=2, max_value=200, default=12)
    slow = serializers.IntegerField(min_value=2, max_value=400, default=26)
    signal = serializers.IntegerField(min_value=1, max_value=200, default=9)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["fast"] >= attrs["slow"]:
            raise serializers.ValidationError({"fast": [_("Must be smaller than slow.")]})
        return attrs


class _MovingAverage(_Indicator):
    direction = serializers.ChoiceField(choices=["up", "down"])
    period = serializers.IntegerField(min_value=2, max_value=500)


class _Bollinger(_Indicator):
    band = serializers.ChoiceField(choices=["upper", "lower"])
    period = serializers.IntegerField(min_value=2, max_value=500, default=20)
    stddev = serializers.DecimalField(
        max_digits=4, decimal_places=2, min_value=Decimal("0.1"), max_value=Decimal("10"),
        default=Decimal("2"),
    )


class _Ratio(_Base):
    other = serializers.CharField(max_length=40)
    value = serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=Decimal("0.000001"),
        max_value=Decimal("1000000"),
    )


SERIALIZERS: dict[str, type[_Base]] = {
    "price_above": _Value,
    "price_below": _Value,
    "crossing_up": _Value,
    "crossing_down": _Value,
    "change_percent": _Change,
    "volume_above": _Volume,
    "volume_multiple": _VolumeMultiple,
    "rsi_above": _Rsi,
    "rsi_below": _Rsi,
    "macd_cross_up": _Macd,
    "macd_cross_down": _Macd,
    "price_cross_sma": _MovingAverage,
    "price_cross_ema": _MovingAverage,
    "bollinger_exit": _Bollinger,
    "ratio_above": _Ratio,
    "ratio_below": _Ratio,
}
PRICE_TYPES = frozenset({"price_above", "price_below", "crossing_up", "crossing_down"})


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals as strings: the JSON column keeps them exact.
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()
            if v is not None}


def condition_validate(raw: Any) -> dict[str, Any]:
    """One condition → its normalised dict; raises serializers.ValidationError naming fields."""
    if not isinstance(raw, dict):
        raise serializers.ValidationError({"type": [_("Each condition must be an object.")]})
    kind = raw.get("type")
    serializer_class = SERIALIZERS.get(str(kind))
    if serializer_class is None:
        raise serializers.ValidationError(
            {"type": [_("Unknown condition type: %(type)s.") % {"type": kind}]}
        )
    unknown = sorted(set(raw) - set(serializer_class().fields))
    if unknown:
        raise serializers.ValidationError(
            {name: [_("Not a parameter of %(type)s.") % {"type": kind}] for name in unknown}
        )
    serializer = serializer_class(data=raw)
    serializer.is_valid(raise_exception=True)
    return _jsonable(dict(serializer.validated_data))


# --- what the engine watches ------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """`series op threshold`; `series` is a hashable key shared by every rule that uses it."""

    series: tuple[Any, ...]
    op: str  # "gt" | "lt"
    threshold: float
    cross: bool  # True: only a change from false to true counts (never the first sight)


def condition_watch(condition: dict[str, Any], symbol: str) -> Watch:
    """The engine's view of a normalised condition for one instrument.

    Thresholds are float64 of Decimals with ≤ 6 decimals: float() rounds correctly and
    monotonically, and such values stay far apart in float64 at these magnitudes, so every
    comparison against a price (also ≤ 4 decimals) has the same outcome as in Decimal.
    """
    kind = condition["type"]
    tf = condition.get("timeframe", "")
    if kind in PRICE_TYPES:
        op = "gt" if kind in ("price_above", "crossing_up") else "lt"
        return Watch(("price", symbol), op, float(condition["value"]),
                     kind.startswith("crossing"))
    if kind == "change_percent":
        window = condition.get("window_minutes")
        series: tuple[Any, ...] = ("chg", symbol, int(window) if window else 0)
        value = float(condition["value"])
        if condition["direction"] == "up":
            return Watch(series, "gt", value, False)
        return Watch(series, "lt", -value, False)
    if kind == "volume_above":
        return Watch(("volume", symbol), "gt", float(condition["value"]), False)
    if kind == "volume_multiple":
        return Watch(("volmult", symbol, tf, int(condition["bars"])), "gt",
                     float(condition["multiple"]), False)
    if kind in ("rsi_above", "rsi_below"):
        return Watch(("rsi", symbol, tf, int(condition["period"])),
                     "gt" if kind == "rsi_above" else "lt", float(condition["value"]), False)
    if kind in ("macd_cross_up", "macd_cross_down"):
        series = ("macd", symbol, tf, int(condition["fast"]), int(condition["slow"]),
                  int(condition["signal"]))
        return Watch(series, "gt" if kind == "macd_cross_up" else "lt", 0.0, True)
    if kind in ("price_cross_sma", "price_cross_ema"):
        series = (kind[-3:], symbol, tf, int(condition["period"]))
        return Watch(series, "gt" if condition["direction"] == "up" else "lt", 0.0, True)
    if kind == "bollinger_exit":
        band = condition["band"]
        series = ("boll", symbol, tf, int(condition["period"]), float(condition["stddev"]), band)
        return Watch(series, "gt" if band == "upper" else "lt", 0.0, True)
    if kind in ("ratio_above", "ratio_below"):
        return Watch(("ratio", symbol, str(condition["other"]).upper()),
                     "gt" if kind == "ratio_above" else "lt", float(condition["value"]), False)
    raise ValueError(f"unknown condition type {kind!r}")


def condition_describe(condition: dict[str, Any]) -> str:
    """A short human text, used in default names and messages."""
    kind = condition["type"]
    if kind in PRICE_TYPES:
        return f"{kind.replace('_', ' ')} {condition['value']}"
    if kind == "change_percent":
        window = condition.get("window_minutes")
        span = f" in {window} min" if window else ""
        return f"{condition['direction']} {condition['value']}%{span}"
    return kind.replace("_", " ")
