"""The one rule for filling a stop or a target inside a bar, shared by the backtest engine
and the live track record (so a signal's live outcome is judged exactly as its backtest).

Bars give only open, high, low and close, never the order in which high and low came, so
the rule is conservative:

- A bar that reaches both the stop and the target counts as stopped (we assume the worse
  came first).
- A bar that opens beyond the stop (a gap) fills at its open, which is worse than the stop.
- A bar that opens beyond the target fills at the target, not at the better open: no
  windfall is credited that a resting order might not have received.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

STOP, TARGET = "stop", "target"


class Exit(NamedTuple):
    bar: int  # index of the bar the exit happened in
    price: float
    reason: str  # STOP or TARGET


def first_exit(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    *,
    start: int,
    end: int,
    direction: int,
    stop: float,
    target: float,
) -> Exit | None:
    """The first bar in ``[start, end)`` that reaches ``stop`` or ``target`` for a long
    (``direction`` +1) or short (-1) position, with its fill price; None if none does.
    A NaN level is never reached (no stop, or no target)."""
    if end <= start:
        return None
    with np.errstate(invalid="ignore"):
        if direction > 0:
            stop_hit = low[start:end] <= stop
            target_hit = high[start:end] >= target
        else:
            stop_hit = high[start:end] >= stop
            target_hit = low[start:end] <= target
    hit = stop_hit | target_hit
    k = int(hit.argmax())
    if not hit[k]:
        return None
    if stop_hit[k]:
        opened = float(open_[start + k])
        price = min(opened, stop) if direction > 0 else max(opened, stop)
        return Exit(start + k, price, STOP)
    return Exit(start + k, float(target), TARGET)
