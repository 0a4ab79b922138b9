"""The evidence behind a signal's confidence: the strategy's backtested record on the same
instrument and timeframe (cached in `StrategyEvidence`), and its live record (the resolved
signals it has already issued there).

Confidence = (wins + 1) / (trades + 2): the backtested hit rate with Laplace's rule of
succession, so that 3 wins in 3 trades reads 0.8, not a certain 1.0. It is given only from
``SIGNALS_MIN_EVIDENCE_TRADES`` backtested trades on; below that a signal has no confidence
and its evidence says there is too little of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.market.models import Instrument, InstrumentKind
from apps.signals.bars import bars_load
from apps.signals.clock import closed_bars_end
from apps.signals.models import Action, Outcome, Signal, StrategyEvidence
from apps.signals.strategies import STRATEGIES, strategy_get


def params_key_of(params: dict[str, float]) -> str:
    """Canonical text of a parameter set: ``name=value`` sorted by name, values ``:g``."""
    return ",".join(f"{name}={params[name]:g}" for name in sorted(params))


def live_params(strategy_key: str) -> dict[str, float]:
    """The parameters live signals use: the strategy's defaults, cleaned (ints stay ints)."""
    return strategy_get(strategy_key).validate()


def _closed_bars(instrument_id: int, timeframe: str, now: datetime) -> pd.DataFrame:
    return bars_load(
        instrument_id=instrument_id,
        timeframe=timeframe,
        end=closed_bars_end(now, timeframe),
        limit=settings.SIGNALS_EVIDENCE_BARS,
    )


def evidence_refresh(
    *, instrument_id: int, strategy_key: str, timeframe: str, now: datetime | None = None
) -> StrategyEvidence:
    """Backtest the strategy (default parameters, long and short, the live stop/target rule)
    over the stored closed bars of the instrument and store the record."""
    now = now or timezone.now()
    bars = _closed_bars(instrument_id, timeframe, now)
    return _evidence_store(instrument_id, strategy_key, timeframe, bars, now)


def _evidence_store(
    instrument_id: int, strategy_key: str, timeframe: str, bars: pd.DataFrame, now: datetime
) -> StrategyEvidence:
    from apps.signals.backtest import BacktestConfig, backtest

    strategy = strategy_get(strategy_key)
    params = live_params(strategy_key)
    trades, wins = 0, 0
    hit_rate: float | None = None
    avg_r: float | None = None
    if len(bars) > 1:
        config = BacktestConfig(
            direction="both",
            stop_atr=settings.SIGNALS_STOP_ATR,
            target_r=settings.SIGNALS_TARGET_R,
            atr_period=settings.SIGNALS_ATR_PERIOD,
        )
        frame = backtest(bars, strategy.signals(bars, **params), config).trades
        trades = len(frame)
        if trades:
            wins = int((frame["pnl"].to_numpy(dtype=np.float64) > 0).sum())
            hit_rate = wins / trades
            r = frame["r_multiple"].to_numpy(dtype=np.float64)
            r = r[np.isfinite(r)]
            avg_r = round(float(r.mean()), 4) if len(r) else None
    evidence, _created = StrategyEvidence.objects.update_or_create(
        instrument_id=instrument_id,
        strategy=strategy_key,
        params_key=params_key_of(params),
        timeframe=timeframe,
        defaults={
            "trades": trades,
            "wins": wins,
            "hit_rate": hit_rate,
            "avg_r": avg_r,
            "period_start": bars.index[0].to_pydatetime() if len(bars) else None,
            "period_end": bars.index[-1].to_pydatetime() if len(bars) else None,
            "computed_at": now,
        },
    )
    return evidence


def evidence_get(
    *, instrument_id: int, strategy_key: str, timeframe: str, now: datetime | None = None
) -> StrategyEvidence:
    """The stored evidence, recomputed first when missing or older than
    ``SIGNALS_EVIDENCE_MAX_AGE_HOURS``."""
    now = now or timezone.now()
    found = StrategyEvidence.objects.filter(
        instrument_id=instrument_id,
        strategy=strategy_key,
        params_key=params_key_of(live_params(strategy_key)),
        timeframe=timeframe,
    ).first()
    max_age = timedelta(hours=settings.SIGNALS_EVIDENCE_MAX_AGE_HOURS)
    if found is not None and now - found.computed_at < max_age:
        return found
    return evidence_refresh(
        instrument_id=instrument_id, strategy_key=strategy_key, timeframe=timeframe, now=now
    )


def confidence_of(evidence: StrategyEvidence) -> float | None:
    """Laplace-smoothed backtested hit rate; None below the minimum number of trades."""
    if evidence.trades < settings.SIGNALS_MIN_EVIDENCE_TRADES:
        return None
    return round((evidence.wins + 1) / (evidence.trades + 2), 4)


def live_record(
    *, instrument_id: int, strategy_key: str, params_key: str, timeframe: str
) -> dict[str, Any]:
    """Resolved live BUY/SELL signals of this series: count, wins (R > 0), hit rate, avg R."""
    row = (
        Signal.objects.filter(
            instrument_id=instrument_id,
            strategy=strategy_key,
            params_key=params_key,
            timeframe=timeframe,
            action__in=[Action.BUY, Action.SELL],
        )
        .exclude(outcome=Outcome.OPEN)
        .aggregate(
            resolved=Count("id"),
            wins=Count("id", filter=Q(r_multiple__gt=0)),
            avg_r=Avg("r_multiple"),
        )
    )
    resolved, wins = int(row["resolved"]), int(row["wins"])
    return {
        "resolved": resolved,
        "wins": wins,
        "hit_rate": round(wins / resolved, 4) if resolved else None,
        "avg_r": round(float(row["avg_r"]), 4) if row["avg_r"] is not None else None,
    }


def evidence_data(evidence: StrategyEvidence, live: dict[str, Any]) -> dict[str, Any]:
    """The ``evidence`` JSON stored on a signal (and sent in its payload)."""
    enough = evidence.trades >= settings.SIGNALS_MIN_EVIDENCE_TRADES
    data: dict[str, Any] = {
        "backtest": {
            "trades": evidence.trades,
            "wins": evidence.wins,
            "hit_rate": round(evidence.hit_rate, 4) if evidence.hit_rate is not None else None,
            "avg_r": evidence.avg_r,
            "from": evidence.period_start.isoformat() if evidence.period_start else None,
            "to": evidence.period_end.isoformat() if evidence.period_end else None,
        },
        "live": live,
        "sufficient": enough,
    }
    if not enough:
        data["note"] = _(
            "Too little evidence: %(trades)d backtested trades (at least %(needed)d needed)."
        ) % {"trades": evidence.trades, "needed": settings.SIGNALS_MIN_EVIDENCE_TRADES}
    return data


def evidence_refresh_all(*, now: datetime | None = None) -> int:
    """Recompute the evidence of every strategy on every active equity for every live
    timeframe (the nightly job); returns how many records were written."""
    now = now or timezone.now()
    ids = Instrument.objects.filter(active=True, kind=InstrumentKind.EQUITY).values_list(
        "id", flat=True
    )
    count = 0
    for instrument_id in ids:
        for timeframe in settings.SIGNALS_TIMEFRAMES:
            bars = _closed_bars(instrument_id, timeframe, now)  # one read for every strategy
            for key in STRATEGIES:
                _evidence_store(instrument_id, key, timeframe, bars, now)
                count += 1
    return count
