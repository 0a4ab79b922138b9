"""`quotes_ingest`: the one entry point every price tick goes through.

It stores the latest quotes (PostgreSQL + Redis) and folds the ticks into 1-minute candles
and every roll-up timeframe, in one transaction. Features that react to ticks (streaming,
alerts, portfolios) register a listener with `tick_listener`; listeners run after commit,
with the batch, and a failing listener never blocks the others or the ingest.
An *early* listener (the alert engine's stream) runs inside the ingest instead, as soon as
the batch's latest-quote rows are locked, so it does not wait for the candle writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.db import transaction

from apps.market.candle_store import (
    PRICE_UNITS,
    ROLLUP_TIMEFRAMES,
    WriteMode,
    bucket_starts,
    candles_write_units,
)
from apps.market.models import DataSource, Instrument, LatestQuote
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_put

logger = logging.getLogger(__name__)

TickListener = Callable[[Sequence[Quote]], None]
_listeners: dict[str, TickListener] = {}
_early_listeners: dict[str, TickListener] = {}


def tick_listener(name: str, *, early: bool = False) -> Callable[[TickListener], TickListener]:
    """Decorator: call `fn(batch)` after each committed ingest. Re-registering replaces.

    `early=True`: call it inside the ingest's transaction instead, once the batch's
    `LatestQuote` rows are locked and before the candles and roll-ups are written (about
    20 ms for 50 ticks). For consumers that need the prices only and must not wait for the
    candles: the alert engine. The row locks order concurrent ingests of the same
    instruments, so early listeners see their batches in the order they commit; an ingest
    that rolls back afterwards has still been seen.
    """

    def register(fn: TickListener) -> TickListener:
        tick_listener_remove(name)
        (_early_listeners if early else _listeners)[name] = fn
        return fn

    return register


def tick_listener_remove(name: str) -> None:
    _listeners.pop(name, None)
    _early_listeners.pop(name, None)


@dataclass(frozen=True)
class IngestResult:
    ticks: int
    unknown: int
    candles_written: int


_instrument_ids: dict[tuple[str, str], int] = {}


def _resolve(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    missing = keys - _instrument_ids.keys()
    if missing:
        symbols = {symbol for _exchange, symbol in missing}
        for pk, exchange, symbol in Instrument.objects.filter(symbol__in=symbols).values_list(
            "pk", "exchange__code", "symbol"
        ):
            _instrument_ids[(exchange, symbol)] = pk
    return {key: _instrument_ids[key] for key in keys if key in _instrument_ids}


def _volume_deltas(frame: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Quotes carry the session's cumulative volume; candles need what traded since.

    The previous cumulative volume comes from the LatestQuote rows, locked, so two ingests
    of the same instruments cannot both count the same shares. Vectorised: within the
    batch, each tick's delta is the difference to the previous tick of its instrument on
    the same IST day.
    """
    wanted = frame["instrument_id"].unique().tolist()
    before = pd.DataFrame(
        list(
            LatestQuote.objects.select_for_update()
            .filter(instrument_id__in=wanted)
            .order_by("instrument_id")
            .values_list("instrument_id", "volume", "at")
        ),
        columns=["instrument_id", "volume", "at"],
    )
    ids = frame["instrument_id"].to_numpy()
    day = frame["day"].to_numpy()
    cumulative = frame["cumulative"].to_numpy()
    previous = frame.groupby("instrument_id", sort=False)["cumulative"].shift(1)
    previous_day = frame.groupby("instrument_id", sort=False)["day"].shift(1)
    prev = previous.to_numpy(dtype=np.float64, copy=True)
    prev_day = previous_day.to_numpy(dtype=np.float64, copy=True)
    if not before.empty:
        stored = before.set_index("instrument_id")
        stored_day = np.array([_ist_day(at) for at in stored["at"]], dtype=np.int64)
        first = np.isnan(prev)
        lookup_volume = dict(zip(stored.index.tolist(), stored["volume"].tolist(), strict=True))
        lookup_day = dict(zip(stored.index.tolist(), stored_day.tolist(), strict=True))
        for position in np.flatnonzero(first):
            pk = int(ids[position])
            if pk in lookup_volume:
                prev[position] = lookup_volume[pk]
                prev_day[position] = lookup_day[pk]
    same_session = ~np.isnan(prev) & (prev_day == day)
    deltas = np.where(same_session, cumulative - np.nan_to_num(prev), cumulative)
    return np.clip(deltas, 0, None).astype(np.int64)


