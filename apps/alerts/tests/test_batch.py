"""The batch write of a tick batch's firings: a constant number of queries, every guarantee
of the per-firing path (exactly-once, cooldown, once → fired, expiry, fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.alerts.engine import runner
from apps.alerts.engine.firing import firings_record
from apps.alerts.engine.index import Firing
from apps.alerts.engine.loader import Instruments, to_us
from apps.alerts.engine.runner import AlertEngine
from apps.alerts.models import AlertEvent, AlertRule, RuleStatus
from apps.market.models import Instrument
from apps.notifications import tasks
from apps.notifications.delivery import deliveries_dispatch
from apps.notifications.models import (
    AttemptStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    Notification,
)
from apps.realtime import events as realtime_events
from apps.realtime.events import user_group
from tests.events import published
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)


@pytest.fixture
def instruments(market_seed: None) -> list[Instrument]:
    return list(Instrument.objects.filter(exchange__code="NSE").order_by("symbol")[:10])


@pytest.fixture
def cache(instruments: list[Instrument]) -> Instruments:
    found = Instruments()
    for instrument in instruments:  # the engine's cache is warm after its start
        found.id_of(instrument.symbol)
    return found


def _rule(user: Any, instrument: Instrument, **fields: Any) -> AlertRule:
    data: dict[str, Any] = {
        "name": f"{instrument.symbol} up", "conditions": [{"type": "price_above", "value": "1"}],
        "trigger_mode": "every_time", "channels": ["websocket", "email"],
        "message": "{symbol} at {price}", **fields,
    }
    return AlertRule.objects.create(user=user, instrument=instrument, **data)


def _firing(rule: AlertRule, symbol: str, at: datetime, key: str | None = None) -> Firing:
    at_us = to_us(at)
    return Firing(rule.pk, rule.user_id, symbol, at_us, key or f"t:{at_us}",
                  {"price": 1001.5})


def _world(n: int, instruments: list[Instrument]) -> list[Firing]:
    """`n` firings over 5 users with 2 rules each (an e-mail destination each)."""
    rules = []
    for u in range(5):
        user: Any = UserFactory()
        Destination.objects.create(user=user, kind="email", config={"address": user.email},
                                   verified_at=T0)
        for r in range(2):
            rules.append((_rule(user, instruments[(2 * u + r) % len(instruments)]),
                          instruments[(2 * u + r) % len(instruments)].symbol))
    return [_firing(rules[i % len(rules)][0], rules[i % len(rules)][1],
                    T0 + timedelta(seconds=i)) for i in range(n)]


@pytest.mark.parametrize("n", [5, 50])
def test_a_batch_is_written_with_a_bounded_number_of_queries(
    n: int, instruments: list[Instrument], cache: Instruments,
    django_assert_max_num_queries: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    firings = _world(n, instruments)
    with django_capture_on_commit_callbacks() as callbacks, \
            django_assert_max_num_queries(13):
        events = firings_record(firings, cache)
    assert len(events) == n
    assert AlertEvent.objects.count() == n
    assert Notification.objects.filter(source="alert").count() == n
    assert not AlertEvent.objects.filter(notification__isnull=True).exists()
    # in-app (created for each user on the way) and e-mail per notification
    assert Delivery.objects.count() == 2 * n
    assert sorted(set(Delivery.objects.values_list("destination__kind", flat=True))) == [
        "email", "in_app"]
    event = AlertEvent.objects.select_related("notification").get(pk=events[-1].pk)
    assert event.notification is not None
    assert event.notification.data["event_id"] == event.pk
    assert event.notification.body.endswith("at 1001.50")
    # after commit, whatever n: one enqueue (one broker message) and one push of every
    # alert.fired and notification.new (publish_batch: one Redis round trip)
    assert len(callbacks) == 2
    rule = AlertRule.objects.get(pk=firings[-1].rule_id)
    assert rule.last_fired_at == datetime.fromtimestamp(firings[-1].at_us / 1e6, tz=UTC)
    assert rule.status == RuleStatus.ACTIVE


def test_each_firing_is_pushed_with_its_notification_in_one_round_trip(
    instruments: list[Instrument], cache: Instruments, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    firings = _world(6, instruments)
    users = sorted({f.user_id for f in firings})

    def no_event_loop(events: Any) -> None:
        raise AssertionError("the batch took publish_many's path")

    monkeypatch.setattr(realtime_events, "_send_many", no_event_loop)

    def record() -> list[Any]:
        with django_capture_on_commit_callbacks() as callbacks:
            events = firings_record(firings, cache)
        for callback in callbacks:
            if getattr(callback, "__qualname__", "").startswith("publish_batch."):
                callback()  # the pushes, on the real channel layer
        return events

    events, received = published([user_group(u) for u in users], record)
    for user_id in users:
        frames = received[user_group(user_id)]
        mine = [e for e in events if e.rule.user_id == user_id]
        # alert.fired, then that firing's notification.new, firing after firing
        assert [f["type"] for f in frames] == ["alert.fired", "notification.new"] * len(mine)
        assert [f["event"]["id"] for f in frames[::2]] == [e.pk for e in mine]
        assert [f["notification"]["id"] for f in frames[1::2]] == [
            f["event"]["notification_id"] for f in frames[::2]]
        assert [f["unread_count"] for f in frames[1::2]] == list(range(1, len(mine) + 1))


def test_pushes_take_the_per_event_path_on_another_channel_layer(
    settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    sent: list[Any] = []
    monkeypatch.setattr(realtime_events, "_send_many", sent.extend)
    with django_capture_on_commit_callbacks(execute=True):
        realtime_events.publish_batch([("user.1", {"type": "alert.fired"})])
    assert sent == [("user.1", {"type": "alert.fired"})]


def test_a_batchs_deliveries_are_queued_as_one_message_and_each_is_sent_once(
    instruments: list[Instrument], cache: Instruments, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    messages: list[list[int]] = []
    singles: list[int] = []
    monkeypatch.setattr(tasks.deliver_many, "apply_async",
                        lambda args, **kw: messages.append(list(args[0])))
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: singles.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        firings_record(_world(10, instruments), cache)
    assert singles == []
    assert len(messages) == 1
    [ids] = messages
    assert sorted(ids) == sorted(Delivery.objects.values_list("pk", flat=True))  # 10 + 10
    in_app = set(Delivery.objects.filter(destination__kind="in_app").values_list("pk", flat=True))

    # The worker: in-app ones sent there, the e-mails queued one task each; a replayed
    # message sends nothing twice (each delivery is claimed on its own).
    assert deliveries_dispatch(delivery_ids=ids, worker="w1") == 10
    assert deliveries_dispatch(delivery_ids=ids, worker="w2") == 0
    # the e-mails queued by each run (a duplicate task is harmless: the claim decides)
    assert sorted(singles) == sorted(list(set(ids) - in_app) * 2)
    assert set(Delivery.objects.filter(pk__in=in_app).values_list("status", flat=True)) == {
        DeliveryStatus.DELIVERED}
    assert DeliveryAttempt.objects.filter(status=AttemptStatus.DELIVERED).count() == 10
    assert set(Delivery.objects.exclude(pk__in=in_app).values_list("status", flat=True)) == {
        DeliveryStatus.PENDING}


def test_a_repeated_batch_writes_nothing_new(
    instruments: list[Instrument], cache: Instruments,
) -> None:
    firings = _world(20, instruments)
    assert len(firings_record(firings, cache)) == 20
    assert firings_record(firings, cache) == []
    assert AlertEvent.objects.count() == 20
    assert Notification.objects.count() == 20
    assert Delivery.objects.count() == 40


def test_every_time_cooldown_holds_within_the_batch(
    user: Any, instruments: list[Instrument], cache: Instruments,
) -> None:
    instrument = instruments[0]
    rule = _rule(user, instrument, cooldown_seconds=60, channels=["websocket"])
    firings = [_firing(rule, instrument.symbol, T0 + timedelta(seconds=s))
               for s in (0, 10, 59, 61)]
    events = firings_record(firings, cache)
    assert [e.fired_at for e in events] == [T0, T0 + timedelta(seconds=61)]
    # and against stored events, in the next batch
    assert firings_record([_firing(rule, instrument.symbol, T0 + timedelta(seconds=90))],
                          cache) == []
    assert AlertEvent.objects.filter(rule=rule).count() == 2


def test_a_once_rule_firing_twice_in_a_batch_records_one_event(
    user: Any, instruments: list[Instrument], cache: Instruments,
) -> None:
    instrument = instruments[0]
    rule = _rule(user, instrument, trigger_mode="once")
    firings = [_firing(rule, instrument.symbol, T0 + timedelta(seconds=s), "once")
               for s in (1, 2)]
    events = firings_record(firings, cache)
    assert len(events) == 1
    assert AlertEvent.objects.filter(rule=rule).count() == 1
    rule.refresh_from_db()
    assert rule.status == RuleStatus.FIRED
    assert rule.last_fired_at == T0 + timedelta(seconds=1)
    assert Notification.objects.filter(user=user).count() == 1


def test_expired_and_inactive_rules_do_not_fire(
    user: Any, instruments: list[Instrument], cache: Instruments,
) -> None:
    expired = _rule(user, instruments[0], expires_at=T0)
    paused = _rule(user, instruments[1], status=RuleStatus.PAUSED)
    live = _rule(user, instruments[2])
    events = firings_record([
        _firing(expired, instruments[0].symbol, T0 + timedelta(seconds=1)),
        _firing(paused, instruments[1].symbol, T0 + timedelta(seconds=1)),
        _firing(live, instruments[2].symbol, T0 + timedelta(seconds=1)),
    ], cache)
    assert [e.rule_id for e in events] == [live.pk]
    assert AlertRule.objects.get(pk=expired.pk).status == RuleStatus.EXPIRED
    assert AlertRule.objects.get(pk=paused.pk).status == RuleStatus.PAUSED


class _Index:
    def __init__(self, firings: list[Firing]) -> None:
        self.firings = firings
        self.expired: list[int] = []

    def process(self, *args: Any) -> None:
        pass

    def drain(self) -> list[Firing]:
        fired, self.firings = self.firings, []
        return fired


def test_a_failing_batch_write_falls_back_to_one_firing_at_a_time(
    instruments: list[Instrument], cache: Instruments, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    firings = _world(6, instruments)
    calls: list[int] = []

    def failing(batch: list[Firing], found: Instruments) -> Any:
        calls.append(len(batch))
        if len(batch) > 1:
            firings_record(batch, found)  # writes, then fails: its savepoint rolls back
            raise RuntimeError("boom")
        if batch[0] is firings[2]:
            raise RuntimeError("this one is broken")
        return firings_record(batch, found)

    monkeypatch.setattr("apps.alerts.engine.firing.firings_record", failing)
    monkeypatch.setattr(runner, "firings_record", failing)
    engine = AlertEngine(consumer="fallback")
    engine.index = _Index(firings)  # type: ignore[assignment]
    engine.instruments = cache
    assert engine.evaluate([]) == 5
    assert calls == [6, 1, 1, 1, 1, 1, 1]
    assert AlertEvent.objects.count() == 5
    assert Notification.objects.count() == 5
    assert "recording them one by one" in caplog.text
