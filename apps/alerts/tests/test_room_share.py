"""An alert rule may share its firings with a room its owner belongs to: each firing adds an
`alert_fired` line to the room's activity feed, published as `room.activity`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.alerts.engine.firing import firings_record
from apps.alerts.engine.index import Firing
from apps.alerts.engine.loader import Instruments, to_us
from apps.alerts.models import AlertRule
from apps.market.models import Instrument
from apps.realtime.events import room_group
from apps.rooms.models import Activity, RoomMember
from tests.events import published
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)


@pytest.fixture
def reliance(market_seed: None) -> Instrument:
    return Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")


def _rule(user: Any, instrument: Instrument, room: Any) -> AlertRule:
    return AlertRule.objects.create(
        user=user, instrument=instrument, name="RELIANCE breakout",
        conditions=[{"type": "price_above", "value": "2500"}], trigger_mode="every_time",
        channels=["websocket"], message="{symbol} at {price}", share_room=room,
    )


def _fire(rule: AlertRule) -> Any:
    at_us = to_us(T0)
    firing = Firing(rule.pk, rule.user_id, "RELIANCE", at_us, f"t:{at_us}", {"price": 2510.5})
    return firings_record([firing], Instruments())


def test_a_shared_firing_lands_in_the_rooms_activity_feed(
    user: Any, reliance: Instrument, django_capture_on_commit_callbacks: Any
) -> None:
    room: Any = RoomFactory(owner=user)
    rule = _rule(user, reliance, room)

    def fire_and_commit() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return _fire(rule)

    events, received = published([room_group(room.pk)], fire_and_commit)

    assert len(events) == 1
    activity = Activity.objects.get(room=room, verb="alert_fired")
    assert activity.actor == user
    assert activity.data["alert"] == {"id": rule.pk, "name": "RELIANCE breakout"}
    assert activity.data["symbol"] == "RELIANCE"
    assert activity.data["message"] == "RELIANCE at 2510.50"
    assert [e["type"] for e in received[room_group(room.pk)]] == ["room.activity"]
    assert received[room_group(room.pk)][0]["activity"]["verb"] == "alert_fired"


def test_no_activity_once_the_owner_left_the_room(user: Any, reliance: Instrument) -> None:
    room: Any = RoomFactory()
    RoomMember.objects.create(room=room, user=user, role="member")
    rule = _rule(user, reliance, room)
    RoomMember.objects.filter(room=room, user=user).delete()

    assert len(_fire(rule)) == 1  # the alert itself still fires
    assert not Activity.objects.filter(room=room).exists()


def test_the_api_accepts_only_a_room_the_user_belongs_to(
    user: Any, auth_client: APIClient, reliance: Instrument
) -> None:
    mine: Any = RoomFactory(owner=user)
    theirs: Any = RoomFactory(owner=UserFactory())
    body = {"stock": "RELIANCE", "conditions": [{"type": "price_above", "value": 2500}]}

    refused = auth_client.post("/api/v1/alerts/", {**body, "share_room": theirs.pk},
                               format="json")
    assert refused.status_code == 400
    assert "share_room" in str(refused.json())

    created = auth_client.post("/api/v1/alerts/", {**body, "share_room": mine.pk}, format="json")
    assert created.status_code == 201
    assert (created.json()["share_room"], created.json()["share_room_name"]) == (
        mine.pk, mine.name
    )
    rule_id = created.json()["id"]
    cleared = auth_client.patch(f"/api/v1/alerts/{rule_id}/", {"share_room": None},
                                format="json")
    assert cleared.status_code == 200
    assert cleared.json()["share_room"] is None
