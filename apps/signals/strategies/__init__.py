"""The strategy library: pure, vectorised functions of closed bars.

A strategy maps a bar DataFrame (index = bar time; float columns open, high, low,
close, volume) to a Series aligned to it: +1 (BUY / enter long), -1 (SELL / exit
long or enter short), 0 (nothing).  The value at bar ``t`` depends only on bars
``<= t`` -- the same function runs in backtests and live, so there is no second
implementation to drift.  :func:`lookahead_check` proves that for any function.

Signals are events, not positions: a crossover fires once, on the bar where it
happens, and a strategy does not know whether a position is open.
"""

from .base import BAR_COLUMNS, BUY, NONE, SELL, Param, Strategy
from .lookahead import LookaheadError, lookahead_check
from .registry import STRATEGIES, strategy_get

__all__ = [
    "BAR_COLUMNS",
    "BUY",
    "NONE",
    "SELL",
    "STRATEGIES",
    "LookaheadError",
    "Param",
    "Strategy",
    "lookahead_check",
    "strategy_get",
]
