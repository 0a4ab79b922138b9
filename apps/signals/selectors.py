"""Reads of signals, follows and the strategies' backtest vs live records.

Signals are market-wide (every signed-in user sees all of them); follows are private to
their owner. Records are SQL aggregates (one GROUP BY per source), combined per group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from apps.accounts.models import User
from apps.market.models import Instrument
from apps.market.selectors import instrument_get
from apps.signals.models import Action, Outcome, Signal, SignalFollow, StrategyEvidence

# Live records only count directional signals that have been followed to an outcome.
_DIRECTIONAL = Q(action__in=[Action.BUY, Action.SELL])
_RESOLVED = Q(outcome__in=[Outcome.TARGET, Outcome.STOP, Outcome.EXPIRED, Outcome.EXITED])


def drift_min_live() -> int:
    return int(getattr(settings, "SIGNALS_DRIFT_MIN_LIVE", 10))


def drift_threshold() -> float:
    return float(getattr(settings, "SIGNALS_DRIFT_THRESHOLD", 0.15))


# --- signals ---------------------------------------------------------------------------


def signal_list(
    *,
    instrument: Instrument | None = None,
    strategy: str = "",
    timeframe: str = "",
    action: str = "",
    outcome: str = "",
) -> QuerySet[Signal]:
    """Signals newest first, each annotated with `exit_signal_id` (the EXIT closing it)."""
    exits = Signal.objects.filter(closes=OuterRef("pk"), action=Action.EXIT).order_by("bar_time")
    signals = Signal.objects.select_related("instrument__exchange").annotate(
        exit_signal_id=Subquery(exits.values("pk")[:1])
    )
    if instrument is not None:
        signals = signals.filter(instrument=instrument)
    if strategy:
        signals = signals.filter(strategy=strategy)
    if timeframe:
        signals = signals.filter(timeframe=timeframe)
    if action:
        signals = signals.filter(action=action)
    if outcome:
        signals = signals.filter(outcome=outcome)
    return signals.order_by("-bar_time", "-id")


def signal_get(*, signal_id: int) -> Signal | None:
    return signal_list().filter(pk=signal_id).first()


# --- follows ---------------------------------------------------------------------------


def follow_list(*, user: User) -> QuerySet[SignalFollow]:
    return (
        SignalFollow.objects.filter(user=user)
        .select_related("instrument__exchange")
        .order_by("-created_at", "-id")
    )


def follow_get(*, user: User, follow_id: int) -> SignalFollow | None:
    """The user's follow, or None for a missing id and for another user's follow alike."""
    return follow_list(user=user).filter(pk=follow_id).first()


def follow_find(
    *, user: User, strategy: str = "", instrument: Instrument | None = None, timeframe: str = ""
) -> SignalFollow | None:
    """The user's follow of exactly this strategy or instrument (and timeframe), if any."""
    if instrument is not None:
        follows = SignalFollow.objects.filter(user=user, kind="instrument", instrument=instrument)
    else:
        follows = SignalFollow.objects.filter(user=user, kind="strategy", strategy=strategy)
    return follows.filter(timeframe=timeframe).first()


# --- records ---------------------------------------------------------------------------


@dataclass
class Record:
    """Backtested vs live record of one group (a timeframe, or an instrument × timeframe)."""

    timeframe: str
    bt_trades: int = 0
    bt_wins: int = 0
    bt_avg_r: float | None = None
    live_resolved: int = 0
    live_wins: int = 0
    live_avg_r: float | None = None
    live_open: int = 0
    period_start: datetime | None = None
    period_end: datetime | None = None
    instrument: Instrument | None = field(default=None, repr=False)

    @property
    def bt_hit_rate(self) -> float | None:
        return self.bt_wins / self.bt_trades if self.bt_trades else None

    @property
    def live_hit_rate(self) -> float | None:
        return self.live_wins / self.live_resolved if self.live_resolved else None

    @property
    def drift(self) -> bool:
        """Live has enough resolved signals and its hit rate is far from the backtest's."""
        live, backtest = self.live_hit_rate, self.bt_hit_rate
        if live is None or backtest is None or self.live_resolved < drift_min_live():
            return False
        # A tiny epsilon: 0.45 - 0.30 is 0.1499999… in floating point.
        return abs(live - backtest) >= drift_threshold() - 1e-9

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "timeframe": self.timeframe,
            "backtest": {
                "trades": self.bt_trades,
                "wins": self.bt_wins,
                "hit_rate": self.bt_hit_rate,
                "avg_r": self.bt_avg_r,
                "period_start": self.period_start,
                "period_end": self.period_end,
            },
            "live": {
                "resolved": self.live_resolved,
                "wins": self.live_wins,
                "hit_rate": self.live_hit_rate,
                "avg_r": self.live_avg_r,
                "open": self.live_open,
            },
            "drift": self.drift,
        }
        if self.instrument is not None:
            out["symbol"] = self.instrument.symbol
            out["exchange"] = self.instrument.exchange.code
        return out


