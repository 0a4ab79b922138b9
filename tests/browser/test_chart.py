"""Real-browser tests of the instrument page's chart: candles drawn, timeframe switch,
older bars on scroll, a horizontal line saved and restored, the phone layout.

Live WebSocket updates are not covered here (the test server has no /ws/ endpoint; the
page falls back to polling)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from apps.charts.models import ChartDrawing
from apps.market import ingest
from apps.market.candle_store import CandleRow, WriteMode, bucket_start, candles_write
from apps.market.models import DataSource, Instrument
from tests.browser.helpers import CANDLE_PIXELS, sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "rohan.iyer@example.in"
PASSWORD = "Sensex-Eighty-2026!"
DAILY_BARS = 700  # more than one page (500): scrolling left loads the rest
MINUTE_BARS = 300


@pytest.fixture(autouse=True)
def _market_data(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _bars(instrument: Instrument, timeframe: str, starts: list[datetime]) -> list[CandleRow]:
    rows = []
    for i, start in enumerate(starts):
        mid = Decimal(2500 + 300 * math.sin(i / 25) + (i % 7) * 3).quantize(Decimal("0.05"))
        up = i % 3 != 0
        open_, close = (mid - 8, mid + 8) if up else (mid + 8, mid - 8)
        rows.append(
            CandleRow(
                instrument_id=instrument.pk,
                timeframe=timeframe,
                start=start,
                open=open_,
                high=mid + 15,
                low=mid - 15,
                close=close,
                volume=100_000 + 1_000 * (i % 50),
                source=DataSource.SIMULATED,
            )
        )
    return rows


def _load_candles() -> Instrument:
    reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    today = bucket_start(datetime.now(tz=UTC), "1d")
    days: list[datetime] = []
    day = today
    while len(days) < DAILY_BARS:
        if (day + timedelta(hours=6)).weekday() < 5:  # 00:00 IST is 18:30 UTC the day before
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    # 300 one-minute bars of the last trading day from 09:15 IST.
    session = days[-1] + timedelta(hours=9, minutes=15)
    minutes = [session + timedelta(minutes=i) for i in range(MINUTE_BARS)]
    candles_write(rows=_bars(reliance, "1d", days), mode=WriteMode.REPLACE)
    candles_write(rows=_bars(reliance, "1m", minutes), mode=WriteMode.REPLACE)
    return reliance


def _ready(page: Page, timeframe: str) -> None:
    chart = page.locator("[data-chart]")
    expect(chart).to_have_attribute("data-timeframe", timeframe)
    expect(chart).to_have_attribute("data-state", "ready")


def _candle_pixels(page: Page) -> int:
    page.wait_for_timeout(300)  # the library paints on the next animation frame
    return int(page.locator("[data-chart]").evaluate(CANDLE_PIXELS))


def test_chart_loads_switches_and_keeps_drawings(live_server, page: Page, screenshot) -> None:
    _load_candles()
    base = live_server.url
    verified_user(EMAIL, PASSWORD)
    sign_in(page, base, EMAIL, PASSWORD)
    page.goto(f"{base}/markets/")
    page.locator('tr[data-key="NSE:RELIANCE"] th a').click()
    page.wait_for_url(f"{base}/markets/RELIANCE/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Reliance Industries Ltd.")
    _ready(page, "1d")
    chart = page.locator("[data-chart]")
    expect(chart).to_have_attribute("data-bars", "500")
    assert _candle_pixels(page) > 500, "no candles were drawn"
    expect(page.get_by_role("button", name="1D")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "chart-desktop")

    # Scrolling to the left edge fetches the older bars (end = the oldest bar loaded).
    with page.expect_request(lambda r: "/candles/" in r.url and "end=" in r.url):
        page.evaluate(
            "() => window.stocksenseChart.chart.timeScale()"
            ".setVisibleLogicalRange({from: 0, to: 120})"
        )
    expect(chart).to_have_attribute("data-bars", str(DAILY_BARS))

    # An overlay from the indicators API.
    with page.expect_request(lambda r: "/indicators/" in r.url and "name=sma" in r.url):
        page.get_by_label("SMA 20").check()
    expect(chart).to_have_attribute("data-overlays", "sma")

    # Another timeframe: a request for it, and the chart redraws with its bars.
    before = page.locator("[data-chart] canvas").first.evaluate("c => c.toDataURL()")
    with page.expect_request(lambda r: "/candles/" in r.url and "timeframe=1m" in r.url):
        page.get_by_role("button", name="1m", exact=True).click()
    _ready(page, "1m")
    expect(chart).to_have_attribute("data-bars", str(MINUTE_BARS))
    assert _candle_pixels(page) > 500
    after = page.locator("[data-chart] canvas").first.evaluate("c => c.toDataURL()")
    assert after != before, "the chart did not redraw"
    screenshot(page, "chart-desktop-1m")

    # A horizontal line: one click on the price pane; listed, drawn, saved.
    page.get_by_role("button", name="Horizontal line").click()
    expect(page.get_by_role("button", name="Horizontal line")).to_have_attribute(
        "aria-pressed", "true"
    )
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3)
    item = page.locator('[data-drawings-list] li[data-kind="hline"]')
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Horizontal line · ₹")
    drawing = ChartDrawing.objects.get()
    assert drawing.kind == "hline"
    assert Decimal(drawing.points[0]["price"]) > 0

    # After a reload it is still there, on the list and on the chart.
    page.reload()
    _ready(page, "1d")
    expect(item).to_have_count(1)
    assert (
        page.evaluate(
            "() => [...window.stocksenseChart.drawings.values()].filter(d => d.line).length"
        )
        == 1
    )
    screenshot(page, "chart-desktop-drawing")

    # Deleting removes it everywhere.
    item.get_by_role("button").click()
    expect(item).to_have_count(0)
    expect(page.get_by_text("No drawings yet.")).to_be_visible()
    assert not ChartDrawing.objects.exists()

    # A trend line: two clicks on bars; stored as epoch seconds and prices.
    page.get_by_role("button", name="Trend line").click()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    expect(page.get_by_text("Now click its second point.")).to_be_visible()
    page.wait_for_timeout(600)  # two quick clicks would be a double click to the library
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.2)
    expect(page.locator('[data-drawings-list] li[data-kind="trend"]')).to_have_count(1)
    trend = ChartDrawing.objects.get()
    first, second = trend.points
    assert first["time"] < second["time"]
    assert Decimal(second["price"]) > Decimal(first["price"])
    screenshot(page, "chart-desktop-trend")


def test_chart_fits_a_phone_screen(live_server, phone_page: Page, screenshot) -> None:
    _load_candles()
    verified_user(EMAIL, PASSWORD)
    sign_in(phone_page, live_server.url, EMAIL, PASSWORD)
    phone_page.goto(f"{live_server.url}/markets/RELIANCE/")
    _ready(phone_page, "1d")
    assert _candle_pixels(phone_page) > 200
    scroll_width, client_width = phone_page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == 375
    assert scroll_width <= 375, f"/markets/RELIANCE/ is {scroll_width}px wide"
    screenshot(phone_page, "chart-phone")
