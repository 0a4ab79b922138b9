"""The indicator endpoints: the catalogue, and indicators over an instrument's bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from rest_framework.test import APIClient

from apps.market import api
from apps.market.indicators import INDICATORS, compute
from apps.market.models import Candle, DataSource, Instrument

pytestmark = pytest.mark.django_db

URL = "/api/v1/instruments/RELIANCE/indicators/"
FIRST_DAY = datetime(2025, 12, 31, 18, 30, tzinfo=UTC)  # 2026-01-01 00:00 IST


def _closes(count: int) -> list[Decimal]:
    rng = np.random.default_rng(7)
    path = 1000 + np.cumsum(rng.normal(0, 5, count))
    return [Decimal(f"{value:.2f}") for value in path]


def _make_bars(count: int) -> list[float]:
    instrument = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    closes = _closes(count)
    Candle.objects.bulk_create(
        Candle(
            instrument=instrument, timeframe="1d", start=FIRST_DAY + timedelta(days=i),
            open=close - 1, high=close + 3, low=close - 3, close=close, volume=1000 + i,
            source=DataSource.CSV,
        )
        for i, close in enumerate(closes)
    )
    return [float(close) for close in closes]


def _same(api_values: list[float | None], expected: np.ndarray) -> None:
    assert len(api_values) == len(expected)
    for got, want in zip(api_values, expected.tolist(), strict=True):
        if np.isnan(want):
            assert got is None
        else:
            assert got == pytest.approx(want, rel=1e-12)


def test_anonymous_callers_get_401(api_client: APIClient) -> None:
    assert api_client.get(URL, {"name": "rsi"}).status_code == 401
    assert api_client.get("/api/v1/indicators/").status_code == 401


def test_the_catalogue_lists_every_indicator_with_params_and_outputs(
    auth_client: APIClient,
) -> None:
    response = auth_client.get("/api/v1/indicators/")
    assert response.status_code == 200
    by_name = {spec["name"]: spec for spec in response.json()}
    assert set(by_name) == set(INDICATORS)
    assert by_name["macd"]["outputs"] == ["macd", "signal", "histogram"]
    assert by_name["rsi"]["params"] == [
        {"name": "period", "type": "int", "default": 14, "min": 2, "max": 1000}
    ]


def test_rsi_equals_the_registry_on_the_same_closes(auth_client: APIClient) -> None:
    closes = _make_bars(60)
    response = auth_client.get(URL, {"name": "rsi", "period": "14", "limit": "20"})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "rsi"
    assert body["params"] == {"period": 14}
    # 20 bars asked for, plus 3 × 14 bars of warm-up: all 60 bars are loaded.
    expected = compute("rsi", {"close": np.array(closes)}, period=14)["rsi"][-20:]
    _same(body["outputs"]["rsi"], expected)
    assert body["t"][0] == "2026-02-10T00:00:00+05:30"
    assert body["t"][-1] == "2026-03-01T00:00:00+05:30"
    assert len(body["t"]) == 20


def test_warm_up_is_limit_plus_three_times_the_largest_period(
    auth_client: APIClient,
) -> None:
    closes = _make_bars(200)
    body = auth_client.get(URL, {"name": "ema", "period": "10", "limit": "50"}).json()
    window = np.array(closes[-(50 + 30):])
    expected = compute("ema", {"close": window}, period=10)["ema"][-50:]
    _same(body["outputs"]["ema"], expected)


def test_multi_output_indicators_return_every_output(auth_client: APIClient) -> None:
    closes = _make_bars(150)
    params = {"name": "MACD", "fast": "5", "slow": "10", "limit": "40"}
    body = auth_client.get(URL, params).json()
    assert body["params"] == {"fast": 5, "slow": 10, "signal": 9}
    window = np.array(closes[-(40 + 30):])
    expected = compute("macd", {"close": window}, fast=5, slow=10, signal=9)
    assert set(body["outputs"]) == {"macd", "signal", "histogram"}
    for name, values in body["outputs"].items():
        _same(values, expected[name][-40:])


def test_warm_up_bars_without_a_value_are_null(auth_client: APIClient) -> None:
    _make_bars(20)
    body = auth_client.get(URL, {"name": "sma", "period": "5"}).json()
    values = body["outputs"]["sma"]
    assert len(values) == len(body["t"]) == 20
    assert values[:4] == [None] * 4
    assert all(value is not None for value in values[4:])


def test_indicators_needing_high_low_volume_and_time_work(auth_client: APIClient) -> None:
    _make_bars(40)
    for name in ("atr", "stochastic", "mfi", "vwap", "supertrend", "cdldoji"):
        response = auth_client.get(URL, {"name": name, "limit": "10"})
        assert response.status_code == 200, (name, response.json())
        assert all(len(v) == 10 for v in response.json()["outputs"].values())


def test_no_bars_gives_empty_outputs(auth_client: APIClient) -> None:
    body = auth_client.get(URL, {"name": "rsi"}).json()
    assert body["outputs"] == {"rsi": []}
    assert body["t"] == []


def test_the_registry_sees_the_query_parameters_as_given(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_bars(30)
    seen: dict[str, Any] = {}

    def spy(name: str, series: Any, **params: Any) -> Any:
        seen.update(name=name, params=params, inputs=set(series))
        return compute(name, series, **params)

    monkeypatch.setattr(api, "compute", spy)
    auth_client.get(URL, {"name": "bollinger", "nbdev": "2.5", "limit": "5"})
    assert seen == {
        "name": "bollinger", "params": {"period": 20, "nbdev": 2.5}, "inputs": {"close"}
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "nosuch"}, "name"),
        ({}, "name"),
        ({"name": "rsi", "period": "1"}, "period"),
        ({"name": "rsi", "period": "fourteen"}, "period"),
        ({"name": "rsi", "period": "14.5"}, "period"),
        ({"name": "rsi", "window": "14"}, "window"),
        ({"name": "bollinger", "nbdev": "nan"}, "nbdev"),
        ({"name": "rsi", "limit": "5001"}, "limit"),
        ({"name": "rsi", "timeframe": "2d"}, "timeframe"),
        ({"name": "rsi", "start": "2026-01-01"}, "start"),
    ],
)
def test_bad_requests_get_400_naming_the_field(
    auth_client: APIClient, params: dict[str, str], field: str
) -> None:
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_an_unknown_symbol_gets_404(auth_client: APIClient) -> None:
    response = auth_client.get("/api/v1/instruments/NOSUCHCO/indicators/", {"name": "rsi"})
    assert response.status_code == 404
