"""The outbox: one transaction writes the notification and its deliveries; after commit the
user's sockets hear `notification.new` and the deliveries are queued; claims are atomic."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from apps.notifications import delivery as worker
from apps.notifications.digest import digest_send, digests_send_due
from apps.notifications.models import Delivery, DeliveryStatus, Notification, Preferences
from apps.notifications.policy import quiet_until
from apps.notifications.services import notification_send
from apps.notifications.tests.conftest import PUBLIC_HOOK, make_destination, published
from apps.realtime.events import user_group

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.django_db
def test_seed_call_writes_notification_and_deliveries_and_publishes_after_commit(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_destination(user, "email", {"address": user.email})
    make_destination(user, "sms", {"phone": "+919876543210"})
    make_destination(user, "slack", {"url": "https://hooks.slack.com/services/T/B/X"})

    def send() -> Notification:
        with django_capture_on_commit_callbacks() as callbacks:
            n = notification_send(user=user, message="RELIANCE crossed 2500",
                                  channels=["websocket", "email", "sms"], priority="high")
        for callback in callbacks:
            if getattr(callback, "__qualname__", "").startswith("publish_many."):
                callback()  # only the publish; deliveries are checked below
        return n

    notification, events = published([user_group(user.pk)], send)
    kinds = sorted(notification.deliveries.values_list("destination__kind", flat=True))
    assert kinds == ["email", "in_app", "sms"]  # slack was not asked for
    assert set(notification.deliveries.values_list("status", flat=True)) == {"pending"}
    [event] = events[user_group(user.pk)]
    assert event["type"] == "notification.new"
    assert event["notification"]["id"] == notification.pk
    assert event["unread_count"] == 1


@pytest.mark.django_db
def test_nothing_is_published_or_queued_when_the_transaction_rolls_back(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                notification_send(user=user, message="x")
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_unverified_disabled_and_unwanted_priorities_receive_nothing(user: Any) -> None:
    make_destination(user, "sms", {"phone": "+919876543210"}, verified=False)
    make_destination(user, "slack", {"url": "https://hooks.slack.com/services/T/B/X"},
                     disabled=True)
    make_destination(user, "discord", {"url": "https://discord.com/api/webhooks/1/a"},
                     priorities=["high"])
    notification = notification_send(user=user, message="x", priority="normal")
    assert list(notification.deliveries.values_list("destination__kind", flat=True)) == [
        "in_app"
    ]


@pytest.mark.django_db
def test_unknown_channel_and_priority_are_refused(user: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        notification_send(user=user, message="x", channels=["pigeon"])
    assert "channels" in info.value.message_dict
    with pytest.raises(ValidationError):
        notification_send(user=user, message="x", priority="urgent")


@pytest.mark.django_db
def test_sent_deliveries_are_processed_by_the_worker_after_commit(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_send(user=user, message="INFY up 2%", channels=["in_app"])
    delivery = notification.deliveries.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.count() == 1


@pytest.mark.django_db
def test_a_delivery_is_claimed_once_even_if_queued_twice(user: Any) -> None:
    notification = notification_send(user=user, message="x", channels=["in_app"])
    delivery = notification.deliveries.get()
    assert worker.delivery_claim(delivery_id=delivery.pk, worker="a")
    assert not worker.delivery_claim(delivery_id=delivery.pk, worker="b")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_by) == ("sending", "a")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_from_two_connections_let_exactly_one_win(user: Any) -> None:
    notification = notification_send(user=user, message="x", channels=["in_app"])
    delivery_id = notification.deliveries.get().pk
    # Committed, so the eager worker already sent it: make it pending again.
    Delivery.objects.filter(pk=delivery_id).update(status="pending")
    barrier = threading.Barrier(2)
    wins: list[bool] = []

    def claim(name: str) -> None:
        try:
            barrier.wait()
            wins.append(worker.delivery_claim(delivery_id=delivery_id, worker=name))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, True]


@pytest.mark.django_db
def test_requeue_hands_out_deliveries_whose_worker_died(user: Any) -> None:
    make_destination(user, "webhook", {"url": PUBLIC_HOOK})
    notification = notification_send(user=user, message="x", channels=["in_app"])
    delivery = notification.deliveries.get()
    worker.delivery_claim(delivery_id=delivery.pk, worker="killed")
    # Within the lease it stays with its worker.
    worker.deliveries_requeue()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING
    # Past the lease it is re-queued and (eager tasks) delivered exactly once.
    later = timezone.now() + timedelta(seconds=400)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now() - timedelta(
        seconds=400))
    assert worker.deliveries_requeue(now=later - timedelta(seconds=400)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempt_log.count() == 1


# --- quiet hours, market hours, digest -------------------------------------------------------


def _prefs(user: Any, **fields: Any) -> Preferences:
    prefs, _ = Preferences.objects.update_or_create(user=user, defaults=fields)
    return prefs


@pytest.mark.django_db
def test_quiet_hours_in_the_users_time_zone_postpone_to_their_end(user: Any) -> None:
    user.time_zone = "Europe/London"
    prefs = _prefs(user, quiet_hours_enabled=True, quiet_start=time(22), quiet_end=time(7))
    london = ZoneInfo("Europe/London")
    at = datetime(2026, 3, 3, 23, 30, tzinfo=london)  # Tuesday night in London
    assert quiet_until(prefs=prefs, time_zone=user.time_zone, at=at) == datetime(
        2026, 3, 4, 7, 0, tzinfo=london)
    assert quiet_until(prefs=prefs, time_zone=user.time_zone,
                       at=datetime(2026, 3, 4, 12, 0, tzinfo=london)) is None


@pytest.mark.django_db
def test_quiet_hours_only_outside_market_hours(user: Any, market_seed: None) -> None:
    prefs = _prefs(user, quiet_hours_enabled=True, quiet_start=time(8), quiet_end=time(20),
                   quiet_outside_market_only=True)
    trading = datetime(2026, 3, 4, 10, 0, tzinfo=IST)  # a Wednesday, market open
    assert quiet_until(prefs=prefs, time_zone="Asia/Kolkata", at=trading) is None
    early = datetime(2026, 3, 4, 8, 30, tzinfo=IST)  # quiet, market not yet open
    assert quiet_until(prefs=prefs, time_zone="Asia/Kolkata", at=early) == datetime(
        2026, 3, 4, 9, 15, tzinfo=IST)
    evening = datetime(2026, 3, 4, 16, 0, tzinfo=IST)
    assert quiet_until(prefs=prefs, time_zone="Asia/Kolkata", at=evening) == datetime(
        2026, 3, 4, 20, 0, tzinfo=IST)


@pytest.mark.django_db
def test_quiet_hours_hold_external_deliveries_but_not_in_app(user: Any) -> None:
    now_local = timezone.now().astimezone(IST)
    start = (now_local - timedelta(hours=1)).time().replace(microsecond=0)
    end = (now_local + timedelta(hours=1)).time().replace(microsecond=0)
    # Near midnight the window is an overnight one (start > end), which quiet hours support.
    _prefs(user, quiet_hours_enabled=True, quiet_start=start, quiet_end=end)
    make_destination(user, "sms", {"phone": "+919876543210"})
    notification = notification_send(user=user, message="x", priority="high")
    sms = notification.deliveries.get(destination__kind="sms")
    in_app = notification.deliveries.get(destination__kind="in_app")
    assert sms.next_attempt_at > timezone.now() + timedelta(minutes=50)
    assert in_app.next_attempt_at <= timezone.now()


@pytest.mark.django_db
def test_low_priority_waits_for_the_daily_digest(user: Any) -> None:
    destination = make_destination(user, "slack", {"url": "https://hooks.slack.com/services/T/B/X"})
    _prefs(user, digest_low=True, digest_hour=18)
    first = notification_send(user=user, title="TCS volume spike", message="a", priority="low")
    notification_send(user=user, title="INFY near 52w high", message="b", priority="low")
    held = Delivery.objects.filter(destination=destination)
    assert set(held.values_list("status", flat=True)) == {"held"}
    assert first.deliveries.get(destination__kind="in_app").status == "pending"

    morning = datetime(2026, 3, 4, 9, 0, tzinfo=IST)
    assert digests_send_due(now=morning) == 0  # before the user's digest hour
    evening = datetime(2026, 3, 4, 18, 5, tzinfo=IST)
    assert digests_send_due(now=evening) == 1
    digest = Notification.objects.get(source="digest")
    assert "TCS volume spike" in digest.body
    assert "INFY near 52w high" in digest.body
    assert digest.deliveries.get().destination == destination
    assert set(held.filter(notification__source="alert").values_list("status", flat=True)) <= {
        "digested"}
    assert digests_send_due(now=evening + timedelta(hours=1)) == 0  # once a day
    assert digest_send(user=user) is None


@pytest.mark.django_db
def test_low_priority_goes_out_at_once_when_the_digest_is_off(user: Any) -> None:
    make_destination(user, "slack", {"url": "https://hooks.slack.com/services/T/B/X"})
    _prefs(user, digest_low=False)
    notification = notification_send(user=user, message="x", priority="low")
    assert notification.deliveries.get(destination__kind="slack").status == "pending"


@pytest.mark.django_db
def test_send_many_matches_each_users_destinations_with_a_constant_number_of_queries(
    user: Any, other_user: Any,
    django_assert_max_num_queries: Any, django_capture_on_commit_callbacks: Any,
) -> None:
    from apps.notifications import services

    make_destination(user, "email", {"address": user.email})
    make_destination(other_user, "sms", {"phone": "+919876543210"}, priorities=["high"])
    notification_send(user=user, message="earlier", channels=["in_app"])  # 1 unread already
    items = [
        services.NotificationRequest(user=user, message="a", channels=["websocket", "email"]),
        services.NotificationRequest(user=other_user, message="b", channels=["sms", "in_app"]),
        services.NotificationRequest(user=user, message="c", priority="low"),
        services.NotificationRequest(user=other_user, message="d", channels=["sms"],
                                     priority="high"),
    ]

    def send() -> tuple[list[Notification], list[Any]]:
        with django_capture_on_commit_callbacks() as callbacks, \
                django_assert_max_num_queries(10):
            notifications = services.notifications_send_many(items)
        for callback in callbacks:
            if getattr(callback, "__qualname__", "").startswith("publish_many."):
                callback()  # the pushes, on the real channel layer; deliveries checked below
        return notifications, callbacks

    mine, theirs = user_group(user.pk), user_group(other_user.pk)
    (notifications, callbacks), events = published([mine, theirs], send)
    assert [n.body for n in notifications] == ["a", "b", "c", "d"]
    kinds = [sorted(n.deliveries.values_list("destination__kind", "status")) for n in notifications]
    assert kinds == [
        [("email", "pending"), ("in_app", "pending")],
        [("in_app", "pending")],  # the SMS destination takes high priority only
        [("email", "held"), ("in_app", "pending")],  # low: held for the digest
        [("sms", "pending")],
    ]
    # Each push carries the unread count as it was once that notification was written.
    def pushed(group: str) -> list[tuple[str, int]]:
        return [(e["notification"]["body"], e["unread_count"]) for e in events[group]]

    assert pushed(mine) == [("a", 2), ("c", 3)]
    assert pushed(theirs) == [("b", 1), ("d", 2)]
    # one enqueue for all due deliveries, one push of every notification.new
    assert len(callbacks) == 2
