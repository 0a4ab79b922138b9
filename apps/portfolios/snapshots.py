"""Daily snapshots: each trading day's close of a portfolio, kept so charts and metrics need
no replay of the transactions.

A snapshot values the holdings of the ledger (FIFO replay, `ledger.py`) after every
transaction dated on or before that day (Asia/Kolkata) at the day's 1d candle close — raw
prices, since the ledger's quantities already follow splits and bonuses. A day without a
candle carries the last close forward; an instrument without any close yet is valued at its
last trade price. `net_flow` is the day's money into the holdings, Δ(net_invested + charges):
buys with their charges and fee transactions in, sells net of charges and dividends out
(deposits and withdrawals only move `cash`). Stored rows keep the ledger identity exactly:
realised_pl + unrealised_pl == value − net_invested − charges.

Rebuilds are incremental: from the earliest of `Portfolio.snapshots_stale_from` (set by every
edit), the day after the last snapshot, or an explicit date; rows before it are left as they
are. A rebuild holds the portfolio row lock (`select_for_update(skip_locked=True)`) while it
reads the transactions and writes the rows: transaction edits lock the same row, so an edit
either commits before the rebuild reads or waits for it and then queues its own rebuild; a
rebuild that finds the row locked is skipped for the same reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.market.calendar import CLOSES_AT, is_trading_day, previous_trading_day, trading_days
from apps.market.models import Candle, LatestQuote, Timeframe
from apps.portfolios import metrics
from apps.portfolios.ledger import Entry, Ledger
from apps.portfolios.models import DailySnapshot, Portfolio, Transaction, TransactionKind
from apps.portfolios.selectors import portfolio_entries

IST = ZoneInfo("Asia/Kolkata")
ZERO = Decimal("0")
STEP = Decimal("0.0001")  # the snapshot columns' scale
_BATCH = 1000


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, IST).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=IST)


def last_completed_trading_day(now: datetime | None = None) -> date:
    """Today once the session has closed on a trading day, else the previous trading day."""
    local = timezone.localtime(now or timezone.now(), IST)
    today = local.date()
    if is_trading_day(today) and local.time() >= CLOSES_AT:
        return today
    return previous_trading_day(today)


# --- prices ----------------------------------------------------------------------------


def _closes(
    instrument_ids: Iterable[int], first: date, last: date
) -> tuple[dict[int, Decimal], dict[date, list[tuple[int, Decimal]]]]:
    """The last 1d close before `first` per instrument, and the closes of `first`..`last` by
    day: two queries whatever the range."""
    ids = sorted(set(instrument_ids))
    if not ids:
        return {}, {}
    daily = Candle.objects.filter(instrument_id__in=ids, timeframe=Timeframe.D1)
    before = dict(
        daily.filter(start__lt=_day_start(first))
        .order_by("instrument_id", "-start")
        .distinct("instrument_id")
        .values_list("instrument_id", "close")
    )
    by_day: dict[date, list[tuple[int, Decimal]]] = defaultdict(list)
    # The local day comes from PostgreSQL: parsing 100,000 timestamps and converting each
    # to Asia/Kolkata in Python took two thirds of a five-year rebuild.
    rows = (
        daily.filter(start__gte=_day_start(first), start__lt=_day_start(last + timedelta(days=1)))
        .annotate(day=TruncDate("start", tzinfo=IST))
        .values_list("instrument_id", "day", "close")
    )
    for instrument_id, day, close in rows:
        by_day[day].append((instrument_id, close))
    return before, by_day


# --- rebuild ---------------------------------------------------------------------------


class _Day:
    """Replays entries day by day and values the holdings; quantities are cached
    per instrument and refreshed only for instruments an entry touched."""

    def __init__(self) -> None:
        self.ledger = Ledger(realisations=False)  # only the totals are stored
        self.quantity: dict[int, Decimal] = {}
        self.trade_price: dict[int, Decimal] = {}
        self._touched: set[int] = set()

    def apply(self, entry: Entry) -> None:
        self.ledger.apply(entry)
        if entry.instrument_id is not None:
            self._touched.add(entry.instrument_id)
            if entry.kind in (TransactionKind.BUY, TransactionKind.SELL):
                self.trade_price[entry.instrument_id] = entry.price

    def settle(self) -> None:
        for instrument_id in self._touched:
            position = self.ledger.positions[instrument_id]
            quantity = position.quantity
            if quantity:
                self.quantity[instrument_id] = quantity
            else:
                self.quantity.pop(instrument_id, None)
        self._touched.clear()

    @property
    def invested(self) -> Decimal:
        """Money in the holdings so far: net_invested + charges (flows are its changes)."""
        return self.ledger.net_invested + self.ledger.charges

    def snapshot(
        self, portfolio_id: int, day: date, prices: dict[int, Decimal], flow: Decimal,
        benchmark: Decimal | None, at: datetime,
    ) -> DailySnapshot:  # fmt: skip
        value = ZERO
        for instrument_id, quantity in self.quantity.items():
            price = prices.get(instrument_id)
            if price is None:
                price = self.trade_price.get(instrument_id, ZERO)
            value += quantity * price
        ledger = self.ledger
        value = value.quantize(STEP)
        net_invested = ledger.net_invested.quantize(STEP)
        charges = ledger.charges.quantize(STEP)
        realised = ledger.realised_pl.quantize(STEP)
        return DailySnapshot(
            portfolio_id=portfolio_id,
            date=day,
            value=value,
            cash=ledger.cash.quantize(STEP),
            net_invested=net_invested,
            net_flow=flow.quantize(STEP),
            realised_pl=realised,
            # Derived from the rounded totals so the stored identity is exact.
            unrealised_pl=value - net_invested - charges - realised,
            charges=charges,
            benchmark_close=benchmark,
            computed_at=at,
        )


def _rebuild_start(portfolio: Portfolio, first_day: date, from_date: date | None) -> date:
    last = DailySnapshot.objects.filter(portfolio=portfolio).aggregate(last=Max("date"))["last"]
    candidates = [last + timedelta(days=1) if last else first_day]
    candidates += [d for d in (from_date, portfolio.snapshots_stale_from) if d is not None]
    return max(min(candidates), first_day)


def portfolio_snapshots_rebuild(
    *, portfolio: Portfolio, from_date: date | None = None, until: date | None = None
) -> int | None:
    """Recompute the daily snapshots from the stale date (or `from_date`, or the day after
    the last snapshot, whichever is earliest) up to `until` (default: the last completed
    trading day); clear `snapshots_stale_from`. Returns the number of rows written, or None
    when the portfolio is gone or locked by an edit or another rebuild (see the module doc).
    """
    end = until or last_completed_trading_day()
    with transaction.atomic():
        locked = (
            Portfolio.objects.select_for_update(skip_locked=True)
            .filter(pk=portfolio.pk)
            .only("id", "benchmark_id", "snapshots_stale_from")
            .first()
        )
        if locked is None:
            return None
        stale = locked.snapshots_stale_from
        first = Transaction.objects.filter(portfolio=locked).aggregate(first=Min("executed_at"))
        if first["first"] is None:
            DailySnapshot.objects.filter(portfolio=locked).delete()
            _stale_clear(locked.pk, stale)
            return 0
        first_day = local_date(first["first"])
        start = _rebuild_start(locked, first_day, from_date)
        days = trading_days(start, end) if start <= end else []
        rows = _compute(locked, days) if days else []
        DailySnapshot.objects.filter(
            Q(date__lt=first_day) | Q(date__gte=start), portfolio=locked
        ).delete()
        DailySnapshot.objects.bulk_create(rows, batch_size=_BATCH)
        _stale_clear(locked.pk, stale)
        return len(rows)


def _stale_clear(portfolio_id: int, seen: date | None) -> None:
    # Compare-and-set: an edit that marked an earlier date meanwhile keeps its mark.
    if seen is not None:
        Portfolio.objects.filter(pk=portfolio_id, snapshots_stale_from=seen).update(
            snapshots_stale_from=None
        )


def _compute(portfolio: Portfolio, days: list[date]) -> list[DailySnapshot]:
    entries = portfolio_entries(portfolio_id=portfolio.pk)
    instrument_ids = {e.instrument_id for e in entries if e.instrument_id is not None}
    benchmark_id = portfolio.benchmark_id
    if benchmark_id is not None:
        instrument_ids.add(benchmark_id)
    prices, closes_by_day = _closes(instrument_ids, days[0], days[-1])

    state = _Day()
    cut = previous_trading_day(days[0])
    position = 0
    while position < len(entries) and local_date(entries[position].executed_at) <= cut:
        state.apply(entries[position])
        position += 1
    state.settle()

    at = timezone.now()
    rows: list[DailySnapshot] = []
    for day in days:
        before = state.invested
        while position < len(entries) and local_date(entries[position].executed_at) <= day:
            state.apply(entries[position])
            position += 1
        state.settle()
        for instrument_id, close in closes_by_day.get(day, ()):
            prices[instrument_id] = close
        benchmark = prices.get(benchmark_id) if benchmark_id is not None else None
        rows.append(
            state.snapshot(portfolio.pk, day, prices, state.invested - before, benchmark, at)
        )
    return rows


def portfolio_snapshot_today(*, portfolio: Portfolio) -> DailySnapshot:
    """An unsaved snapshot of the portfolio now, valued at the latest quotes (the last daily
    close where an instrument has none); `net_flow` counts the money in since the last
    stored snapshot. For "today so far" next to the stored history."""
    entries = portfolio_entries(portfolio_id=portfolio.pk)
    state = _Day()
    for entry in entries:
        state.apply(entry)
    state.settle()
    today = timezone.localdate(timezone.now(), IST)
    instrument_ids = set(state.quantity)
    if portfolio.benchmark_id is not None:
        instrument_ids.add(portfolio.benchmark_id)
    prices, closes = _closes(instrument_ids, today, today)
    for instrument_id, close in closes.get(today, ()):
        prices[instrument_id] = close
    prices.update(
        LatestQuote.objects.filter(instrument_id__in=instrument_ids).values_list(
            "instrument_id", "last_price"
        )
    )
    last = (
        DailySnapshot.objects.filter(portfolio=portfolio, date__lt=today)
        .order_by("-date")
        .values_list("net_invested", "charges")
        .first()
    )
    flow = state.invested - (last[0] + last[1] if last else ZERO)
    benchmark = prices.get(portfolio.benchmark_id) if portfolio.benchmark_id else None
    return state.snapshot(portfolio.pk, today, prices, flow, benchmark, timezone.now())


# --- reads -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Performance:
    returns: dict[str, metrics.PeriodReturn]
    risk: metrics.RiskMetrics
    as_of: date | None
    recomputing: bool  # an edit's rebuild is pending: the figures may be out of date


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    date: date
    value: Decimal
    net_invested: Decimal
    benchmark: Decimal | None  # the benchmark rebased to the value at the range's start


def _series(portfolio: Portfolio, since: date | None = None) -> pd.DataFrame:
    rows = DailySnapshot.objects.filter(portfolio=portfolio)
    if since is not None:
        rows = rows.filter(date__gte=since)
    columns = ("date", "value", "net_flow", "net_invested", "benchmark_close")
    frame = pd.DataFrame.from_records(
        list(rows.order_by("date").values_list(*columns)), columns=columns
    )
    return frame.set_index("date")


def portfolio_performance(*, portfolio: Portfolio) -> Performance:
    """Period returns and risk metrics from the stored snapshots (no replay)."""
    frame = _series(portfolio)
    benchmark = frame["benchmark_close"] if portfolio.benchmark_id is not None else None
    return Performance(
        returns=metrics.period_returns(frame["value"], frame["net_flow"]),
        risk=metrics.risk_metrics(
            frame["value"],
            frame["net_flow"],
            benchmark,
            risk_free_rate=float(settings.PORTFOLIO_RISK_FREE_RATE),
        ),
        as_of=frame.index[-1] if len(frame) else None,
        recomputing=portfolio.snapshots_stale_from is not None,
    )


def portfolio_history(*, portfolio: Portfolio, range_: str) -> list[HistoryPoint]:
    """Snapshots of a chart range (`metrics.RANGES`), starting at the observation on or before
    the range's start, with the benchmark rebased to the first point holding a value."""
    rows = list(
        DailySnapshot.objects.filter(portfolio=portfolio)
        .order_by("date")
        .values_list("date", "value", "net_invested", "benchmark_close")
    )
    if not rows:
        return []
    dates = pd.Index([row[0] for row in rows])
    start = metrics.start_observation(dates, range_) or rows[0][0]
    rows = rows[dates.searchsorted(start) :]
    anchor = next(
        ((value, close) for _day, value, _invested, close in rows if value > 0 and close),
        None,
    )
    return [
        HistoryPoint(
            date=day,
            value=value,
            net_invested=invested,
            benchmark=(close * anchor[0] / anchor[1]).quantize(STEP)
            if anchor is not None and close is not None
            else None,
        )
        for day, value, invested, close in rows
    ]
