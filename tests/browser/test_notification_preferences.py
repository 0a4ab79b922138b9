"""Real-browser tests of the notification centre's delivery preferences: quiet hours and the
daily digest set on the page are kept and change what `notification_send` does; the API's
field errors show next to the field; per-destination priorities decide which destinations
get a delivery at all. The database is checked from the test, as in the other browser tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.notifications.models import (
    Delivery,
    DeliveryStatus,
    Destination,
    Notification,
    Preferences,
)
from apps.notifications.services import notification_send
from tests.browser.helpers import sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Nifty-Fifty-2025!"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
ZONE = "Europe/London"  # not IST: the page must show the user's own zone


def _send(**kwargs: Any) -> Notification:
    """Call the service as a worker would, off this thread: Playwright's event loop runs
    here, and `events.publish` cannot reach the channel layer from an event-loop thread."""

    def call() -> Notification:
        try:
            return notification_send(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def _slack(user: User) -> Destination:
    return Destination.objects.create(
        user=user, kind="slack", label="Team Slack", config={"url": SLACK_URL},
        verified_at=timezone.now(),
    )


def _delivery(notification: Notification, destination: Destination) -> Delivery:
    return Delivery.objects.get(notification=notification, destination=destination)


def _open_centre(page: Page, base: str, user: User) -> None:
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/notifications/")
    expect(page.get_by_role("heading", name="Delivery preferences")).to_be_visible()


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("[data-prefs-status]")).to_have_text("Preferences saved.")


def test_quiet_hours_and_digest_are_kept_and_hold_deliveries(
    live_server: Any, page: Page, screenshot: Any
) -> None:
    user = verified_user("meera@example.in", PASSWORD, time_zone=ZONE)
    slack = _slack(user)
    base = live_server.url
    _open_centre(page, base, user)
    expect(page.locator("[data-time-zone]")).to_have_text(ZONE)

    # A quiet period around "now" in the user's zone (it may cross midnight: the policy
    # handles overnight periods, and the expected end is then tomorrow).
    now = datetime.now(ZoneInfo(ZONE))
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    quiet_end = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.get_by_label("Hold notifications during quiet hours").check()
    page.get_by_label("Quiet from").fill(start)
    page.get_by_label("Quiet until").fill(quiet_end.strftime("%H:%M"))
    page.get_by_label("Send low-priority notifications as one daily digest").uncheck()
    page.get_by_label("Digest time").select_option(label="07:00")
    _save(page)
    screenshot(page, "notification-preferences")

    page.reload()
    expect(page.get_by_label("Hold notifications during quiet hours")).to_be_checked()
    expect(page.get_by_label("Quiet from")).to_have_value(start)
    expect(page.get_by_label("Quiet until")).to_have_value(quiet_end.strftime("%H:%M"))
    expect(page.get_by_label("Only outside market hours")).not_to_be_checked()
    expect(page.get_by_label("Send low-priority notifications as one daily digest")) \
        .not_to_be_checked()
    expect(page.get_by_label("Digest time")).to_have_value("7")
    prefs = Preferences.objects.get(user=user)
    assert prefs.quiet_hours_enabled
    assert not prefs.digest_low
    assert prefs.digest_hour == 7
    assert prefs.quiet_start is not None
    assert prefs.quiet_start.strftime("%H:%M") == start

    # During quiet hours a Slack message waits for their end: not due now, nothing tried.
    normal = _send(user=user, message="TCS fell 3%", channels=["slack"], priority="normal")
    held = _delivery(normal, slack)
    assert held.status == DeliveryStatus.PENDING
    assert held.next_attempt_at == quiet_end
    assert held.next_attempt_at > timezone.now()
    assert held.attempts == 0
    assert held.finished_at is None
    # With the digest off, low priority waits for the end of quiet hours too.
    low = _send(user=user, message="INFY volume up", channels=["slack"], priority="low")
    assert _delivery(low, slack).status == DeliveryStatus.PENDING
    assert _delivery(low, slack).next_attempt_at == quiet_end

    # Digest back on (and "only outside market hours"): low priority is held for the digest.
    page.get_by_label("Send low-priority notifications as one daily digest").check()
    page.get_by_label("Only outside market hours").check()
    _save(page)
    page.reload()
    expect(page.get_by_label("Send low-priority notifications as one daily digest")).to_be_checked()
    expect(page.get_by_label("Only outside market hours")).to_be_checked()
    low = _send(user=user, message="HDFC dividend", channels=["slack"], priority="low")
    assert _delivery(low, slack).status == DeliveryStatus.HELD


def test_field_errors_from_the_api_show_next_to_the_field_on_a_phone(
    live_server: Any, phone_page: Page, screenshot: Any
) -> None:
    page = phone_page
    user = verified_user("kiran@example.in", PASSWORD)
    slack = _slack(user)
    base = live_server.url
    _open_centre(page, base, user)
    expect(page.locator("[data-time-zone]")).to_have_text("Asia/Kolkata")
    priorities = page.locator(f'[data-destination="{slack.pk}"]').get_by_role("group")
    for name in ("Low", "Normal", "High"):
        expect(priorities.get_by_label(name)).to_be_visible()

    page.get_by_label("Hold notifications during quiet hours").check()
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("22:00")
    page.get_by_role("button", name="Save preferences").click()
    end_error = page.locator("#notif-quiet-end-error")
    expect(end_error).to_be_visible()
    expect(end_error).to_contain_text("different time")
    expect(page.get_by_label("Quiet until")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Quiet until")).to_be_focused()
    expect(page.locator("[data-prefs-status]")).to_have_text("")
    screenshot(page, "notification-preferences-error-phone")
    assert not Preferences.objects.get(user=user).quiet_hours_enabled

    # Quiet hours without a start: the service's error, next to "Quiet from".
    page.get_by_label("Quiet from").fill("")
    page.get_by_label("Quiet until").fill("")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#notif-quiet-start-error")).to_contain_text("start and an end")
    expect(end_error).to_be_hidden()
    expect(page.get_by_label("Quiet until")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("06:30")
    _save(page)
    expect(page.locator("#notif-quiet-start-error")).to_be_hidden()
    expect(page.locator("[data-prefs-error]")).to_be_hidden()
    prefs = Preferences.objects.get(user=user)
    assert prefs.quiet_hours_enabled
    assert prefs.quiet_end is not None
    assert prefs.quiet_end.strftime("%H:%M") == "06:30"

    # Fits a 375 px screen: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_destination_priorities_decide_which_destinations_get_a_delivery(
    live_server: Any, page: Page
) -> None:
    user = verified_user("arjun@example.in", PASSWORD)
    slack = _slack(user)
    base = live_server.url
    _open_centre(page, base, user)

    row = page.locator(f'[data-destination="{slack.pk}"]')
    group = row.get_by_role("group", name="Priorities sent to Team Slack")
    for name in ("Low", "Normal", "High"):
        expect(group.get_by_label(name)).to_be_checked()
    group.get_by_label("Normal").uncheck()
    expect(row.get_by_role("status")).to_have_text("“Team Slack” now receives: Low, High.")
    slack.refresh_from_db()
    assert slack.priorities == ["low", "high"]

    page.reload()
    group = page.locator(f'[data-destination="{slack.pk}"]').get_by_role("group")
    expect(group.get_by_label("Normal")).not_to_be_checked()
    expect(group.get_by_label("High")).to_be_checked()

    normal = _send(user=user, message="RELIANCE crossed ₹2,950", priority="normal")
    assert not Delivery.objects.filter(notification=normal, destination=slack).exists()
    assert Delivery.objects.filter(notification=normal, destination__kind="in_app").exists()
    low = _send(user=user, message="WIPRO volume up", priority="low")
    assert _delivery(low, slack).status == DeliveryStatus.HELD  # still takes low (digest)
