"""Template filters of the signals pages: rates as whole percents, R multiples."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(rate: Any) -> str:
    """0.575 → "58" (whole percent, half up); "–" when there is no rate."""
    if rate is None or rate == "":
        return "–"
    # Decimal from the float's shortest repr: 0.575 is 57.5 %, which rounds half up to 58
    # (float arithmetic gives 57.49999…).
    percent = Decimal(repr(float(rate))) * 100
    return str(percent.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@register.filter
def r_multiple(value: Any) -> str:
    """0.3125 → "+0.31 R"; "–" when there is none."""
    if value is None or value == "":
        return "–"
    return f"{float(value):+.2f} R"
