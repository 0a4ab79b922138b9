"""Fixtures for the real-browser tests: one Chromium per test module, a fresh context per test.

Playwright's sync API runs an asyncio event loop in this thread, which makes Django refuse
ORM calls ("You cannot call this from an async context"); the tests only touch the
database between browser steps, never concurrently, so that guard is switched off while
the browser is up, and restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's event loop and the
    async-unsafe switch must be gone before other tests (async ones included) run."""
    from playwright import sync_api  # a dev requirement; imported here to keep collection light
    if not Path(CHROMIUM).exists():
        # A developer without Chromium may skip; CI installs it, so there it is a failure.
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _fresh_page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    """A page in a new browser context: no cookies shared between tests."""
    context = browser.new_context(locale="en-IN", **context_options)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page."""
    yield from _fresh_page(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def second_page(browser: Browser) -> Iterator[Page]:
    """A second person's desktop browser (its own cookies), beside `page`."""
    yield from _fresh_page(browser, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    """A 375×812 touch screen, the size of a small phone."""
    yield from _fresh_page(
        browser,
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot when STOCKSENSE_SCREENSHOTS=<dir> is set; else do nothing."""
    directory = os.environ.get("STOCKSENSE_SCREENSHOTS")

    def take(page: Page, name: str) -> None:
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)

    return take


FRESH_FEED_SECONDS = 3600


@pytest.fixture(autouse=True)
def _feed_fresh(settings: Any) -> None:
    """Browser tests run at any hour. In market hours a feed that never polled is stale and
    pages say "Prices delayed" instead of "Live": record a poll that just succeeded, and
    keep it fresh for the test (here and in `ws_server`)."""
    from django.utils import timezone

    from apps.market import feed

    settings.MARKET_STALE_AFTER = FRESH_FEED_SECONDS
    state = feed._load()
    state["last_success"] = timezone.now().isoformat()
    feed._save(state)


@pytest.fixture(scope="module")
def _ws_process(django_db_setup: Any) -> Iterator[Any]:
    """One real `ws` server (tests/servers.py) per test module: starting one (Django and
    the ASGI app imported afresh) takes seconds, and nothing a test leaves in it outlives
    the test — its database rows are flushed, its Redis keys cleared, its sockets closed."""
    from django.conf import settings

    from tests.servers import asgi_server

    with asgi_server(settings, env={"MARKET_STALE_AFTER": str(FRESH_FEED_SECONDS)}) as server:
        yield server


@pytest.fixture
def ws_server(live_server: Any, settings: Any, _ws_process: Any) -> str:
    """The module's `ws` server for the pages of this test: pages rendered during the test
    point at it (`settings.WS_URL`). Returns the WebSocket URL."""
    settings.WS_URL = _ws_process.ws_url
    return str(_ws_process.ws_url)
