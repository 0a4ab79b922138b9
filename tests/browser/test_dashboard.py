"""Real-browser tests of the dashboard against a real WebSocket server (`ws_server`):
a shared list stays in sync between two people, prices move live, and it fits a phone."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.market import ingest
from apps.market.candle_store import CandleRow, WriteMode, bucket_start, candles_write
from apps.market.models import DataSource, Instrument
from apps.realtime.quotes import quotes_publish
from apps.watchlists import services
from tests.browser.helpers import sign_in, verified_user
from tests.browser.helpers import simulated_quote as quote
from tests.factories import WatchlistMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Nifty-Fifty-2025!"


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _user(email: str, name: str) -> User:
    return verified_user(email, PASSWORD, display_name=name)


def _open_dashboard(page: Page, base: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{base}/dashboard/**")
    expect(page.locator("[data-rt-status]")).to_have_attribute("data-state", "live")


def _subscribed(page: Page, *labels: str) -> None:
    """Wait until the server confirmed these subscriptions ("NSE:TCS", "watchlist:12")."""
    dashboard = page.locator("[data-dashboard]")
    for label in labels:
        expect(dashboard).to_have_attribute("data-subscribed", re.compile(rf"(^| ){label}( |$)"))


def _daily_closes(symbol: str, closes: list[str]) -> None:
    instrument = Instrument.objects.get(symbol=symbol, exchange__code="NSE")
    today = bucket_start(timezone.now(), "1d")
    rows = []
    for i, close in enumerate(closes):
        c = Decimal(close)
        rows.append(CandleRow(
            instrument_id=instrument.pk, timeframe="1d",
            start=today - timedelta(days=len(closes) - 1 - i), open=c, high=c + 5, low=c - 5,
            close=c, volume=100_000, source=DataSource.SIMULATED,
        ))
    candles_write(rows=rows, mode=WriteMode.REPLACE)


def test_editor_adds_a_symbol_and_the_owner_sees_it_live(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("asha.rao@example.in", "Asha")
    editor = _user("vikram.shah@example.in", "Vikram")
    watchlist = services.watchlist_create(name="Banks", by=owner)
    services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner)
    WatchlistMemberFactory(watchlist=watchlist, user=editor, role="editor")
    ingest.quotes_ingest(
        batch=[quote("HDFCBANK", "1650.40", "1632.10"), quote("ICICIBANK", "1234.50", "1240")],
        source=DataSource.SIMULATED,
    )
    _daily_closes("HDFCBANK", [str(1600 + (i * 7) % 40 + i) for i in range(30)])

    sign_in(page, base, owner.email, PASSWORD)
    _open_dashboard(page, base)
    sign_in(second_page, base, editor.email, PASSWORD)
    _open_dashboard(second_page, base)
    owner_table = page.locator(f'[data-watchlist-table="{watchlist.pk}"]')
    expect(owner_table.locator('tr[data-key="NSE:HDFCBANK"] [data-field="price"]')).to_have_text(
        "₹1,650.40"
    )
    expect(page.get_by_text("Simulated data")).to_be_visible()
    expect(owner_table.get_by_role("img", name="HDFCBANK, last 30 daily closes")).to_be_visible()
    _subscribed(page, f"watchlist:{watchlist.pk}")
    page.evaluate("() => { window.__sameDocument = true; }")

    search = second_page.locator("[data-symbol-search]")
    search.fill("ICICI")
    option = second_page.get_by_role("option", name="ICICIBANK")
    expect(option).to_be_visible()
    option.click()

    # The owner's table grows without a reload, within a few seconds.
    row = owner_table.locator('tr[data-key="NSE:ICICIBANK"]')
    expect(row).to_be_visible(timeout=3_000)
    expect(row.locator('[data-field="price"]')).to_have_text("₹1,234.50")
    expect(page.locator("[data-changed-by]")).to_contain_text("Changed by")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    editor_rows = second_page.locator(f'[data-watchlist-table="{watchlist.pk}"] tbody tr')
    expect(editor_rows).to_have_count(2)
    screenshot(page, "dashboard-desktop")
    screenshot(second_page, "dashboard-editor")


def test_prices_move_live(live_server: Any, ws_server: str, page: Page, screenshot: Any) -> None:
    base = live_server.url
    owner = _user("kavya.menon@example.in", "Kavya")
    watchlist = services.watchlist_create(name="Core", by=owner)
    for symbol in ("RELIANCE", "TCS"):
        services.watchlist_item_add(watchlist_id=watchlist.pk, symbol=symbol, by=owner)
    ingest.quotes_ingest(
        batch=[
            quote("RELIANCE", "2951.20", "2900", 7_654_321),
            quote("TCS", "3412.55", "3450.10"),
        ],
        source=DataSource.SIMULATED,
    )
    sign_in(page, base, owner.email, PASSWORD)
    _open_dashboard(page, base)
    price = page.locator('tr[data-key="NSE:RELIANCE"] [data-field="price"]')
    expect(price).to_have_text("₹2,951.20")
    expect(page.locator('tr[data-key="NSE:TCS"] [data-field="percent"]')).to_contain_text("-1.09%")
    _subscribed(page, "NSE:RELIANCE")
    page.evaluate("() => { window.__sameDocument = true; }")

    tick = quote("RELIANCE", "2999.95", "2900", 7_700_000)
    ingest.quotes_ingest(batch=[tick], source=DataSource.SIMULATED)
    quotes_publish([tick])

    expect(price).to_have_text("₹2,999.95", timeout=5_000)
    row = page.locator('tr[data-key="NSE:RELIANCE"]')
    expect(row.locator('[data-field="change"]')).to_contain_text("+₹99.95")
    expect(row.locator('[data-field="volume"]')).to_have_text("77,00,000")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def test_dashboard_fits_a_phone(
    live_server: Any, ws_server: str, phone_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("meera.iyer@example.in", "Meera")
    watchlist = services.watchlist_create(name="A rather long watchlist name for phones", by=owner)
    for symbol in ("RELIANCE", "BAJFINANCE", "TCS"):
        services.watchlist_item_add(
            watchlist_id=watchlist.pk, symbol=symbol, note="Long-term hold", by=owner
        )
    services.watchlist_create(name="Second list", by=owner)
    ingest.quotes_ingest(
        batch=[quote("RELIANCE", "2951.20", "2900"), quote("BAJFINANCE", "123456", "120000")],
        source=DataSource.SIMULATED,
    )
    sign_in(phone_page, base, owner.email, PASSWORD)
    phone_page.goto(f"{base}/dashboard/")
    expect(phone_page.locator('tr[data-key="NSE:RELIANCE"] [data-field="price"]')).to_have_text(
        "₹2,951.20"
    )
    expect(phone_page.locator("[data-sharing]")).to_be_visible()
    scroll_width, client_width = phone_page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == 375
    assert scroll_width <= 375, f"/dashboard/ is {scroll_width}px wide"
    screenshot(phone_page, "dashboard-phone")
