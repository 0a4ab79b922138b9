"""The alerts REST API: validation (seed shape included), owner-only access, cap, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.alerts.models import AlertEvent, AlertQuota, AlertRule, RuleStatus
from apps.market.models import Instrument
from tests.factories import WatchlistFactory

pytestmark = pytest.mark.django_db

SEED = {
    "stock": "RELIANCE",
    "conditions": [
        {"type": "price_above", "value": 2500},
        {"type": "change_percent", "value": 5, "direction": "up"},
    ],
    "notification": ["websocket", "email", "sms"],
}


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    pass


def _create(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/alerts/", body, format="json")


def _rule(user: Any, **fields: Any) -> AlertRule:
    defaults: dict[str, Any] = {
        "name": "r", "instrument": Instrument.objects.get(symbol="TCS", exchange__code="NSE"),
        "conditions": [{"type": "price_above", "value": "100"}], "channels": ["websocket"],
    }
    return AlertRule.objects.create(user=user, **{**defaults, **fields})


def test_seed_shape_is_accepted_as_is(auth_client: APIClient) -> None:
    response = _create(auth_client, SEED)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["symbol"] == "RELIANCE"
    assert body["channels"] == ["websocket", "email", "sms"]
    assert body["combine"] == "all"
    assert body["trigger_mode"] == "once"
    assert body["status"] == "active"
    assert body["conditions"] == [
        {"type": "price_above", "value": "2500.0000"},
        {"type": "change_percent", "value": "5.0000", "direction": "up"},
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SEED, "stock": "NOSUCH"}, "symbol"),
        ({**SEED, "conditions": [{"type": "price_above", "value": -5}]}, "conditions.0.value"),
        ({**SEED, "conditions": [{"type": "price_above"}]}, "conditions.0.value"),
        ({**SEED, "conditions": [{"type": "moon_phase"}]}, "conditions.0.type"),
        ({**SEED, "conditions": [{"type": "rsi_above", "value": 70, "timeframe": "1d",
                                  "period": 1}]}, "conditions.0.period"),
        ({**SEED, "conditions": [{"type": "rsi_below", "value": 170, "timeframe": "1d"}]},
         "conditions.0.value"),
        ({**SEED, "conditions": [{"type": "macd_cross_up", "timeframe": "1h", "fast": 30,
                                  "slow": 26}]}, "conditions.0.fast"),
        ({**SEED, "conditions": [{"type": "price_cross_sma", "timeframe": "2h",
                                  "period": 20, "direction": "up"}]}, "conditions.0.timeframe"),
        ({**SEED, "conditions": [{"type": "change_percent", "value": 5,
                                  "direction": "sideways"}]}, "conditions.0.direction"),
        ({**SEED, "conditions": [{"type": "price_above", "value": 10, "colour": "red"}]},
         "conditions.0.colour"),
        ({**SEED, "conditions": [{"type": "ratio_above", "other": "NOPE", "value": 1}]},
         "conditions.0.other"),
        ({**SEED, "conditions": [{"type": "price_above", "value": i} for i in range(1, 12)]},
         "conditions"),
        ({**SEED, "conditions": []}, "conditions"),
        ({**SEED, "notification": ["pigeon"]}, "notification.0"),
        ({**SEED, "trigger_mode": "once_per_bar"}, "bar_timeframe"),
        ({**SEED, "message": "{symbol} {secret.__class__}"}, "message"),
        ({**SEED, "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({k: v for k, v in SEED.items() if k != "stock"}, "symbol"),
    ],
)
def test_bad_input_answers_400_naming_the_field(
    auth_client: APIClient, body: dict[str, Any], field: str
) -> None:
    response = _create(auth_client, body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error


def test_indicator_and_ratio_conditions_are_normalised(auth_client: APIClient) -> None:
    response = _create(auth_client, {
        "symbol": "TCS", "combine": "any", "trigger_mode": "every_time",
        "cooldown_seconds": 300,
        "conditions": [
            {"type": "rsi_above", "value": 70, "timeframe": "15m"},
            {"type": "macd_cross_up", "timeframe": "1h"},
            {"type": "bollinger_exit", "band": "upper", "timeframe": "1d"},
            {"type": "volume_multiple", "multiple": 3, "timeframe": "5m", "bars": 20},
            {"type": "ratio_above", "other": "nifty 50", "value": "0.18"},
        ],
    })
    assert response.status_code == 201, response.json()
    conditions = response.json()["conditions"]
    assert conditions[0]["period"] == 14
    assert conditions[1] == {"type": "macd_cross_up", "timeframe": "1h", "fast": 12,
                             "slow": 26, "signal": 9}
    assert conditions[4]["other"] == "NIFTY 50"


def test_watchlist_rule_needs_a_visible_watchlist(
    auth_client: APIClient, user: Any, other_user: Any
) -> None:
    mine: Any = WatchlistFactory(owner=user)
    theirs: Any = WatchlistFactory(owner=other_user)
    body = {"watchlist": mine.pk, "conditions": [
        {"type": "change_percent", "value": 5, "direction": "up"}]}
    assert _create(auth_client, body).status_code == 201
    response = _create(auth_client, {**body, "watchlist": theirs.pk})
    assert response.status_code == 400
    assert "watchlist" in response.json()["error"]["fields"]


def test_active_rule_cap_is_a_clear_400_and_per_user_quota_overrides(
    auth_client: APIClient, user: Any, settings: Any
) -> None:
    settings.ALERTS_MAX_ACTIVE_PER_USER = 2
    assert _create(auth_client, SEED).status_code == 201
    assert _create(auth_client, SEED).status_code == 201
    response = _create(auth_client, SEED)
    assert response.status_code == 400
    assert "2 active alerts" in response.json()["error"]["fields"]["status"][0]
    AlertQuota.objects.create(user=user, max_active_rules=3)
    assert _create(auth_client, SEED).status_code == 201


def test_resume_respects_the_cap(auth_client: APIClient, user: Any, settings: Any) -> None:
    settings.ALERTS_MAX_ACTIVE_PER_USER = 1
    paused = _rule(user, status=RuleStatus.PAUSED)
    _rule(user)
    response = auth_client.post(f"/api/v1/alerts/{paused.pk}/resume/")
    assert response.status_code == 400


def test_pause_resume_edit_delete_and_filters(auth_client: APIClient, user: Any) -> None:
    rule_id = _create(auth_client, SEED).json()["id"]
    assert auth_client.post(f"/api/v1/alerts/{rule_id}/pause/").json()["status"] == "paused"
    listed = auth_client.get("/api/v1/alerts/?status=paused").json()["results"]
    assert [r["id"] for r in listed] == [rule_id]
    assert auth_client.get("/api/v1/alerts/?status=active").json()["results"] == []
    assert auth_client.get("/api/v1/alerts/?symbol=reliance").json()["count"] == 1
    assert auth_client.get("/api/v1/alerts/?symbol=TCS").json()["count"] == 0
    assert auth_client.post(f"/api/v1/alerts/{rule_id}/resume/").json()["status"] == "active"
    patched = auth_client.patch(f"/api/v1/alerts/{rule_id}/", {
        "conditions": [{"type": "crossing_down", "value": "2400.5"}], "name": "dip",
    }, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"] == "dip"
    assert patched.json()["channels"] == ["websocket", "email", "sms"]  # untouched
    assert patched.json()["conditions"] == [{"type": "crossing_down", "value": "2400.5000"}]
    bad = auth_client.patch(f"/api/v1/alerts/{rule_id}/", {"conditions": [
        {"type": "price_below", "value": 0}]}, format="json")
    assert "conditions.0.value" in bad.json()["error"]["fields"]
    assert auth_client.delete(f"/api/v1/alerts/{rule_id}/").status_code == 204
    assert not AlertRule.objects.filter(pk=rule_id).exists()


def test_events_show_the_values_that_fired(auth_client: APIClient, user: Any) -> None:
    rule = _rule(user)
    AlertEvent.objects.create(rule=rule, instrument_id=rule.instrument_id or 0,
                              values={"price": 101.5},
                              fired_at=timezone.now() - timedelta(minutes=1), crossing_key="once")
    events = auth_client.get(f"/api/v1/alerts/{rule.pk}/events/").json()["results"]
    assert events[0]["values"] == {"price": 101.5}
    assert events[0]["symbol"] == "TCS"


def _requests(rule_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/api/v1/alerts/{rule_id}/"
    return [
        ("get", base, None),
        ("patch", base, {"name": "mine now"}),
        ("post", base + "pause/", None),
        ("post", base + "resume/", None),
        ("get", base + "events/", None),
        ("delete", base, None),
    ]


@pytest.mark.parametrize("position", range(6))
def test_outsider_gets_404_on_every_endpoint_and_owner_succeeds(
    user: Any, other_user: Any, position: int
) -> None:
    rule = _rule(user)
    method, url, body = _requests(rule.pk)[position]
    outsider, owner = APIClient(), APIClient()
    outsider.force_authenticate(other_user)
    owner.force_authenticate(user)
    response = getattr(outsider, method)(url, body, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    rule.refresh_from_db()
    assert rule.name == "r"
    assert getattr(owner, method)(url, body, format="json").status_code in (200, 204)


def test_outsider_does_not_see_the_rule_in_lists(user: Any, other_user: Any) -> None:
    _rule(user)
    outsider = APIClient()
    outsider.force_authenticate(other_user)
    assert outsider.get("/api/v1/alerts/").json()["count"] == 0


@pytest.mark.parametrize("url", ["/api/v1/alerts/", "/api/v1/alerts/1/",
                                 "/api/v1/alerts/1/events/"])
def test_anonymous_is_refused(url: str) -> None:
    assert APIClient().get(url).status_code in (401, 403)


def test_schema_documents_the_alert_endpoints(auth_client: APIClient) -> None:
    schema = auth_client.get("/api/schema/?format=json").json()
    assert "/api/v1/alerts/{rule_id}/events/" in schema["paths"]
    assert "/api/v1/alerts/{rule_id}/pause/" in schema["paths"]


def test_alerts_page_embeds_only_the_users_rules(user: Any, other_user: Any) -> None:
    from django.test import Client

    _rule(user, name="mine")
    _rule(other_user, name="theirs")
    browser = Client()
    assert browser.get("/alerts/").status_code == 302  # sign in first
    browser.force_login(user)
    page = browser.get("/alerts/")
    assert page.status_code == 200
    assert b"mine" in page.content
    assert b"theirs" not in page.content
