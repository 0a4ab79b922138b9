"""quotes_ingest: latest quotes, 1-minute candles and every roll-up from the same ticks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from apps.market import ingest
from apps.market.candle_store import (
    CandleRow,
    WriteMode,
    bucket_start,
    bucket_starts,
    candles_write,
)
from apps.market.models import Candle, DataSource, Instrument, LatestQuote
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_get_many

IST = ZoneInfo("Asia/Kolkata")
pytestmark = pytest.mark.django_db


def _ist(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
         second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


def _quote(symbol: str, price: str, at: datetime, volume: int, exchange: str = "NSE") -> Quote:
    p = Decimal(price)
    return Quote(symbol=symbol, exchange=exchange, last_price=p, open=p, high=p, low=p,
                 prev_close=Decimal("100"), volume=volume, at=at, simulated=True)


@pytest.fixture(autouse=True)
def _forget_instrument_ids() -> Iterator[None]:
    # Each test database has its own ids.
    ingest._instrument_ids.clear()
    yield
    ingest._instrument_ids.clear()


class TestBuckets:
    @pytest.mark.parametrize(
        ("at", "timeframe", "expected"),
        [
            (_ist(2026, 3, 2, 9, 15, 59), "1m", _ist(2026, 3, 2, 9, 15)),
            (_ist(2026, 3, 2, 9, 20, 0), "3m", _ist(2026, 3, 2, 9, 18)),
            (_ist(2026, 3, 2, 9, 29, 59), "15m", _ist(2026, 3, 2, 9, 15)),
            (_ist(2026, 3, 2, 10, 14, 0), "1h", _ist(2026, 3, 2, 9, 15)),
            (_ist(2026, 3, 2, 15, 29, 0), "1h", _ist(2026, 3, 2, 15, 15)),
            (_ist(2026, 3, 2, 15, 29, 0), "30m", _ist(2026, 3, 2, 15, 15)),
            (_ist(2026, 3, 2, 15, 29, 0), "1d", _ist(2026, 3, 2)),
            (_ist(2026, 3, 5, 11, 0, 0), "1w", _ist(2026, 3, 2)),  # Thursday → Monday
            (_ist(2026, 3, 2, 0, 10, 0), "1w", _ist(2026, 3, 2)),
        ],
    )
    def test_buckets_align_to_the_nse_session_and_ist_calendar(
        self, at: datetime, timeframe: str, expected: datetime
    ) -> None:
        assert bucket_start(at, timeframe) == expected

    def test_vectorised_buckets_match_one_by_one(self) -> None:
        rng = np.random.default_rng(7)
        seconds = rng.integers(1_700_000_000, 1_800_000_000, size=500)
        for timeframe in ("5m", "1h", "1d", "1w"):
            many = bucket_starts(seconds, timeframe)
            one = [
                int(bucket_start(datetime.fromtimestamp(int(s), tz=UTC), timeframe).timestamp())
                for s in seconds
            ]
            assert many.tolist() == one


class TestCandlesWrite:
    def _row(self, instrument: Instrument, close: str, volume: int = 10) -> CandleRow:
        c = Decimal(close)
        return CandleRow(instrument.pk, "1d", _ist(2026, 3, 2), c, c, c, c, volume,
                         DataSource.CSV)

    def test_replace_is_idempotent_and_counts_only_changes(self) -> None:
        tcs = Instrument.objects.get(symbol="TCS", exchange__code="NSE")
        assert candles_write(rows=[self._row(tcs, "3500")], mode=WriteMode.REPLACE) == 1
        assert candles_write(rows=[self._row(tcs, "3500")], mode=WriteMode.REPLACE) == 0
        assert candles_write(rows=[self._row(tcs, "3501")], mode=WriteMode.REPLACE) == 1
        assert Candle.objects.get(instrument=tcs).close == Decimal("3501")

    def test_two_writes_in_one_transaction_do_not_mix(self) -> None:
        tcs = Instrument.objects.get(symbol="TCS", exchange__code="NSE")
        infy = Instrument.objects.get(symbol="INFY", exchange__code="NSE")
        candles_write(rows=[self._row(tcs, "3500")], mode=WriteMode.REPLACE)
        candles_write(rows=[self._row(infy, "1500")], mode=WriteMode.REPLACE)
        assert Candle.objects.get(instrument=tcs).close == Decimal("3500")
        assert Candle.objects.count() == 2


class TestQuotesIngest:
    def test_ticks_build_the_minute_bar_and_every_rollup(self) -> None:
        ticks = [
            _quote("RELIANCE", "2950.00", _ist(2026, 3, 2, 9, 15, 5), 1_000),
            _quote("RELIANCE", "2957.50", _ist(2026, 3, 2, 9, 15, 30), 1_600),
            _quote("RELIANCE", "2948.10", _ist(2026, 3, 2, 9, 15, 50), 2_000),
            _quote("RELIANCE", "2952.00", _ist(2026, 3, 2, 9, 16, 10), 2_500),
        ]
        result = ingest.quotes_ingest(batch=ticks, source=DataSource.SIMULATED)
        assert result.ticks == 4
        reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
        bars = {
            (c.timeframe, c.start): c for c in Candle.objects.filter(instrument=reliance)
        }
        first = bars[("1m", _ist(2026, 3, 2, 9, 15))]
        assert (first.open, first.high, first.low, first.close) == (
            Decimal("2950.00"), Decimal("2957.50"), Decimal("2948.10"), Decimal("2948.10")
        )
        assert first.volume == 2_000
        assert bars[("1m", _ist(2026, 3, 2, 9, 16))].volume == 500
        for timeframe in ("3m", "5m", "15m", "30m", "1h"):
            bar = bars[(timeframe, _ist(2026, 3, 2, 9, 15))]
            assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
                Decimal("2950.00"), Decimal("2957.50"), Decimal("2948.10"),
                Decimal("2952.00"), 2_500,
            )
        assert bars[("1d", _ist(2026, 3, 2))].volume == 2_500
        assert bars[("1w", _ist(2026, 3, 2))].close == Decimal("2952.00")

    def test_later_batches_merge_into_existing_bars(self) -> None:
        ingest.quotes_ingest(
            batch=[_quote("TCS", "3500", _ist(2026, 3, 2, 10, 0, 1), 100)],
            source=DataSource.SIMULATED,
        )
        ingest.quotes_ingest(
            batch=[_quote("TCS", "3490", _ist(2026, 3, 2, 10, 0, 40), 180)],
            source=DataSource.SIMULATED,
        )
        bar = Candle.objects.get(instrument__symbol="TCS", timeframe="1m")
        assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
            Decimal("3500"), Decimal("3500"), Decimal("3490"), Decimal("3490"), 180
        )

    def test_volume_restarts_with_a_new_session(self) -> None:
        ingest.quotes_ingest(
            batch=[_quote("INFY", "1500", _ist(2026, 3, 2, 15, 29), 9_000_000)],
            source=DataSource.SIMULATED,
        )
        ingest.quotes_ingest(
            batch=[_quote("INFY", "1510", _ist(2026, 3, 3, 9, 15, 2), 4_000)],
            source=DataSource.SIMULATED,
        )
        bar = Candle.objects.get(instrument__symbol="INFY", timeframe="1d",
                                 start=_ist(2026, 3, 3))
        assert bar.volume == 4_000

    def test_latest_quote_is_stored_in_the_database_and_redis_after_commit(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        at = _ist(2026, 3, 2, 11, 0)
        with django_capture_on_commit_callbacks(execute=True):
            ingest.quotes_ingest(
                batch=[_quote("HDFCBANK", "1700.05", at, 50)], source=DataSource.SIMULATED
            )
        stored = LatestQuote.objects.get(instrument__symbol="HDFCBANK")
        assert stored.last_price == Decimal("1700.05")
        cached = quote_cache_get_many({("NSE", "HDFCBANK")})[("NSE", "HDFCBANK")]
        assert cached.last_price == Decimal("1700.05")
        assert cached.at == at

    def test_listeners_get_the_batch_after_commit_and_a_failing_one_is_contained(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        seen: list[Sequence[Quote]] = []

        @ingest.tick_listener("test.broken")
        def broken(batch: Sequence[Quote]) -> None:
            raise RuntimeError("boom")

        @ingest.tick_listener("test.record")
        def record(batch: Sequence[Quote]) -> None:
            seen.append(batch)

        try:
            quote = _quote("ITC", "450.25", _ist(2026, 3, 2, 12, 0), 10)
            with django_capture_on_commit_callbacks() as callbacks:
                ingest.quotes_ingest(batch=[quote], source=DataSource.SIMULATED)
            assert seen == []  # nothing before commit
            for callback in callbacks:
                callback()
            assert [list(b) for b in seen] == [[quote]]
        finally:
            ingest.tick_listener_remove("test.broken")
            ingest.tick_listener_remove("test.record")

    def test_unknown_symbols_are_counted_and_skipped(self) -> None:
        result = ingest.quotes_ingest(
            batch=[_quote("NOSUCH", "1", _ist(2026, 3, 2, 12, 0), 1)],
            source=DataSource.SIMULATED,
        )
        assert (result.ticks, result.unknown) == (0, 1)
        assert not Candle.objects.exists()

    def test_many_ticks_cost_a_constant_number_of_queries(
        self, django_assert_max_num_queries: Any
    ) -> None:
        symbols = list(
            Instrument.objects.filter(exchange__code="NSE", kind="equity")
            .values_list("symbol", flat=True)[:50]
        )
        start = _ist(2026, 3, 2, 9, 15)
        batch = [
            _quote(symbol, f"{100 + i % 7}.05", start + timedelta(seconds=i), i)
            for i, symbol in enumerate(symbols * 20)
        ]
        ingest.quotes_ingest(batch=batch[:1], source=DataSource.SIMULATED)  # warm id cache
        with django_assert_max_num_queries(12):
            result = ingest.quotes_ingest(batch=batch, source=DataSource.SIMULATED)
        assert result.ticks == 1000
