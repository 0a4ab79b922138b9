"""Validating a backtest request (REST body or form) into the stored request."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.market.models import Instrument, InstrumentKind
from apps.portfolios.serializers import instrument_from_symbol
from apps.signals.models import RunKind
from apps.signals.run_serializers import BacktestRunInputSerializer
from apps.signals.strategies import STRATEGIES, Strategy

MAX_COMBOS = 500
PORTFOLIO_MIN, PORTFOLIO_MAX = 2, 50
DEFAULT_WINDOWS, DEFAULT_IN_SAMPLE = 4, 0.7
_NIFTY50_CSV = Path(__file__).resolve().parents[2] / "market" / "seed" / "nifty50.csv"


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --- validation -------------------------------------------------------------------------------


def _strategy_error(prefix: str, error: ValueError) -> ValidationError:
    """`Strategy.validate` says "fast: must be ..."; key it as `params.fast`."""
    name, sep, message = str(error).partition(": ")
    if not sep:
        return _field_error(prefix, str(error))
    return _field_error(f"{prefix}.{name}", message)


def _params_clean(strategy: Strategy, params: Mapping[str, Any]) -> dict[str, float]:
    try:
        return strategy.validate(**params)
    except ValueError as error:
        raise _strategy_error("params", error) from None


def _grid_clean(strategy: Strategy, grid: Mapping[str, list[Any]]) -> dict[str, list[float]]:
    """Each listed value within its parameter's bounds; parameters not listed keep their
    default; at most MAX_COMBOS combinations, at least one passing the strategy's checks."""
    if not grid:
        raise _field_error("grid", _("A sweep needs at least one parameter with values to try."))
    known = {p.name: p for p in strategy.params}
    clean: dict[str, list[float]] = {}
    for name, values in grid.items():
        param = known.get(name)
        if param is None:
            raise _field_error(
                f"grid.{name}", _("Unknown parameter for this strategy: %(n)s.") % {"n": name}
            )
        try:
            clean[name] = list(dict.fromkeys(param.clean(v) for v in values))
        except ValueError as error:
            raise _strategy_error("grid", error) from None
    combos = math.prod(len(v) for v in clean.values())
    if combos > MAX_COMBOS:
        raise _field_error(
            "grid",
            _("%(n)d combinations: at most %(max)d are allowed.")
            % {"n": combos, "max": MAX_COMBOS},
        )
    names = list(clean)
    valid = 0
    for combo in itertools.product(*clean.values()):
        try:
            strategy.validate(**dict(zip(names, combo, strict=True)))
            valid += 1
        except ValueError:
            continue
    if not valid:
        raise _field_error("grid", _("No combination of these values is valid for the strategy."))
    return clean


def universe_instruments(universe: str) -> list[Instrument]:
    """The constituents of `universe`. Only "NIFTY 50" exists: its members are the NSE
    equities seeded from apps/market/seed/nifty50.csv (no index-membership table yet)."""
    with _NIFTY50_CSV.open(encoding="utf-8") as handle:
        symbols = [row["symbol"].upper() for row in csv.DictReader(handle)]
    return list(
        Instrument.objects.filter(
            exchange__code="NSE", symbol__in=symbols, kind=InstrumentKind.EQUITY, active=True
        )
        .select_related("exchange")
        .order_by("symbol")
    )


def _instruments_clean(data: Mapping[str, Any]) -> list[Instrument]:
    kind, universe = data["kind"], data.get("universe") or ""
    symbols: list[str] = data.get("instruments") or []
    if universe:
        if kind != RunKind.PORTFOLIO:
            raise _field_error("universe", _("A universe is for portfolio backtests only."))
        if symbols:
            raise _field_error("instruments", _("Give either instruments or a universe."))
        found = universe_instruments(universe)
        if len(found) < PORTFOLIO_MIN:
            raise _field_error("universe", _("This universe has no instruments yet."))
        return found
    instruments: list[Instrument] = []
    for index, symbol in enumerate(symbols):
        instrument = instrument_from_symbol(symbol) if symbol.strip() else None
        if instrument is None:
            raise _field_error(
                f"instruments.{index}",
                _("Unknown symbol “%(s)s”. Use an NSE symbol such as RELIANCE, or EXCHANGE:SYMBOL.")
                % {"s": symbol.strip()[:50]},
            )
        if instrument not in instruments:
            instruments.append(instrument)
    if kind == RunKind.PORTFOLIO:
        if not PORTFOLIO_MIN <= len(instruments) <= PORTFOLIO_MAX:
            raise _field_error(
                "instruments",
                _("A portfolio backtest needs %(min)d to %(max)d different instruments.")
                % {"min": PORTFOLIO_MIN, "max": PORTFOLIO_MAX},
            )
    elif len(instruments) != 1:
        raise _field_error("instruments", _("Choose exactly one instrument."))
    return instruments


def _jsonable_config(config: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in config.items()}
    if "charges" in out:
        out["charges"] = dict(out["charges"])
    return out


def backtest_request_clean(*, data: Any) -> tuple[dict[str, Any], list[Instrument]]:
    """The validated run request (as stored in `BacktestRun.request`, plus kind, strategy,
    timeframe and name) and its instruments; ValidationError keyed by field otherwise."""
    serializer = BacktestRunInputSerializer(data=data if isinstance(data, dict) else {})
    if not serializer.is_valid():
        raise ValidationError(
            {name: [str(m) for m in _messages(errors)] for name, errors in _flat(serializer.errors)}
        )
    values: dict[str, Any] = dict(serializer.validated_data)
    strategy = STRATEGIES[values["strategy"]]
    request: dict[str, Any] = {}
    if values["kind"] == RunKind.SWEEP:
        if values.get("params"):
            raise _field_error("params", _("A sweep takes a grid, not params."))
        request["grid"] = _grid_clean(strategy, values.get("grid") or {})
        request["windows"] = values.get("windows", DEFAULT_WINDOWS)
        request["in_sample"] = values.get("in_sample", DEFAULT_IN_SAMPLE)
    else:
        if values.get("grid"):
            raise _field_error("grid", _("Only a sweep takes a grid."))
        request["params"] = _params_clean(strategy, values.get("params") or {})
    instruments = _instruments_clean(values)
    request["universe"] = values.get("universe") or ""
    request["start"] = values["start"].isoformat() if values.get("start") else None
    request["end"] = values["end"].isoformat() if values.get("end") else None
    request["config"] = _jsonable_config(values.get("config") or {})
    request.update(
        kind=values["kind"],
        strategy=values["strategy"],
        timeframe=values["timeframe"],
        name=values.get("name", "").strip(),
    )
    return request, instruments


def _flat(errors: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """DRF's nested errors as (`config.charges.stt_rate`, messages) pairs."""
    if isinstance(errors, dict):
        pairs: list[tuple[str, Any]] = []
        for name, value in errors.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            pairs.extend(_flat(value, key))
        return pairs
    if isinstance(errors, list) and errors and isinstance(errors[0], dict | list):
        # A list field's per-item errors: {index: [...]} or [[...], {}, ...].
        pairs = []
        for index, value in enumerate(errors):
            if value:
                pairs.extend(_flat(value, f"{prefix}.{index}"))
        return pairs
    return [(prefix or "non_field_errors", errors)]


def _messages(errors: Any) -> list[Any]:
    return errors if isinstance(errors, list) else [errors]


# --- services ---------------------------------------------------------------------------------
