from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.charts.models import ChartDrawing, DrawingKind

# 1990-01-01 .. 2200-01-01: wide enough for any bar, narrow enough to catch milliseconds.
TIME_MIN = 631_152_000
TIME_MAX = 7_258_118_400
PRICE_MAX = Decimal("1000000000000")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
POINTS_BY_KIND = {DrawingKind.TREND: 2, DrawingKind.HLINE: 1}


def _price(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise serializers.ValidationError(_("Price must be a decimal string, e.g. \"2951.20\"."))
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise serializers.ValidationError(
            _("Price must be a decimal string, e.g. \"2951.20\".")
        ) from None
    if not price.is_finite() or price <= 0 or price >= PRICE_MAX:
        raise serializers.ValidationError(_("Price must be a positive amount in INR."))
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise serializers.ValidationError(_("Price may have at most 4 decimal places."))
    return format(price, "f")


def _time(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise serializers.ValidationError(_("Time must be whole seconds since 1970 (UTC)."))
    if not TIME_MIN <= value <= TIME_MAX:
        raise serializers.ValidationError(_("Time is out of range (seconds, not milliseconds)."))
    return value


class DrawingInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DrawingKind.choices)
    points = serializers.JSONField(
        help_text='trend: [{"time": 1767000000, "price": "2951.20"}, {...}], times in epoch '
        "seconds (UTC), stored as given and returned earlier point first; charts draw each "
        'point on the bar holding its time. hline: [{"price": "2951.20"}]'
    )
    color = serializers.CharField(required=False, allow_blank=True, max_length=7, default="")

    def validate_color(self, value: str) -> str:
        if value and not _COLOR.match(value):
            raise serializers.ValidationError(_("Use a colour like #1f6feb."))
        return value.lower()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = DrawingKind(attrs["kind"])
        points = attrs["points"]
        wanted = POINTS_BY_KIND[kind]
        if not isinstance(points, list) or len(points) != wanted:
            message = (
                _("A trend line needs exactly two points.")
                if kind == DrawingKind.TREND
                else _("A horizontal line needs exactly one point.")
            )
            raise serializers.ValidationError({"points": [message]})
        clean: list[dict[str, Any]] = []
        errors: dict[str, list[str]] = {}
        for index, point in enumerate(points):
            if not isinstance(point, dict):
                errors[f"points.{index}"] = [_("Each point must be an object.")]
                continue
            item: dict[str, Any] = {}
            fields = ("time", "price") if kind == DrawingKind.TREND else ("price",)
            for name in fields:
                if name not in point:
                    errors[f"points.{index}.{name}"] = [_("This field is required.")]
                    continue
                try:
                    item[name] = _time(point[name]) if name == "time" else _price(point[name])
                except serializers.ValidationError as exc:
                    errors[f"points.{index}.{name}"] = [str(m) for m in exc.detail]  # type: ignore[union-attr]
            extra = set(point) - set(fields)
            if extra:
                errors[f"points.{index}"] = [
                    _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(extra))}
                ]
            clean.append(item)
        if errors:
            raise serializers.ValidationError(errors)
        if kind == DrawingKind.TREND:
            if clean[0]["time"] == clean[1]["time"]:
                raise serializers.ValidationError(
                    {"points": [_("The two points of a trend line need different times.")]}
                )
            # Stored as given (not snapped to a bar), earlier point first.
            clean.sort(key=lambda point: int(point["time"]))
        attrs["points"] = clean
        return attrs


class DrawingOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ChartDrawing
        fields = ("id", "kind", "points", "color", "created_at")
        read_only_fields = fields


class DrawingListOutputSerializer(serializers.Serializer):
    results = DrawingOutputSerializer(many=True)
    limit = serializers.IntegerField()
