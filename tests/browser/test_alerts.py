"""Real-browser test of the alerts page: create an alert in the UI, move the price across it
with the engine running, and see the firing (page + header badge) without a reload."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from apps.alerts.engine import runner
from apps.alerts.engine.runner import AlertEngine
from apps.market import ingest
from apps.market.models import DataSource
from apps.market.providers.base import Quote
from tests.browser.helpers import sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Nifty-Fifty-2025!"
LIVE_TIMEOUT = 20_000
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def _market(market_seed: None, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    db = os.environ.get("TEST_REDIS_DB", "15")
    settings.ALERTS_CHANNEL = f"stocksense-test-{db}:alerts:rules"
    settings.ALERTS_STREAM = f"stocksense-test-{db}:alerts:ticks"
    ingest._instrument_ids.clear()
    monkeypatch.setattr(runner, "_feed_stale", lambda: False)
    from apps.notifications import tasks

    monkeypatch.setattr(tasks.deliver, "apply_async", lambda *a, **kw: None)


def _off_thread(fn: Any) -> None:
    """Playwright's event loop runs on this thread; database and channel-layer work runs
    on another, as a worker's would."""

    def call() -> None:
        try:
            fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call).result()


def _ingest(price: str, second: int) -> None:
    p = Decimal(price)
    quote = Quote("TCS", "NSE", p, p, p, p, Decimal("3400"), 100 + second,
                  datetime(2026, 3, 2, 11, 0, second, tzinfo=IST), True)
    _off_thread(lambda: ingest.quotes_ingest(batch=[quote], source=DataSource.SIMULATED))


@pytest.fixture
def engine() -> Iterator[AlertEngine]:
    engine = AlertEngine(consumer="browser", block_ms=50)
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,), daemon=True)
    thread.start()
    yield engine
    stop.set()
    thread.join(10)


def test_alert_created_in_the_ui_fires_live_when_the_price_crosses(
    live_server: Any, ws_server: str, page: Page, engine: AlertEngine, screenshot: Any
) -> None:
    user = verified_user("meera@example.in", PASSWORD, display_name="Meera")
    base = live_server.url
    _ingest("3450", 1)
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/alerts/")
    expect(page.locator("[data-rt-status]")).to_have_attribute("data-state", "live",
                                                                   timeout=LIVE_TIMEOUT)
    form = page.locator("[data-alerts-form]")
    form.locator("[data-symbol]").fill("TCS")
    row = form.locator("[data-condition]").first
    row.locator("[data-type]").select_option("crossing_up")
    row.locator('input[name="value"]').fill("3500")
    form.get_by_role("button", name="Create alert").click()
    rule = page.locator("[data-rule]").first
    expect(rule).to_have_attribute("data-status", "active")
    expect(rule).to_contain_text("TCS")

    engine_ready = threading.Event()

    def wait_loaded() -> None:
        import time

        for _ in range(100):
            if engine.index.rules:
                engine_ready.set()
                return
            time.sleep(0.05)

    wait_loaded()
    assert engine_ready.is_set()
    _ingest("3499.95", 2)
    _ingest("3501.5", 3)
    expect(page.locator("[data-alerts-live]")).to_contain_text("TCS", timeout=LIVE_TIMEOUT)
    expect(rule).to_have_attribute("data-status", "fired")
    expect(page.locator("[data-notif-badge]")).to_be_visible()
    screenshot(page, "alerts-fired")
