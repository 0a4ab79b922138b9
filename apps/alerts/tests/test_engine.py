"""The engine against real PostgreSQL and Redis: rule changes, stale feed, outbox, idempotency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.alerts import services
from apps.alerts.engine import runner
from apps.alerts.engine.firing import firing_record
from apps.alerts.engine.index import Firing
from apps.alerts.engine.loader import Instruments, to_us
from apps.alerts.engine.runner import AlertEngine
from apps.alerts.models import AlertEvent, AlertRule, RuleStatus
from apps.market import ingest
from apps.market.models import DataSource, Instrument
from apps.market.providers.base import Quote
from apps.notifications.models import Delivery, Destination, Notification
from apps.watchlists.services import watchlist_item_add
from tests.factories import WatchlistFactory

IST = ZoneInfo("Asia/Kolkata")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def queued(market_seed: None, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ingest._instrument_ids.clear()
    monkeypatch.setattr(runner, "_feed_stale", lambda: False)
    sent: list[int] = []
    from apps.notifications import tasks

    monkeypatch.setattr(tasks.deliver, "apply_async",
                        lambda args, **kw: sent.append(args[0]))
    # several due deliveries of one write travel as one message
    monkeypatch.setattr(tasks.deliver_many, "apply_async",
                        lambda args, **kw: sent.extend(args[0]))
    return sent


def quote(symbol: str, price: str, second: int, minute: int = 0) -> Quote:
    p = Decimal(price)
    return Quote(symbol, "NSE", p, p, p, p, Decimal("2400"), 1000 + second,
                 datetime(2026, 3, 2, 11, minute, second, tzinfo=IST), True)


def ingest_batch(*quotes: Quote) -> None:
    ingest.quotes_ingest(batch=list(quotes), source=DataSource.SIMULATED)


def until(check: Callable[[], bool], seconds: float = 1.0) -> float:
    """Wait for `check`; returns the seconds it took (fails past `seconds`)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds:.1f} s")
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture
def engine_thread() -> Iterator[AlertEngine]:
    engine = AlertEngine(consumer="test", block_ms=50)
    stop = threading.Event()
    started = threading.Event()
    original = engine.start

    def start() -> None:
        original()
        started.set()

    engine.start = start  # type: ignore[method-assign]
    thread = threading.Thread(target=engine.run, args=(stop,), daemon=True)
    thread.start()
    assert started.wait(10)
    yield engine
    stop.set()
    thread.join(10)
    connections.close_all()


def _seed_rule(user: Any, **data: Any) -> AlertRule:
    body = {"symbol": "RELIANCE", "conditions": [{"type": "crossing_up", "value": "2500"}],
            "channels": ["websocket"], **data}
    return services.alert_create(by=user, data=body)


def test_index_follows_create_edit_pause_resume_delete_within_a_second(
    user: Any, engine_thread: AlertEngine
) -> None:
    index = engine_thread.index
    rule = _seed_rule(user)
    until(lambda: rule.pk in engine_thread.index.rules)
    services.alert_update(rule_id=rule.pk, by=user, data={
        "conditions": [{"type": "crossing_up", "value": "2700"}]})
    until(lambda: engine_thread.index.rules.get(rule.pk) is not None and engine_thread.index
          .rules[rule.pk].spec.conditions[0]["value"] == "2700")
    services.alert_pause(rule_id=rule.pk, by=user)
    until(lambda: rule.pk not in engine_thread.index.rules)
    services.alert_resume(rule_id=rule.pk, by=user)
    until(lambda: rule.pk in engine_thread.index.rules)
    services.alert_delete(rule_id=rule.pk, by=user)
    until(lambda: rule.pk not in engine_thread.index.rules)
    assert index is engine_thread.index  # followed incrementally, never rebuilt


def test_watchlist_rule_follows_items_added_later(user: Any, engine_thread: AlertEngine) -> None:
    watchlist: Any = WatchlistFactory(owner=user)
    rule = services.alert_create(by=user, data={
        "watchlist": watchlist.pk, "channels": ["websocket"],
        "conditions": [{"type": "crossing_up", "value": "100"}]})
    until(lambda: rule.pk in engine_thread.index.rules)
    assert engine_thread.index.rules[rule.pk].instances == []
    watchlist_item_add(watchlist_id=watchlist.pk, symbol="TCS", by=user)
    until(lambda: [i.symbol for i in getattr(engine_thread.index.rules.get(rule.pk),
                                             "instances", [])] == ["TCS"], seconds=2.5)


