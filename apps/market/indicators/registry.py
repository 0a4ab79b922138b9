"""Name -> indicator specification, with parameter validation for the API."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy.typing as npt

from . import core, custom
from ._arrays import FloatArray
from .errors import IndicatorError

PERIOD_MAX = 1000
Number = int | float


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default and inclusive allowed range."""

    name: str
    kind: type[int] | type[float]
    default: Number
    minimum: Number
    maximum: Number

    def validate(self, value: object) -> Number:
        """Coerce ``value`` (a number, or a numeric string from a query) or raise."""
        number = self._coerce(value)
        if not self.minimum <= number <= self.maximum:
            raise IndicatorError(
                self.name, f"must be between {self.minimum} and {self.maximum}, got {number}"
            )
        return number

    def _coerce(self, value: object) -> Number:
        kind_name = "an integer" if self.kind is int else "a number"
        if isinstance(value, bool):
            raise IndicatorError(self.name, f"must be {kind_name}")
        if isinstance(value, str):
            try:
                value = int(value) if self.kind is int else float(value)
            except ValueError:
                raise IndicatorError(self.name, f"must be {kind_name}") from None
        if self.kind is int:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, int):
                return value
            raise IndicatorError(self.name, f"must be {kind_name}")
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
        raise IndicatorError(self.name, f"must be {kind_name}")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind.__name__,
            "default": self.default,
            "min": self.minimum,
            "max": self.maximum,
        }


@dataclass(frozen=True)
class IndicatorSpec:
    """How to call one indicator: inputs (series keys), parameters, output names."""

    name: str
    label: str
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    outputs: tuple[str, ...]
    func: Callable[..., Any]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for the API's indicator catalogue."""
        return {
            "name": self.name,
            "label": self.label,
            "inputs": list(self.inputs),
            "params": [p.describe() for p in self.params],
            "outputs": list(self.outputs),
        }


def period(default: int, minimum: int = 2, name: str = "period") -> Param:
    return Param(name, int, default, minimum, PERIOD_MAX)


HLC = ("high", "low", "close")
OHLC = ("open", "high", "low", "close")

_SPECS: list[IndicatorSpec] = [
    IndicatorSpec("sma", "Simple moving average", ("close",), (period(20),), ("sma",), core.sma),
    IndicatorSpec(
        "ema", "Exponential moving average", ("close",), (period(20),), ("ema",), core.ema
    ),
    IndicatorSpec("wma", "Weighted moving average", ("close",), (period(20),), ("wma",), core.wma),
    IndicatorSpec(
        "rsi", "Relative strength index (Wilder)", ("close",), (period(14),), ("rsi",), core.rsi
    ),
    IndicatorSpec(
        "macd",
        "MACD",
        ("close",),
        (period(12, name="fast"), period(26, name="slow"), period(9, minimum=1, name="signal")),
        ("macd", "signal", "histogram"),
        core.macd,
    ),
    IndicatorSpec(
        "bollinger",
        "Bollinger bands",
        ("close",),
        (period(20), Param("nbdev", float, 2.0, 0.1, 10.0)),
        ("upper", "middle", "lower"),
        core.bollinger,
    ),
    IndicatorSpec("atr", "Average true range", HLC, (period(14, minimum=1),), ("atr",), core.atr),
    IndicatorSpec(
        "stochastic",
        "Stochastic oscillator",
        HLC,
        (period(14, 1, "fastk_period"), period(3, 1, "slowk_period"), period(3, 1, "slowd_period")),
        ("k", "d"),
        core.stochastic,
    ),
    IndicatorSpec("adx", "Average directional index", HLC, (period(14),), ("adx",), core.adx),
    IndicatorSpec("cci", "Commodity channel index", HLC, (period(20),), ("cci",), core.cci),
    IndicatorSpec(
        "williams_r", "Williams %R", HLC, (period(14),), ("williams_r",), core.williams_r
    ),
    IndicatorSpec("obv", "On-balance volume", ("close", "volume"), (), ("obv",), core.obv),
    IndicatorSpec("mfi", "Money flow index", (*HLC, "volume"), (period(14),), ("mfi",), core.mfi),
    IndicatorSpec(
        "vwap", "Session VWAP (IST day)", (*HLC, "volume", "timestamp"), (), ("vwap",), custom.vwap
    ),
    IndicatorSpec(
        "supertrend",
        "SuperTrend",
        HLC,
        (period(10, minimum=1), Param("multiplier", float, 3.0, 0.1, 20.0)),
        ("supertrend", "direction", "upper", "lower"),
        custom.supertrend,
    ),
    IndicatorSpec(
        "donchian",
        "Donchian channels",
        ("high", "low"),
        (period(20, minimum=1),),
        ("upper", "middle", "lower"),
        custom.donchian,
    ),
]

for _pattern in core.PATTERN_NAMES:
    _SPECS.append(
        IndicatorSpec(
            _pattern.lower(),
            f"Candlestick pattern {_pattern}",
            OHLC,
            tuple(
                Param(key, float, default, 0.0, 1.0)
                for key, default in core.pattern_params(_pattern).items()
            ),
            ("signal",),
            partial(core.pattern, _pattern),
        )
    )

INDICATORS: Mapping[str, IndicatorSpec] = {spec.name: spec for spec in _SPECS}
"""Every indicator callable through :func:`compute`, by name."""


def validate_params(name: str, params: Mapping[str, object]) -> dict[str, Number]:
    """Return the full, validated parameter set (defaults filled in) for ``name``."""
    spec = get_spec(name)
    known = {p.name: p for p in spec.params}
    for key in params:
        if key not in known:
            raise IndicatorError(key, f"unknown parameter for {name}")
    return {p.name: p.validate(params.get(p.name, p.default)) for p in spec.params}


def get_spec(name: str) -> IndicatorSpec:
    try:
        return INDICATORS[name]
    except KeyError:
        raise IndicatorError("indicator", f"unknown indicator {name!r}") from None


def compute(
    name: str, series: Mapping[str, npt.ArrayLike], **params: object
) -> dict[str, FloatArray]:
    """Compute indicator ``name`` from ``series`` (keys as in ``spec.inputs``).

    Raises :class:`IndicatorError` naming the indicator, input or parameter at fault.
    """
    spec = get_spec(name)
    values = validate_params(name, params)
    missing = [key for key in spec.inputs if key not in series]
    if missing:
        raise IndicatorError(missing[0], f"input series required by {name}")
    result = spec.func(*(series[key] for key in spec.inputs), **values)
    arrays = result if isinstance(result, tuple) else (result,)
    return dict(zip(spec.outputs, arrays, strict=True))
