"""The live track record: each open BUY/SELL is followed on the bars after its signal bar
until it reaches its target or its stop (the backtest's own fill rule,
:func:`apps.signals.backtest.fills.first_exit`), or expires after ``SIGNALS_EXPIRY_BARS``
bars at the close of the last of them.

One bars query per instrument: the open signals of an instrument are tracked together,
on its closed bars from the oldest open signal bar on (an open signal is at most
``SIGNALS_EXPIRY_BARS`` bars old, so that is a short read). ``checked_until`` records the
last bar looked at, so each run only judges newer bars.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.signals.backtest.fills import first_exit
from apps.signals.bars import bars_load
from apps.signals.clock import IST, closed_bars_end
from apps.signals.models import Action, Outcome, Signal
from apps.signals.publishing import signals_publish_resolved

R_PLACES = Decimal("0.0001")
PRICE_PLACES = Decimal("0.0001")


def direction_of(signal: Signal) -> int:
    return 1 if signal.action == Action.BUY else -1


def signal_resolve(
    signal: Signal, *, outcome: str, exit_price: float, exit_time: datetime, bars_held: int
) -> list[str]:
    """Set the outcome fields of ``signal`` (not saved); returns the fields changed.

    R multiple = direction x (exit - entry) / |entry - stop|: the result in units of the
    risk taken. Days held = calendar days between the signal bar and the exit bar (IST).
    """
    price = Decimal(f"{exit_price:.4f}").quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    risk = abs(signal.entry_price - signal.stop_loss) if signal.stop_loss is not None else None
    signal.outcome = outcome
    signal.exit_price = price
    signal.resolved_at = exit_time
    signal.bars_held = bars_held
    signal.days_held = (
        exit_time.astimezone(IST).date() - signal.bar_time.astimezone(IST).date()
    ).days
    signal.checked_until = exit_time
    signal.r_multiple = (
        (direction_of(signal) * (price - signal.entry_price) / risk).quantize(
            R_PLACES, rounding=ROUND_HALF_UP
        )
        if risk
        else None
    )
    return [
        "outcome",
        "exit_price",
        "resolved_at",
        "bars_held",
        "days_held",
        "checked_until",
        "r_multiple",
    ]


def signals_track(*, timeframe: str, now: datetime | None = None) -> int:
    """Judge the open BUY/SELL signals of ``timeframe`` on the bars closed since they were
    last checked; store outcomes, publish `signal.resolved`. Returns how many resolved."""
    now = now or timezone.now()
    end = closed_bars_end(now, timeframe)
    expiry = settings.SIGNALS_EXPIRY_BARS
    by_instrument: dict[int, list[Signal]] = defaultdict(list)
    for signal in Signal.objects.filter(
        timeframe=timeframe, outcome=Outcome.OPEN, action__in=[Action.BUY, Action.SELL]
    ).select_related("instrument__exchange"):
        by_instrument[signal.instrument_id].append(signal)

    resolved: list[Signal] = []
    advanced: list[Signal] = []
    for instrument_id, signals in by_instrument.items():
        bars = bars_load(
            instrument_id=instrument_id,
            timeframe=timeframe,
            start=min(s.bar_time for s in signals),
            end=end,
        )
        if not len(bars):
            continue
        starts = bars.index.to_pydatetime()
        open_ = bars["open"].to_numpy(dtype=np.float64)
        high = bars["high"].to_numpy(dtype=np.float64)
        low = bars["low"].to_numpy(dtype=np.float64)
        close = bars["close"].to_numpy(dtype=np.float64)
        for signal in signals:
            first = bars_after(bars.index, signal.bar_time)
            begin = max(first, bars_after(bars.index, signal.checked_until or signal.bar_time))
            stop_at = min(len(bars), first + expiry)
            if begin >= stop_at:
                continue  # nothing new (or nothing left before expiry)
            if signal.stop_loss is None or signal.target_price is None:
                continue  # not made by signals_generate; nothing to judge it by
            hit = first_exit(
                open_,
                high,
                low,
                start=begin,
                end=stop_at,
                direction=direction_of(signal),
                stop=float(signal.stop_loss),
                target=float(signal.target_price),
            )
            if hit is not None:
                signal_resolve(
                    signal,
                    outcome=hit.reason,  # "stop" / "target" are Outcome values
                    exit_price=hit.price,
                    exit_time=starts[hit.bar],
                    bars_held=hit.bar - first + 1,
                )
                resolved.append(signal)
            elif stop_at == first + expiry:
                last = stop_at - 1
                signal_resolve(
                    signal,
                    outcome=Outcome.EXPIRED,
                    exit_price=float(close[last]),
                    exit_time=starts[last],
                    bars_held=expiry,
                )
                resolved.append(signal)
            else:
                signal.checked_until = starts[stop_at - 1]
                advanced.append(signal)

    with transaction.atomic():
        Signal.objects.bulk_update(advanced, ["checked_until"])
        done: list[Signal] = []
        for signal in resolved:
            # Claimed one by one: an EXIT signal may have resolved it since we read it.
            changed = Signal.objects.filter(pk=signal.pk, outcome=Outcome.OPEN).update(
                outcome=signal.outcome,
                exit_price=signal.exit_price,
                resolved_at=signal.resolved_at,
                bars_held=signal.bars_held,
                days_held=signal.days_held,
                checked_until=signal.checked_until,
                r_multiple=signal.r_multiple,
            )
            if changed:
                done.append(signal)
        signals_publish_resolved(signals=done)
    return len(done)


def bars_after(index: pd.DatetimeIndex, at: datetime) -> int:
    """Position of the first bar of ``index`` (sorted) that starts after ``at``."""
    return int(index.searchsorted(pd.Timestamp(at), side="right"))
