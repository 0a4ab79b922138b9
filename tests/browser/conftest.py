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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _test_database_url() -> str:
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def ws_server(live_server: Any, settings: Any) -> Iterator[str]:
    """A real ASGI server (daphne, `config.asgi:application`) on a free 127.0.0.1 port,
    using the test database, the test Redis database and this process's channel prefix, so
    it sees what the test writes and hears what it publishes. Pages rendered during the
    test point at it (`settings.WS_URL`). Yields the WebSocket URL; stopped afterwards."""
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "TEST_REDIS_DB": settings.REDIS_URL.rsplit("/", 1)[-1],
        "REALTIME_CHANNEL_PREFIX": settings.REALTIME_CHANNEL_PREFIX,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in this process only
    log = Path(tempfile.gettempdir()) / f"ws_server_{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "config.asgi:application"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the ASGI server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the ASGI server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        url = f"ws://localhost:{port}/ws/"
        settings.WS_URL = url
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.unlink(missing_ok=True)
