"""The tick path's head: `quotes_ingest` hands a batch to the engines' stream before it
writes the batch's candles (the engine needs prices only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from apps.alerts.engine.stream import batch_decode, redis_client, stream_name
from apps.market import ingest
from apps.market.models import Candle, DataSource, LatestQuote
from apps.market.providers.base import Quote

IST = ZoneInfo("Asia/Kolkata")
pytestmark = pytest.mark.django_db


def _quote(price: str, second: int) -> Quote:
    p = Decimal(price)
    return Quote(
        "INFY",
        "NSE",
        p,
        p,
        p,
        p,
        Decimal("1500"),
        100 + second,
        datetime(2026, 3, 2, 10, 0, second, tzinfo=IST),
        True,
    )


def _last_batch() -> list[list[Any]] | None:
    entries: Any = redis_client().xrevrange(stream_name(), count=1)
    return batch_decode(entries[0][1][b"b"]) if entries else None


def test_the_stream_gets_the_batch_before_its_candles_are_written(
    market_seed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[list[Any]] | None] = []
    write = ingest._write_candles

    def spy(frame: pd.DataFrame, source: int) -> int:
        seen.append(_last_batch())
        return write(frame, source)

    monkeypatch.setattr(ingest, "_write_candles", spy)
    ingest.quotes_ingest(batch=[_quote("1517.35", 7)], source=DataSource.SIMULATED)
    [batch] = seen
    assert batch is not None
    [[symbol, _at, price, _prev_close, _volume]] = batch
    assert (symbol, price) == ("INFY", "1517.35")
    assert Candle.objects.filter(instrument__symbol="INFY", timeframe="1m").exists()


def test_a_failing_early_listener_does_not_stop_the_ingest(
    market_seed: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    @ingest.tick_listener("test.early.broken", early=True)
    def broken(batch: Sequence[Quote]) -> None:
        raise RuntimeError("boom")

    try:
        result = ingest.quotes_ingest(batch=[_quote("1490", 1)], source=DataSource.SIMULATED)
    finally:
        ingest.tick_listener_remove("test.early.broken")
    assert result.ticks == 1
    assert LatestQuote.objects.get(instrument__symbol="INFY").last_price == Decimal("1490")
    assert "Tick listener test.early.broken failed" in caplog.text