def test_crossing_fires_once_through_stream_engine_and_outbox(
    user: Any, engine_thread: AlertEngine, queued: list[int]
) -> None:
    Destination.objects.create(user=user, kind="email", config={"email": user.email},
                               verified_at=datetime(2026, 1, 1, tzinfo=IST))
    ingest_batch(quote("RELIANCE", "2450", 1))
    rule = _seed_rule(user, channels=["websocket", "email", "sms"], message="{symbol} {price}")
    until(lambda: rule.pk in engine_thread.index.rules)
    ingest_batch(quote("RELIANCE", "2490", 2), quote("RELIANCE", "2510.05", 3))
    ingest_batch(quote("RELIANCE", "2510.05", 3))  # a repeated tick
    until(lambda: AlertEvent.objects.filter(rule=rule).exists(), seconds=3)
    ingest_batch(quote("RELIANCE", "2400", 4), quote("RELIANCE", "2600", 5))
    time.sleep(0.5)
    event = AlertEvent.objects.get(rule=rule)
    assert event.values["price"] == 2510.05
    assert event.crossing_key == "once"
    rule.refresh_from_db()
    assert rule.status == RuleStatus.FIRED
    notification = Notification.objects.get(pk=event.notification_id or 0)
    assert notification.body == "RELIANCE 2510.05"
    kinds = sorted(Delivery.objects.filter(notification=notification)
                   .values_list("destination__kind", flat=True))
    assert kinds == ["email", "in_app"]  # no verified SMS destination: nothing to send to
    assert len(queued) == 2  # both deliveries queued after commit


def test_stale_feed_pauses_evaluation_and_resumes_cleanly(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_batch(quote("RELIANCE", "2450", 1))
    rule = _seed_rule(user, trigger_mode="every_time")
    engine = AlertEngine(consumer="stale", block_ms=10)
    engine.start()
    monkeypatch.setattr(runner, "_feed_stale", lambda: True)
    engine._next_sweep = 0
    ingest_batch(quote("RELIANCE", "2550", 2))
    engine.run_once()
    assert engine.skipped_stale == 1
    assert not AlertEvent.objects.exists()
    monkeypatch.setattr(runner, "_feed_stale", lambda: False)
    engine._next_sweep = 0
    ingest_batch(quote("RELIANCE", "2560", 3))
    engine.run_once()
    # The fresh tick is compared with the last fresh price (2450): the crossing is not lost,
    # and it is recorded at the fresh tick's price and time.
    event = AlertEvent.objects.get(rule=rule)
    assert event.values["price"] == 2560.0
    assert event.fired_at == datetime(2026, 3, 2, 11, 0, 3, tzinfo=IST)


def test_unique_constraint_blocks_a_second_recording_of_the_same_crossing(user: Any) -> None:
    rule = _seed_rule(user, trigger_mode="every_time")
    at = to_us(datetime(2026, 3, 2, 11, 0, 3, tzinfo=IST))
    firing = Firing(rule.pk, user.pk, "RELIANCE", at, f"t:{at}", {"price": 2510.0})
    instruments = Instruments()
    assert firing_record(firing, instruments) is not None
    assert firing_record(firing, instruments) is None
    assert AlertEvent.objects.filter(rule=rule).count() == 1
    assert Notification.objects.filter(user=user).count() == 1


def test_two_engines_evaluating_the_same_batch_record_it_once(user: Any) -> None:
    ingest_batch(quote("RELIANCE", "2450", 1))
    rule = _seed_rule(user, trigger_mode="once_per_bar", bar_timeframe="5m")
    first, second = AlertEngine(consumer="a"), AlertEngine(consumer="b", shards=1)
    first.start()
    second.group = "alerts-other"  # a second engine with its own group sees every batch too
    second.start()
    ingest_batch(quote("RELIANCE", "2550", 2))
    first.run_once()
    second.run_once()
    assert AlertEvent.objects.filter(rule=rule).count() == 1
    assert Notification.objects.filter(user=user).count() == 1


def test_shards_split_instruments_between_engines(user: Any) -> None:
    tcs = services.alert_create(by=user, data={
        "symbol": "TCS", "conditions": [{"type": "price_above", "value": "1"}]})
    reliance = _seed_rule(user)
    owners: dict[int, list[int]] = {}
    for shard in range(3):
        engine = AlertEngine(shard=shard, shards=3, consumer=f"s{shard}")
        engine.start()
        for rule_id in engine.index.rules:
            owners.setdefault(rule_id, []).append(shard)
    assert sorted(owners) == sorted([tcs.pk, reliance.pk])
    assert all(len(shards) == 1 for shards in owners.values())


def test_api_created_rule_expiring_is_marked_expired(user: Any) -> None:
    client = APIClient()
    client.force_authenticate(user)
    rule_id = client.post("/api/v1/alerts/", {
        "stock": "TCS", "conditions": [{"type": "price_above", "value": 1}],
        "expires_at": "2099-01-01T00:00:00Z"}, format="json").json()["id"]
    AlertRule.objects.filter(pk=rule_id).update(expires_at=datetime(2020, 1, 1, tzinfo=IST))
    engine = AlertEngine(consumer="x", block_ms=10)
    engine.start()
    engine._next_sweep = 0
    engine.run_once()
    assert AlertRule.objects.get(pk=rule_id).status == RuleStatus.EXPIRED
    assert rule_id not in engine.index.rules
    assert Instrument.objects.filter(symbol="TCS").exists()
