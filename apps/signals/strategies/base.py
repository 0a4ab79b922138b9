"""Strategy and parameter definitions (validation, signals, explanations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
BUY, SELL, NONE = 1, -1, 0

SignalFn = Callable[..., pd.Series]
ReadingsFn = Callable[..., str]


@dataclass(frozen=True)
class Param:
    """A tunable parameter: default and inclusive bounds; ``integer`` for periods."""

    name: str
    default: float
    minimum: float
    maximum: float
    integer: bool = True

    def clean(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ValueError(f"{self.name}: must be a number (got {value!r})")
        if not np.isfinite(value):
            raise ValueError(f"{self.name}: must be a finite number (got {value!r})")
        if self.integer and float(value) != int(value):
            raise ValueError(f"{self.name}: must be a whole number (got {value!r})")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(
                f"{self.name}: must be between {self.minimum:g} and {self.maximum:g} "
                f"(got {value!r})"
            )
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Strategy:
    """A named signal function with its parameter schema."""

    key: str
    name: str | Promise
    description: str | Promise
    params: tuple[Param, ...]
    fn: SignalFn
    buy_reason: str | Promise
    sell_reason: str | Promise
    readings: ReadingsFn
    checks: tuple[Callable[[Mapping[str, float]], None], ...] = field(default=())

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def validate(self, **params: Any) -> dict[str, float]:
        """Defaults merged with ``params``; ValueError naming the bad parameter."""
        known = {p.name: p for p in self.params}
        for name in params:
            if name not in known:
                raise ValueError(f"{name}: unknown parameter for strategy {self.key!r}")
        cleaned = {p.name: p.clean(params.get(p.name, p.default)) for p in self.params}
        for check in self.checks:
            check(cleaned)
        return cleaned

    def signals(self, bars: pd.DataFrame, **params: Any) -> pd.Series:
        cleaned = self.validate(**params)
        _check_bars(bars)
        out = self.fn(bars, **cleaned)
        return out.astype(np.int8).rename(self.key)

    def explain(self, bars: pd.DataFrame, index: Any, **params: Any) -> str:
        """Why bar ``index`` (a label of ``bars.index``) did or did not signal, with the
        indicator readings at its close -- computed from bars up to it only."""
        cleaned = self.validate(**params)
        _check_bars(bars)
        upto = bars.iloc[: bars.index.get_loc(index) + 1]
        signal = int(self.fn(upto, **cleaned).iloc[-1])
        template = {BUY: self.buy_reason, SELL: self.sell_reason}.get(signal, _("No signal"))
        return f"{str(template) % cleaned}; {self.readings(upto, **cleaned)}"


def _check_bars(bars: pd.DataFrame) -> None:
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars: missing columns {', '.join(missing)}")