def _backtest_rows(keys: Iterable[str], **where: Any) -> QuerySet[Any]:
    evidence = StrategyEvidence.objects.filter(**where)
    # Trade-weighted average R: Σ(trades × avg_r) / Σ(trades of rows that have an avg_r).
    weighted = ExpressionWrapper(F("trades") * F("avg_r"), output_field=FloatField())
    return (
        evidence.values(*keys)
        .order_by()
        .annotate(
            trades_sum=Sum("trades"),
            wins_sum=Sum("wins"),
            weighted_r=Sum(weighted, filter=Q(avg_r__isnull=False)),
            r_trades=Sum("trades", filter=Q(avg_r__isnull=False)),
            first=Min("period_start"),
            last=Max("period_end"),
        )
    )


def _live_rows(keys: Iterable[str], **where: Any) -> QuerySet[Any]:
    signals = Signal.objects.filter(_DIRECTIONAL, **where)
    return (
        signals.values(*keys)
        .order_by()
        .annotate(
            resolved=Count("pk", filter=_RESOLVED),
            wins=Count("pk", filter=_RESOLVED & Q(r_multiple__gt=0)),
            avg_r=Avg("r_multiple", filter=_RESOLVED),
            open=Count("pk", filter=Q(outcome=Outcome.OPEN)),
        )
    )


def _merge(
    records: dict[Any, Record], backtest: QuerySet[Any], live: QuerySet[Any], key: Any
) -> None:
    for row in backtest:
        record = records.setdefault(key(row), Record(timeframe=row["timeframe"]))
        record.bt_trades = int(row["trades_sum"] or 0)
        record.bt_wins = int(row["wins_sum"] or 0)
        if row["r_trades"]:
            record.bt_avg_r = float(row["weighted_r"]) / int(row["r_trades"])
        record.period_start, record.period_end = row["first"], row["last"]
    for row in live:
        record = records.setdefault(key(row), Record(timeframe=row["timeframe"]))
        record.live_resolved = int(row["resolved"])
        record.live_wins = int(row["wins"])
        record.live_avg_r = float(row["avg_r"]) if row["avg_r"] is not None else None
        record.live_open = int(row["open"])


def strategy_records(*, strategy: str | None = None) -> dict[str, list[Record]]:
    """Per strategy key: its records per timeframe (only timeframes with any data)."""
    keys = ("strategy", "timeframe")
    where = {} if strategy is None else {"strategy": strategy}
    records: dict[tuple[str, str], Record] = {}
    _merge(
        records,
        _backtest_rows(keys, **where),
        _live_rows(keys, **where),
        lambda row: (row["strategy"], row["timeframe"]),
    )
    out: dict[str, list[Record]] = {}
    for (key, _timeframe), record in sorted(records.items()):
        out.setdefault(key, []).append(record)
    return out


def strategy_instrument_records(*, strategy: str, **where: Any) -> list[Record]:
    """The strategy's records per instrument and timeframe, by symbol then timeframe
    (`where` narrows both sources further, e.g. to one instrument)."""
    keys = ("instrument_id", "timeframe")
    records: dict[tuple[int, str], Record] = {}
    _merge(
        records,
        _backtest_rows(keys, strategy=strategy, **where),
        _live_rows(keys, strategy=strategy, **where),
        lambda row: (row["instrument_id"], row["timeframe"]),
    )
    instruments = Instrument.objects.select_related("exchange").in_bulk(
        {instrument_id for instrument_id, _timeframe in records}
    )
    for (instrument_id, _timeframe), record in records.items():
        record.instrument = instruments[instrument_id]
    return sorted(
        records.values(),
        key=lambda r: (r.instrument.symbol if r.instrument else "", r.timeframe),
    )


def signal_record(*, signal: Signal) -> Record | None:
    """The record of the signal's strategy on its instrument and timeframe."""
    found = strategy_instrument_records(
        strategy=signal.strategy, instrument_id=signal.instrument_id, timeframe=signal.timeframe
    )
    return found[0] if found else None


def instrument_by_symbol(*, text: str) -> Instrument | None:
    """`RELIANCE` (NSE first) or `BSE:RELIANCE`, any case; None when unknown."""
    exchange, _sep, symbol = text.strip().rpartition(":")
    if not symbol:
        return None
    return instrument_get(symbol=symbol, exchange=exchange)
