"""Chart drawings REST: own drawings only, validation, the per-chart limit."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from apps.charts import services
from apps.charts.models import ChartDrawing
from apps.charts.serializers import TIME_MAX, TIME_MIN
from apps.market.models import Instrument

pytestmark = pytest.mark.django_db

LIST = "/api/v1/instruments/{symbol}/drawings/"
ONE = "/api/v1/drawings/{id}/"
TREND = {
    "kind": "trend",
    "points": [{"time": 1767580200, "price": "2900.50"}, {"time": 1768185000, "price": "2951.2"}],
}
T = 1767580200
T_MS = T * 1000
HLINE = {"kind": "hline", "points": [{"price": "2951.20"}], "color": "#1F6FEB"}


@pytest.fixture(autouse=True)
def _seeded() -> None:
    importlib.import_module("apps.market.migrations.0002_seed_exchanges_nifty50_holidays").seed(
        apps, None
    )


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _reliance() -> Instrument:
    return Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")


def test_create_list_delete_own(user: Any) -> None:
    client = _client(user)
    created = client.post(LIST.format(symbol="reliance"), TREND, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "trend"
    assert body["points"] == [
        {"time": 1767580200, "price": "2900.50"},
        {"time": 1768185000, "price": "2951.2"},
    ]
    hline = client.post(LIST.format(symbol="RELIANCE"), HLINE, format="json")
    assert hline.status_code == 201
    assert hline.json()["color"] == "#1f6feb"

    listed = client.get(LIST.format(symbol="RELIANCE")).json()
    assert [d["kind"] for d in listed["results"]] == ["trend", "hline"]
    assert listed["limit"] == services.MAX_DRAWINGS_PER_INSTRUMENT
    assert client.get(LIST.format(symbol="TCS")).json()["results"] == []

    assert client.delete(ONE.format(id=body["id"])).status_code == 204
    assert [d["kind"] for d in client.get(LIST.format(symbol="RELIANCE")).json()["results"]] == [
        "hline"
    ]


def test_outsider_cannot_see_or_delete(user: Any, other_user: Any) -> None:
    mine = _client(user).post(LIST.format(symbol="RELIANCE"), HLINE, format="json").json()
    outsider = _client(other_user)
    assert outsider.get(LIST.format(symbol="RELIANCE")).json()["results"] == []
    assert outsider.delete(ONE.format(id=mine["id"])).status_code == 404
    assert ChartDrawing.objects.filter(pk=mine["id"]).exists()
    assert _client(user).delete(ONE.format(id=mine["id"])).status_code == 204
    assert _client(user).delete(ONE.format(id=mine["id"])).status_code == 404


def test_anonymous_is_refused() -> None:
    client = APIClient()
    assert client.get(LIST.format(symbol="RELIANCE")).status_code in (401, 403)
    assert client.post(LIST.format(symbol="RELIANCE"), HLINE, format="json").status_code in (
        401,
        403,
    )


def test_unknown_instrument_is_404(user: Any) -> None:
    client = _client(user)
    assert client.get(LIST.format(symbol="NOPE")).status_code == 404
    assert client.post(LIST.format(symbol="NOPE"), HLINE, format="json").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "circle", "points": [{"price": "1"}]}, "kind"),
        ({"kind": "hline"}, "points"),
        ({"kind": "hline", "points": []}, "points"),
        ({"kind": "hline", "points": [{"price": "1"}, {"price": "2"}]}, "points"),
        ({"kind": "trend", "points": [{"time": T, "price": "1"}]}, "points"),
        ({"kind": "hline", "points": "2951"}, "points"),
        ({"kind": "hline", "points": [{"price": "abc"}]}, "points.0.price"),
        ({"kind": "hline", "points": [{"price": "-5"}]}, "points.0.price"),
        ({"kind": "hline", "points": [{"price": "1.123456"}]}, "points.0.price"),
        ({"kind": "hline", "points": [{"price": "NaN"}]}, "points.0.price"),
        ({"kind": "hline", "points": [{}]}, "points.0.price"),
        ({"kind": "hline", "points": [{"price": "1", "x": 2}]}, "points.0"),
        ({"kind": "hline", "points": ["1"]}, "points.0"),
        (
            {"kind": "trend", "points": [{"time": "x", "price": "1"}, {"time": T, "price": "2"}]},
            "points.0.time",
        ),
        (
            {"kind": "trend", "points": [{"time": T_MS, "price": "1"}, {"time": T, "price": "2"}]},
            "points.0.time",
        ),
        (
            {"kind": "trend", "points": [{"time": T, "price": "1"}, {"price": "2"}]},
            "points.1.time",
        ),
        (
            {"kind": "trend", "points": [{"time": T, "price": "1"}, {"time": T, "price": "2"}]},
            "points",
        ),
        ({**HLINE, "color": "blue"}, "color"),
    ],
)
def test_validation_errors_name_the_field(user: Any, payload: dict[str, Any], field: str) -> None:
    response = _client(user).post(LIST.format(symbol="RELIANCE"), payload, format="json")
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    assert not ChartDrawing.objects.exists()


def test_limit_per_user_and_instrument(user: Any, other_user: Any) -> None:
    reliance = _reliance()
    ChartDrawing.objects.bulk_create(
        ChartDrawing(user=user, instrument=reliance, kind="hline", points=[{"price": str(i + 1)}])
        for i in range(services.MAX_DRAWINGS_PER_INSTRUMENT)
    )
    client = _client(user)
    response = client.post(LIST.format(symbol="RELIANCE"), HLINE, format="json")
    assert response.status_code == 400
    assert "at most 200" in str(response.json())
    # Another chart, and another user, are not affected.
    assert client.post(LIST.format(symbol="TCS"), HLINE, format="json").status_code == 201
    other = _client(other_user)
    assert other.post(LIST.format(symbol="RELIANCE"), HLINE, format="json").status_code == 201


def test_trend_points_keep_their_exact_times_in_order(user: Any) -> None:
    """Times are stored as drawn (10:37:00 and 11:52:30 IST, not bar starts) and the earlier
    point comes first, whatever order a client sends them in; charts snap on display."""
    at_1037 = 1768367220  # 2026-01-14 10:37:00 IST
    at_1152 = 1768371750  # 2026-01-14 11:52:30 IST
    payload = {
        "kind": "trend",
        "points": [{"time": at_1152, "price": "2960"}, {"time": at_1037, "price": "2940.5"}],
    }
    created = _client(user).post(LIST.format(symbol="RELIANCE"), payload, format="json")
    assert created.status_code == 201, created.content
    expected = [{"time": at_1037, "price": "2940.5"}, {"time": at_1152, "price": "2960"}]
    assert created.json()["points"] == expected
    assert ChartDrawing.objects.get().points == expected


@pytest.mark.parametrize(
    "time",
    [TIME_MIN - 1, TIME_MAX + 1, -T, 0, T_MS, 1767580200.0, True, None, "1767580200"],
)
def test_trend_point_time_must_be_sane_epoch_seconds(user: Any, time: Any) -> None:
    payload = {"kind": "trend", "points": [{"time": T, "price": "1"}, {"time": time, "price": "2"}]}
    response = _client(user).post(LIST.format(symbol="RELIANCE"), payload, format="json")
    assert response.status_code == 400, response.content
    assert "points.1.time" in response.json()["error"]["fields"]
    assert not ChartDrawing.objects.exists()


@pytest.mark.parametrize("time", [TIME_MIN, TIME_MAX])
def test_trend_point_time_range_is_inclusive(user: Any, time: int) -> None:
    payload = {"kind": "trend", "points": [{"time": T, "price": "1"}, {"time": time, "price": "2"}]}
    response = _client(user).post(LIST.format(symbol="RELIANCE"), payload, format="json")
    assert response.status_code == 201, response.content
