"""Real-browser test of the notification centre against a real WebSocket server: a
notification sent to a signed-in user shows up in the header badge and the centre without
a reload, and marking all read clears the badge."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from apps.notifications.services import notification_send
from tests.browser.helpers import sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Nifty-Fifty-2025!"
# The first socket of a fresh ASGI server can take a reconnect (1 s back-off) on a busy machine.
LIVE_TIMEOUT = 20_000


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    """The socket's hello reports the feed of a seeded exchange; an earlier transactional
    test may have flushed the seed."""


def _send(**kwargs: Any) -> None:
    """Call the service as a worker would, off this thread: Playwright's event loop runs
    here, and `events.publish` cannot reach the channel layer from an event-loop thread."""

    def call() -> None:
        try:
            notification_send(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call).result()


def test_notification_send_updates_badge_and_centre_live(
    live_server: Any, ws_server: str, page: Page, screenshot: Any
) -> None:
    user = verified_user("asha@example.in", PASSWORD, display_name="Asha")
    base = live_server.url
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/notifications/")
    expect(page.locator("[data-rt-status]")).to_have_attribute("data-state", "live",
                                                                   timeout=LIVE_TIMEOUT)
    badge = page.locator("[data-notif-badge]")
    expect(badge).to_be_hidden()

    _send(user=user, title="RELIANCE crossed ₹2,950",
                      message="RELIANCE is at ₹2,951.20", channels=["websocket"],
                      priority="high", source="alert")

    expect(badge).to_be_visible()
    expect(badge.locator("[data-notif-count]")).to_have_text("1")
    entry = page.locator("[data-notif-list] [data-notification]").first
    expect(entry).to_contain_text("RELIANCE crossed ₹2,950")
    expect(entry).to_have_class(re.compile("is-unread"))
    screenshot(page, "notifications-live")

    page.get_by_role("button", name="Mark all read").click()
    expect(badge).to_be_hidden()


def test_badge_is_live_on_other_pages_too(
    live_server: Any, ws_server: str, page: Page
) -> None:
    user = verified_user("ravi@example.in", PASSWORD)
    sign_in(page, live_server.url, user.email, PASSWORD)
    page.goto(f"{live_server.url}/profile/")
    expect(page.locator("[data-rt-status]")).to_have_attribute("data-state", "live",
                                                                   timeout=LIVE_TIMEOUT)
    _send(user=user, message="TCS fell 3%")
    _send(user=user, message="INFY up 2%")
    expect(page.locator("[data-notif-badge] [data-notif-count]")).to_have_text("2")
