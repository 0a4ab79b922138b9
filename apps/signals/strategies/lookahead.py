"""Proof that a signal function decides each bar from that bar and earlier ones only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .base import SignalFn


class LookaheadError(AssertionError):
    """A signal function's output on a bar changed once later bars were added."""


def lookahead_check(
    strategy_fn: SignalFn,
    bars: pd.DataFrame,
    *,
    checkpoints: Iterable[int] | None = None,
    **params: Any,
) -> None:
    """Raise :class:`LookaheadError` unless signals on ``bars[:k]`` equal the first
    ``k`` signals on all of ``bars`` for every ``k`` in ``checkpoints``.

    A function that peeks at bar ``t+1`` decides bar ``t`` differently when ``t`` is
    the last bar of the prefix, so this catches it.  ``checkpoints`` defaults to
    every prefix length, capped at ~200 evenly spread for long inputs.
    """
    n = len(bars)
    full = np.asarray(strategy_fn(bars, **params))
    if len(full) != n:
        raise LookaheadError(f"output has {len(full)} values for {n} bars")
    if checkpoints is None:
        checkpoints = np.unique(np.linspace(1, n, num=min(n, 200), dtype=int)).tolist()
    for k in checkpoints:
        part = np.asarray(strategy_fn(bars.iloc[:k], **params))
        diff = np.flatnonzero(part != full[:k])
        if diff.size:
            i = int(diff[0])
            raise LookaheadError(
                f"bar {i} ({bars.index[i]}) is {part[i]} with {k} bars but {full[i]} with {n}: "
                "the signal depends on later bars"
            )
