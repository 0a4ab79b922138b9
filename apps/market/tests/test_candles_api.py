"""The candles endpoint: bars of one instrument, oldest first, in India time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from rest_framework.test import APIClient

from apps.market import selectors
from apps.market.adjustments import adjust_ohlcv
from apps.market.models import (
    Candle,
    CorporateAction,
    CorporateActionKind,
    DataSource,
    Instrument,
)
from apps.market.serializers import CandleInputSerializer, iso_times

pytestmark = pytest.mark.django_db

URL = "/api/v1/instruments/RELIANCE/candles/"
# 1d bars start at 00:00 IST = 18:30 UTC the day before.
FIRST_DAY = datetime(2025, 12, 31, 18, 30, tzinfo=UTC)  # 2026-01-01 00:00 IST


def _make_bars(
    symbol: str = "RELIANCE",
    count: int = 10,
    timeframe: str = "1d",
    step: timedelta = timedelta(days=1),
    first: datetime = FIRST_DAY,
    source: int = DataSource.CSV,
) -> Instrument:
    instrument = Instrument.objects.get(symbol=symbol, exchange__code="NSE")
    Candle.objects.bulk_create(
        Candle(
            instrument=instrument, timeframe=timeframe, start=first + i * step,
            open=Decimal(1000 + i), high=Decimal(1010 + i), low=Decimal("990.05") + i,
            close=Decimal("1005.50") + i, volume=1000 * (i + 1), source=source,
        )
        for i in range(count)
    )
    return instrument


def _times(response: Any) -> list[str]:
    return [bar["t"] for bar in response.json()["bars"]]


def test_anonymous_callers_get_401(api_client: APIClient) -> None:
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_unknown_symbol_gets_404_with_the_error_body(auth_client: APIClient) -> None:
    response = auth_client.get("/api/v1/instruments/NOSUCHCO/candles/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_bars_come_oldest_first_in_india_time_with_decimal_string_prices(
    auth_client: APIClient,
) -> None:
    _make_bars(count=3)
    response = auth_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("symbol", "exchange", "timeframe", "simulated")} == {
        "symbol": "RELIANCE", "exchange": "NSE", "timeframe": "1d", "simulated": False,
    }
    assert body["bars"][0] == {
        "t": "2026-01-01T00:00:00+05:30", "o": "1000.0000", "h": "1010.0000",
        "l": "990.0500", "c": "1005.5000", "v": 1000,
    }
    assert _times(response) == [
        "2026-01-01T00:00:00+05:30", "2026-01-02T00:00:00+05:30", "2026-01-03T00:00:00+05:30",
    ]


def test_without_start_the_latest_limit_bars_are_returned_ascending(
    auth_client: APIClient,
) -> None:
    _make_bars(count=10)
    response = auth_client.get(URL, {"limit": "3"})
    assert _times(response) == [
        "2026-01-08T00:00:00+05:30", "2026-01-09T00:00:00+05:30", "2026-01-10T00:00:00+05:30",
    ]


def test_start_gives_the_first_limit_bars_from_that_day(auth_client: APIClient) -> None:
    _make_bars(count=10)
    response = auth_client.get(URL, {"start": "2026-01-04", "limit": "2"})
    assert _times(response) == ["2026-01-04T00:00:00+05:30", "2026-01-05T00:00:00+05:30"]


def test_a_date_end_includes_that_whole_day(auth_client: APIClient) -> None:
    _make_bars(count=10)
    response = auth_client.get(URL, {"start": "2026-01-02", "end": "2026-01-04"})
    assert _times(response) == [
        "2026-01-02T00:00:00+05:30", "2026-01-03T00:00:00+05:30", "2026-01-04T00:00:00+05:30",
    ]


def test_naive_datetimes_are_india_time_and_offsets_are_honoured(
    auth_client: APIClient,
) -> None:
    _make_bars(
        count=6, timeframe="1m", step=timedelta(minutes=1),
        first=datetime(2026, 1, 21, 3, 45, tzinfo=UTC),  # 09:15 IST
    )
    naive = auth_client.get(URL, {"timeframe": "1m", "start": "2026-01-21T09:16", "limit": "2"})
    assert _times(naive) == ["2026-01-21T09:16:00+05:30", "2026-01-21T09:17:00+05:30"]
    utc = auth_client.get(
        URL, {"timeframe": "1m", "end": "2026-01-21T03:47:00+00:00", "limit": "2"}
    )
    assert _times(utc) == ["2026-01-21T09:16:00+05:30", "2026-01-21T09:17:00+05:30"]


def test_other_timeframes_and_instruments_are_not_mixed_in(auth_client: APIClient) -> None:
    _make_bars(count=2)
    _make_bars(count=4, timeframe="1w", step=timedelta(days=7))
    _make_bars(symbol="TCS", count=5)
    assert len(auth_client.get(URL).json()["bars"]) == 2
    assert len(auth_client.get(URL, {"timeframe": "1w"}).json()["bars"]) == 4


def test_simulated_is_true_when_bars_come_from_the_simulated_feed(
    auth_client: APIClient,
) -> None:
    _make_bars(count=2, source=DataSource.SIMULATED)
    assert auth_client.get(URL).json()["simulated"] is True


def test_no_bars_is_an_empty_list(auth_client: APIClient) -> None:
    body = auth_client.get(URL).json()
    assert body["bars"] == []
    assert body["simulated"] is False


def test_at_most_5000_bars_a_call(auth_client: APIClient) -> None:
    _make_bars(count=5001, timeframe="1m", step=timedelta(minutes=1))
    response = auth_client.get(URL, {"timeframe": "1m", "limit": "5000"})
    bars = response.json()["bars"]
    assert len(bars) == 5000
    assert bars[0]["o"] == "1001.0000"  # the oldest bar is the one left out
    too_many = auth_client.get(URL, {"timeframe": "1m", "limit": "5001"})
    assert too_many.status_code == 400
    assert list(too_many.json()["error"]["fields"]) == ["limit"]


def test_the_default_limit_is_500(auth_client: APIClient) -> None:
    _make_bars(count=501, timeframe="1m", step=timedelta(minutes=1))
    assert len(auth_client.get(URL, {"timeframe": "1m"}).json()["bars"]) == 500


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"timeframe": "2m"}, "timeframe"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-02-30"}, "start"),
        ({"end": "2026-13-01T10:00"}, "end"),
        ({"end": "9999-12-31"}, "end"),
        ({"start": "0001-01-01T00:00"}, "start"),
        ({"start": "2026-01-01T10:00+25:00"}, "start"),
        ({"start": "2026-01-05", "end": "2026-01-04"}, "end"),
        ({"exchange": "NYSE"}, "exchange"),
        ({"adjusted": "maybe"}, "adjusted"),
    ],
)
def test_bad_parameters_get_400_naming_the_field(
    auth_client: APIClient, params: dict[str, str], field: str
) -> None:
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_bars_before_a_bonus_ex_date_are_adjusted_by_default(auth_client: APIClient) -> None:
    instrument = _make_bars(count=4)
    CorporateAction.objects.create(
        instrument=instrument, kind=CorporateActionKind.BONUS, ex_date=date(2026, 1, 3),
        ratio_from=1, ratio_to=1,
    )
    body = auth_client.get(URL).json()
    assert body["adjusted"] is True
    assert [(b["o"], b["c"], b["v"]) for b in body["bars"]] == [
        ("500.0000", "502.7500", 2000),  # 1:1 bonus: half the price, twice the shares
        ("500.5000", "503.2500", 4000),
        ("1002.0000", "1007.5000", 3000),  # on and after the ex-date: as traded
        ("1003.0000", "1008.5000", 4000),
    ]
    raw = auth_client.get(URL, {"adjusted": "false"}).json()
    assert raw["adjusted"] is False
    assert [b["o"] for b in raw["bars"]] == ["1000.0000", "1001.0000", "1002.0000", "1003.0000"]


def test_the_selectors_are_one_query_each(django_assert_num_queries: Any) -> None:
    instrument = _make_bars(count=20)
    with django_assert_num_queries(1):
        rows = selectors.candle_list(instrument_id=instrument.pk, timeframe="1d", limit=5)
    assert [row[0] for row in rows] == [FIRST_DAY + timedelta(days=d) for d in range(15, 20)]
    with django_assert_num_queries(1):
        compact = selectors.candle_list_compact(
            instrument_id=instrument.pk, timeframe="1d", limit=5
        )
    assert compact == [
        (int(row[0].timestamp()), *(f"{price:.4f}" for price in row[1:5]), row[5], row[6])
        for row in rows
    ]


@pytest.mark.parametrize(
    "window",
    [
        {},
        {"start": "2026-01-03"},
        {"end": "2026-01-05"},
        {"start": "2026-01-06"},
        {"start": "2026-01-02", "end": "2026-01-04"},
    ],
)
def test_adjusted_bars_equal_adjust_ohlcv_on_the_stored_bars(
    auth_client: APIClient, window: dict[str, str]
) -> None:
    instrument = _make_bars(count=8)
    split = CorporateAction.objects.create(
        instrument=instrument, kind=CorporateActionKind.SPLIT, ex_date=date(2026, 1, 4),
        ratio_from=1, ratio_to=3,  # a factor of 3: prices before it get 4-dp rounding
    )
    params = CandleInputSerializer(data={"limit": "4", **window})
    params.is_valid(raise_exception=True)
    typed = selectors.candle_list(
        instrument_id=instrument.pk, timeframe="1d", limit=4,
        start=params.validated_data.get("start"), end_before=params.validated_data.get("end"),
    )
    frame = pd.DataFrame(
        [r[1:5] for r in typed], columns=["open", "high", "low", "close"], dtype=object
    )
    frame["start"] = [int(r[0].timestamp()) for r in typed]
    frame["volume"] = [r[5] for r in typed]
    expected = adjust_ohlcv(frame, [split])
    body = auth_client.get(URL, {"limit": "4", **window}).json()
    assert [[b["o"], b["h"], b["l"], b["c"], b["v"]] for b in body["bars"]] == [
        [str(row.open), str(row.high), str(row.low), str(row.close), int(row.volume)]
        for row in expected.itertuples()
    ]
    assert body["adjusted"] is True


def test_iso_times_handle_zones_with_daylight_saving() -> None:
    london = ZoneInfo("Europe/London")
    epochs = [int(datetime(2026, month, 1, 12, tzinfo=UTC).timestamp()) for month in (1, 7)]
    assert iso_times(epochs, london) == ["2026-01-01T12:00:00+00:00", "2026-07-01T13:00:00+01:00"]
    assert iso_times(epochs) == ["2026-01-01T17:30:00+05:30", "2026-07-01T17:30:00+05:30"]


def test_the_endpoint_reads_instrument_and_bars_in_few_queries(
    auth_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    _make_bars(count=20)
    # The instrument, the bars, and the corporate actions when adjusting.
    with django_assert_max_num_queries(3):
        response = auth_client.get(URL, {"limit": "10"})
    assert len(response.json()["bars"]) == 10
    with django_assert_max_num_queries(2):
        auth_client.get(URL, {"limit": "10", "adjusted": "false"})


def test_the_candles_endpoint_is_in_the_openapi_schema(auth_client: APIClient) -> None:
    response = auth_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    operation = paths["/api/v1/instruments/{symbol}/candles/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"timeframe", "start", "end", "limit", "exchange", "adjusted"} <= names
    for path in ("/api/v1/instruments/{symbol}/indicators/", "/api/v1/indicators/",
                 "/api/v1/quotes/"):
        assert "get" in paths[path]
