"""Real-browser tests of the Markets page: first render, live updates, phone layout."""

from __future__ import annotations

import importlib
from functools import partial

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from apps.market import ingest
from apps.market.models import DataSource
from tests.browser.helpers import sign_in, simulated_quote, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "kavya.menon@example.in"
PASSWORD = "Nifty-Fifty-2025!"


@pytest.fixture(autouse=True)
def _market_data() -> None:
    # A transactional test before this one may have flushed the seeded instruments, and
    # quotes_ingest caches instrument ids per process: start both from this database.
    importlib.import_module("apps.market.migrations.0002_seed_exchanges_nifty50_holidays").seed(
        apps, None
    )
    ingest._instrument_ids.clear()


_quote = partial(simulated_quote, age_seconds=5)


def _price(page: Page, symbol: str):
    return page.locator(f'tr[data-key="NSE:{symbol}"] [data-field="price"]')


def test_prices_render_then_update_live(live_server, page: Page, screenshot) -> None:
    base = live_server.url
    ingest.quotes_ingest(
        batch=[
            _quote("RELIANCE", "2951.20", "2900", 7_654_321),
            _quote("TCS", "3412.55", "3450.10"),
            _quote("MARUTI", "123456", "123000"),
        ],
        source=DataSource.SIMULATED,
    )
    verified_user(EMAIL, PASSWORD)
    sign_in(page, base, EMAIL, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Markets").click()
    page.wait_for_url(f"{base}/markets/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Markets")
    expect(page.get_by_test_id("market-status")).to_be_visible()
    expect(page.get_by_text("Simulated feed — prices are generated")).to_be_visible()
    expect(_price(page, "RELIANCE")).to_have_text("₹2,951.20")
    expect(_price(page, "MARUTI")).to_have_text("₹1,23,456.00")
    tcs = page.locator('tr[data-key="NSE:TCS"]')
    expect(tcs.locator('[data-field="percent"]')).to_contain_text("-1.09%")
    expect(tcs.locator('[data-field="change"]')).to_have_class("num col-wide nowrap price-down")
    screenshot(page, "markets-desktop")

    # A new tick for RELIANCE reaches the page without a reload (the poller runs every 5 s).
    page.evaluate("() => { window.__sameDocument = true; }")
    ingest.quotes_ingest(
        batch=[_quote("RELIANCE", "2999.95", "2900", 7_700_000)], source=DataSource.SIMULATED
    )
    expect(_price(page, "RELIANCE")).to_have_text("₹2,999.95", timeout=12_000)
    row = page.locator('tr[data-key="NSE:RELIANCE"]')
    expect(row.locator('[data-field="change"]')).to_contain_text("+₹99.95")
    expect(row.locator('[data-field="volume"]')).to_have_text("77,00,000")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    screenshot(page, "markets-desktop-updated")

    # Client-side filters: by name, then by sector.
    page.fill("#market-search", "infos")
    expect(page.locator("tbody tr:visible")).to_have_count(1)
    expect(page.locator("tbody tr:visible th")).to_contain_text("INFY")
    page.fill("#market-search", "")
    page.select_option("#market-sector", "Information Technology")
    assert page.locator("tbody tr:visible").count() >= 4
    for sector in page.locator("tbody tr:visible").evaluate_all(
        "rows => rows.map(r => r.dataset.sector)"
    ):
        assert sector == "Information Technology"
    page.fill("#market-search", "zzzz")
    expect(page.get_by_text("No instruments match the filter.")).to_be_visible()


def test_markets_fit_a_phone_screen(live_server, phone_page: Page, screenshot) -> None:
    ingest.quotes_ingest(
        batch=[_quote("RELIANCE", "2951.20", "2900"), _quote("BAJFINANCE", "123456", "120000")],
        source=DataSource.SIMULATED,
    )
    verified_user(EMAIL, PASSWORD)
    sign_in(phone_page, live_server.url, EMAIL, PASSWORD)
    phone_page.goto(f"{live_server.url}/markets/")
    expect(_price(phone_page, "RELIANCE")).to_have_text("₹2,951.20")
    scroll_width, client_width = phone_page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == 375
    assert scroll_width <= 375, f"/markets/ is {scroll_width}px wide"
    wrap = phone_page.locator(".table-wrap").evaluate("e => [e.scrollWidth, e.clientWidth]")
    widths = phone_page.locator("thead th:visible").evaluate_all(
        "cells => cells.map(c => c.textContent.trim() + '=' + c.offsetWidth)"
    )
    assert wrap[0] <= wrap[1], f"the table scrolls sideways inside its wrapper: {wrap} {widths}"
    screenshot(phone_page, "markets-phone")
