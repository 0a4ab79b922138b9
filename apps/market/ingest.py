"""`quotes_ingest`: the one entry point every price tick goes through.

It stores the latest quotes (PostgreSQL + Redis) and folds the ticks into 1-minute candles
and every roll-up timeframe, in one transaction. Features that react to ticks (streaming,
alerts, portfolios) register a listener with `tick_listener`; listeners run after commit,
with the batch, and a failing listener never blocks the others or the ingest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction

from apps.market.candle_store import (
    ROLLUP_TIMEFRAMES,
    CandleRow,
    WriteMode,
    bucket_starts,
    candles_write,
)
from apps.market.models import DataSource, Instrument, LatestQuote
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_put

logger = logging.getLogger(__name__)

TickListener = Callable[[Sequence[Quote]], None]
_listeners: dict[str, TickListener] = {}


def tick_listener(name: str) -> Callable[[TickListener], TickListener]:
    """Decorator: call `fn(batch)` after each committed ingest. Re-registering replaces."""

    def register(fn: TickListener) -> TickListener:
        _listeners[name] = fn
        return fn

    return register


def tick_listener_remove(name: str) -> None:
    _listeners.pop(name, None)


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


def _ist_date(at: datetime) -> int:
    return (int(at.timestamp()) // 60 + 330) // 1440


def _volume_deltas(batch: Sequence[Quote], ids: dict[tuple[str, str], int]) -> list[int]:
    """Quotes carry the session's cumulative volume; candles need what traded since.

    The previous cumulative volume comes from the LatestQuote rows, locked, so two ingests
    of the same instruments cannot both count the same shares.
    """
    wanted = {ids[(q.exchange, q.symbol)] for q in batch}
    last: dict[int, tuple[int, int]] = {
        pk: (volume, _ist_date(at))
        for pk, volume, at in LatestQuote.objects.select_for_update()
        .filter(instrument_id__in=wanted)
        .order_by("instrument_id")
        .values_list("instrument_id", "volume", "at")
    }
    deltas = []
    for quote in batch:
        pk = ids[(quote.exchange, quote.symbol)]
        today = _ist_date(quote.at)
        before = last.get(pk)
        if before is None or before[1] != today:
            deltas.append(max(0, quote.volume))
        else:
            deltas.append(max(0, quote.volume - before[0]))
        last[pk] = (quote.volume, today)
    return deltas


PRICE_SCALE = 4  # market_candle prices are numeric(16, 4)


def _price(units: int) -> Decimal:
    return Decimal(int(units)).scaleb(-PRICE_SCALE)


def _candle_rows(frame: pd.DataFrame, source: int) -> list[CandleRow]:
    rows: list[CandleRow] = []
    seconds = frame["epoch"].to_numpy(dtype=np.int64)
    for timeframe in ROLLUP_TIMEFRAMES:
        frame["bucket"] = bucket_starts(seconds, timeframe)
        bars = frame.groupby(["instrument_id", "bucket"], sort=False).agg(
            open=("price", "first"),
            high=("price", "max"),
            low=("price", "min"),
            close=("price", "last"),
            volume=("volume", "sum"),
        )
        for (instrument_id, bucket), bar in zip(
            bars.index, bars.itertuples(index=False), strict=True
        ):
            rows.append(
                CandleRow(
                    int(instrument_id), timeframe, datetime.fromtimestamp(int(bucket), tz=UTC),
                    _price(bar.open), _price(bar.high), _price(bar.low), _price(bar.close),
                    int(bar.volume), source,
                )
            )
    return rows


def quotes_ingest(*, batch: Sequence[Quote], source: DataSource) -> IngestResult:
    """Store a batch of quotes (in time order) and update every candle timeframe."""
    ids = _resolve({(q.exchange, q.symbol) for q in batch})
    known = [q for q in batch if (q.exchange, q.symbol) in ids]
    if len(known) < len(batch):
        logger.warning("Ignored %d quotes for unknown instruments", len(batch) - len(known))
    if not known:
        return IngestResult(ticks=0, unknown=len(batch), candles_written=0)

    latest: dict[int, Quote] = {}
    for quote in known:
        latest[ids[(quote.exchange, quote.symbol)]] = quote

    with transaction.atomic():
        frame = pd.DataFrame(
            {
                "instrument_id": [ids[(q.exchange, q.symbol)] for q in known],
                "epoch": [int(q.at.timestamp()) for q in known],
                # Exact integer ten-thousandths of a rupee (the column's scale): vectorised
                # arithmetic with no float rounding.
                "price": np.array(
                    [int(q.last_price.scaleb(PRICE_SCALE)) for q in known], dtype=np.int64
                ),
                "volume": _volume_deltas(known, ids),
            }
        )
        written = candles_write(rows=_candle_rows(frame, int(source)), mode=WriteMode.MERGE)
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
    for name, listener in list(_listeners.items()):
        try:
            listener(batch)
        except Exception:  # one broken feature must not stop prices for the others
            logger.exception("Tick listener %s failed", name)


def quote_change(quote: Quote) -> tuple[Decimal, Decimal]:
    """(change, % change) against the previous close."""
    change = quote.last_price - quote.prev_close
    percent = (change / quote.prev_close * 100) if quote.prev_close else Decimal(0)
    return change, percent.quantize(Decimal("0.01"))