def _ist_day(at: datetime) -> int:
    return (int(at.timestamp()) // 60 + 330) // 1440


_AGGREGATE = {
    "open": ("open", "first"),
    "high": ("high", "max"),
    "low": ("low", "min"),
    "close": ("close", "last"),
    "volume": ("volume", "sum"),
}


def _write_candles(frame: pd.DataFrame, source: int) -> int:
    """Fold ticks into 1-minute bars, then those bars into each larger timeframe.

    OHLCV aggregation composes (first of firsts, max of maxes, ...), so rolling up the
    few minute bars gives the same result as rolling up the many ticks, faster.
    """
    ticks = frame.assign(
        open=frame["price"], high=frame["price"], low=frame["price"], close=frame["price"],
        bucket=bucket_starts(frame["epoch"].to_numpy(dtype=np.int64), "1m"),
    )
    minute = ticks.groupby(["instrument_id", "bucket"], sort=False).agg(**_AGGREGATE)
    minute = minute.reset_index()
    parts = [minute.assign(timeframe="1m")]
    minute_starts = minute["bucket"].to_numpy(dtype=np.int64)
    for timeframe in ROLLUP_TIMEFRAMES:
        if timeframe == "1m":
            continue
        rolled = minute.assign(bucket=bucket_starts(minute_starts, timeframe))
        bars = rolled.groupby(["instrument_id", "bucket"], sort=False).agg(**_AGGREGATE)
        parts.append(bars.reset_index().assign(timeframe=timeframe))
    bars = pd.concat(parts, ignore_index=True)
    return candles_write_units(
        instrument_ids=bars["instrument_id"].tolist(),
        timeframes=bars["timeframe"].tolist(),
        starts=bars["bucket"].tolist(),
        opens=bars["open"].tolist(),
        highs=bars["high"].tolist(),
        lows=bars["low"].tolist(),
        closes=bars["close"].tolist(),
        volumes=bars["volume"].tolist(),
        source=source,
        mode=WriteMode.MERGE,
    )


def quotes_ingest(*, batch: Sequence[Quote], source: DataSource) -> IngestResult:
    """Store a batch of quotes (in time order) and update every candle timeframe."""
    ids = _resolve({(q.exchange, q.symbol) for q in batch})
    # One pass over the quotes (the hot loop at 200,000 ticks a batch): instrument id, epoch
    # seconds, price and cumulative volume, all as float64 — exact here, see below.
    known: list[Quote] = []
    columns: list[tuple[float, float, float, float]] = []
    latest: dict[int, Quote] = {}
    for q in batch:
        pk = ids.get((q.exchange, q.symbol))
        if pk is None:
            continue
        known.append(q)
        columns.append((pk, q.at.timestamp(), float(q.last_price), q.volume))
        latest[pk] = q
    if len(known) < len(batch):
        logger.warning("Ignored %d quotes for unknown instruments", len(batch) - len(known))
    if not known:
        return IngestResult(ticks=0, unknown=len(batch), candles_written=0)

    table = np.array(columns, dtype=np.float64)
    frame = pd.DataFrame(
        {
            "instrument_id": table[:, 0].astype(np.int64),
            "epoch": table[:, 1].astype(np.int64),
            # Integer ten-thousandths of a rupee (the column's scale). Prices have at most
            # four decimals and stay far below 2**53 units, so the float detour is exact.
            "price": np.rint(table[:, 2] * float(PRICE_UNITS)).astype(np.int64),
            "cumulative": table[:, 3].astype(np.int64),
        }
    )
    frame["day"] = (frame["epoch"] // 60 + 330) // 1440

    with transaction.atomic():
        frame["volume"] = _volume_deltas(frame)  # locks the batch's LatestQuote rows
        _notify(_early_listeners, known)
        written = _write_candles(frame, int(source))
        LatestQuote.objects.bulk_create(
            [
                LatestQuote(
                    instrument_id=pk, last_price=q.last_price, open=q.open, high=q.high,
                    low=q.low, prev_close=q.prev_close, volume=q.volume, at=q.at,
                    source=int(source),
                )
                for pk, q in latest.items()
            ],
            update_conflicts=True,
            unique_fields=["instrument"],
            update_fields=[
                "last_price", "open", "high", "low", "prev_close", "volume", "at", "source"
            ],
        )
        transaction.on_commit(lambda: _after_commit(list(latest.values()), known))
    return IngestResult(ticks=len(known), unknown=len(batch) - len(known),
                        candles_written=written)


def _after_commit(latest: list[Quote], batch: Sequence[Quote]) -> None:
    quote_cache_put(latest)
    _notify(_listeners, batch)


def _notify(listeners: dict[str, TickListener], batch: Sequence[Quote]) -> None:
    for name, listener in list(listeners.items()):
        try:
            listener(batch)
        except Exception:  # one broken feature must not stop prices for the others
            logger.exception("Tick listener %s failed", name)
