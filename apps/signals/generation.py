"""Live signals on bar close: every strategy (default parameters) on every active equity.

For each instrument the last ``SIGNALS_HISTORY_BARS`` *closed* bars are loaded (a bar still
forming is never used, see :mod:`apps.signals.clock`), every strategy runs over them, and a
signal is issued for the last closed bar when its event there is +1 or -1:

- +1 is a BUY and -1 a SELL (a short: intraday or F&O, since delivery shares cannot be sold
  short in the Indian cash market) -- unless the same series (instrument, strategy,
  parameters, timeframe) has an open signal of the other side: then the event is an EXIT
  at the close, and the open signal(s) resolve as "exited" there.
- Only the last closed bar is considered: a run that was missed does not back-fill signals
  for older bars (a late signal is not one a trader could have acted on).
- Idempotent: one signal per series and bar (a unique constraint). Each insert runs in its
  own savepoint and a conflict means another run issued it, so a re-run creates nothing
  and reports only the rows it really created.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.market.models import Instrument, InstrumentKind
from apps.signals.bars import bars_load
from apps.signals.clock import closed_bars_end
from apps.signals.evidence import (
    confidence_of,
    evidence_data,
    evidence_get,
    live_params,
    live_record,
    params_key_of,
)
from apps.signals.levels import BarReading, last_bar_reading, levels_from, price_of
from apps.signals.models import Action, Outcome, Signal, StrategyEvidence
from apps.signals.publishing import (
    signals_notify_followers,
    signals_publish_new,
    signals_publish_resolved,
)
from apps.signals.strategies import STRATEGIES
from apps.signals.tracking import bars_after, direction_of, signal_resolve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Event:
    strategy: str
    params: dict[str, float]
    params_key: str
    direction: int  # +1 / -1


def signals_generate(
    *, timeframe: str, now: datetime | None = None, instrument_ids: list[int] | None = None
) -> list[Signal]:
    """Issue the signals of the last closed ``timeframe`` bar of every active equity (or of
    ``instrument_ids``); returns the signals created by this call. After commit each is
    published as `signal.new` and its followers are notified."""
    now = now or timezone.now()
    end = closed_bars_end(now, timeframe)
    instruments = Instrument.objects.filter(active=True, kind=InstrumentKind.EQUITY)
    if instrument_ids is not None:
        instruments = instruments.filter(id__in=instrument_ids)
    created: list[Signal] = []
    for instrument in instruments.select_related("exchange").order_by("id"):
        created.extend(_generate_for(instrument, timeframe, end, now))
    return created


def _events_at_last_bar(bars: pd.DataFrame) -> list[_Event]:
    events: list[_Event] = []
    for key, strategy in STRATEGIES.items():
        params = live_params(key)
        value = int(strategy.signals(bars, **params).iloc[-1])
        if value:
            events.append(_Event(key, params, params_key_of(params), 1 if value > 0 else -1))
    return events


def _explanation(bars: pd.DataFrame, event: _Event, reading: BarReading) -> str:
    text = STRATEGIES[event.strategy].explain(bars, bars.index[-1], **event.params)
    if np.isfinite(reading.vol_ratio):
        text += "; " + _("volume %(ratio)s× average") % {"ratio": f"{reading.vol_ratio:.1f}"}
    return text


def _generate_for(
    instrument: Instrument, timeframe: str, end: datetime, now: datetime
) -> list[Signal]:
    bars = bars_load(
        instrument_id=instrument.pk,
        timeframe=timeframe,
        end=end,
        limit=settings.SIGNALS_HISTORY_BARS,
    )
    if len(bars) < 2:
        return []
    reading = last_bar_reading(bars, atr_period=settings.SIGNALS_ATR_PERIOD)
    if not np.isfinite(reading.atr) or reading.atr <= 0:
        return []  # ATR still warming up: no levels, no signal
    events = _events_at_last_bar(bars)
    if not events:
        return []
    bar_time: datetime = bars.index[-1].to_pydatetime()
    series = Signal.objects.filter(instrument=instrument, timeframe=timeframe)
    issued = set(series.filter(bar_time=bar_time).values_list("strategy", "params_key"))
    events = [e for e in events if (e.strategy, e.params_key) not in issued]
    if not events:
        return []
    opened: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for position in series.filter(
        outcome=Outcome.OPEN,
        action__in=[Action.BUY, Action.SELL],
        strategy__in=[e.strategy for e in events],
    ).order_by("-bar_time", "-id"):
        opened[(position.strategy, position.params_key)].append(position)

    created: list[Signal] = []
    for event in events:
        # Outside the transaction: the evidence may need a backtest (tens of ms).
        evidence = evidence_get(
            instrument_id=instrument.pk, strategy_key=event.strategy, timeframe=timeframe, now=now
        )
        live = live_record(
            instrument_id=instrument.pk,
            strategy_key=event.strategy,
            params_key=event.params_key,
            timeframe=timeframe,
        )
        fields: dict[str, Any] = {
            "instrument": instrument,
            "strategy": event.strategy,
            "params": event.params,
            "params_key": event.params_key,
            "timeframe": timeframe,
            "bar_time": bar_time,
            "strength": reading.strength,
            "evidence": evidence_data(evidence, live),
            "explanation": _explanation(bars, event, reading),
        }
        series_open = opened[(event.strategy, event.params_key)]
        opposite = [s for s in series_open if direction_of(s) == -event.direction]
        try:
            # A savepoint when called inside a transaction: a conflict (another run issued
            # this signal meanwhile) undoes this signal only, and its events with it.
            with transaction.atomic():
                signal, closed = _issue(fields, event, evidence, reading, opposite, bars)
                if signal is None:
                    continue
                signals_publish_new(signals=[signal])
                signals_publish_resolved(signals=closed)
                signals_notify_followers(signals=[signal])
        except IntegrityError:
            logger.info("%s on %s at %s was already issued", event.strategy, instrument, bar_time)
            continue
        created.append(signal)
    return created


def _issue(
    fields: dict[str, Any],
    event: _Event,
    evidence: StrategyEvidence,
    reading: BarReading,
    opposite: list[Signal],
    bars: pd.DataFrame,
) -> tuple[Signal | None, list[Signal]]:
    """Create the signal (EXIT when an opposite one is open) and resolve what it closes."""
    still_open = list(
        Signal.objects.select_for_update()
        .filter(pk__in=[s.pk for s in opposite], outcome=Outcome.OPEN)
        .select_related("instrument__exchange")
        .order_by("-bar_time", "-id")
    )
    if still_open:
        signal = Signal.objects.create(
            **fields,
            action=Action.EXIT,
            entry_price=price_of(reading.close),
            closes=still_open[0],
        )
        for position in still_open:
            first = bars_after(bars.index, position.bar_time)
            changed = signal_resolve(
                position,
                outcome=Outcome.EXITED,
                exit_price=reading.close,
                exit_time=signal.bar_time,
                bars_held=len(bars) - first,
            )
            position.save(update_fields=changed)
        return signal, still_open
    levels = levels_from(
        close=reading.close,
        atr=reading.atr,
        direction=event.direction,
        stop_atr=settings.SIGNALS_STOP_ATR,
        target_r=settings.SIGNALS_TARGET_R,
    )
    if levels is None:
        return None, []
    signal = Signal.objects.create(
        **fields,
        action=Action.BUY if event.direction > 0 else Action.SELL,
        entry_price=levels.entry,
        stop_loss=levels.stop,
        target_price=levels.target,
        risk_reward=levels.risk_reward,
        confidence=confidence_of(evidence),
    )
    return signal, []
