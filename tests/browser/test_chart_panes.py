"""Real-browser tests of the instrument chart's indicator panes and drawing snapping:
RSI/MACD panes switched off and on (lightweight-charts panes, pixels on screen), the choice
remembered per user across reloads, and a trend line drawn on 15m shown on the bars holding
its points on 1h and 1D (and on 15m again). The snapping function itself is checked against
the server's candle buckets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from apps.charts.models import ChartDrawing
from apps.market import ingest
from apps.market.candle_store import (
    CandleRow,
    WriteMode,
    bucket_start,
    bucket_starts,
    candles_write,
)
from apps.market.models import DataSource, Instrument
from tests.browser.helpers import sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "kavya.menon@example.in"
PASSWORD = "Nifty-Fifty-2026!"
OTHER_EMAIL = "arjun.das@example.in"
IST_SHIFT = 19800
SESSION_DAYS = 12  # of 15-minute and hourly bars: 300 and 84, one page each
DAILY_BARS = 60

# Pixels of one colour (tolerance 10 per channel, opaque) on the chart's canvases.
COLOUR_PIXELS = """
([root, rgb]) => {
  let count = 0;
  for (const canvas of root.querySelectorAll("canvas")) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 200) continue;
      if (Math.abs(data[i] - rgb[0]) < 10 && Math.abs(data[i + 1] - rgb[1]) < 10
          && Math.abs(data[i + 2] - rgb[2]) < 10) count += 1;
    }
  }
  return count;
}
"""
RSI_RGB = [0x7A, 0x4F, 0xC9]
DRAWING_RGB = [0x1F, 0x6F, 0xEB]

# What the chart shows: its panes, top to bottom, with their series' titles and heights.
PANES = """
() => {
  const chart = window.stocksenseChart.chart;
  return chart.panes().map((pane) => ({
    title: pane.getSeries().map((s) => s.options().title).filter(Boolean).join(", "),
    height: pane.getHTMLElement().getBoundingClientRect().height,
  }));
}
"""
# The trend line's points as drawn: chart times (epoch + IST shift) and prices, and whether
# each point is inside the visible part of the time axis.
TREND_SHOWN = """
() => {
  const page = window.stocksenseChart;
  const entry = [...page.drawings.values()].find((d) => d.data.kind === "trend");
  const scale = page.chart.timeScale();
  return entry.series.data().map((p) => ({
    time: p.time, value: p.value, x: scale.timeToCoordinate(p.time),
  }));
}
"""
BAR_TIMES = "() => window.stocksenseChart.candles.data().map((bar) => bar.time)"


@pytest.fixture(autouse=True)
def _market_data(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _rows(instrument: Instrument, timeframe: str, starts: list[datetime]) -> list[CandleRow]:
    rows = []
    for i, start in enumerate(starts):
        mid = Decimal(2500 + 120 * math.sin(i / 9)).quantize(Decimal("0.05"))
        open_, close = (mid - 6, mid + 6) if i % 3 else (mid + 6, mid - 6)
        rows.append(
            CandleRow(
                instrument_id=instrument.pk, timeframe=timeframe, start=start, open=open_,
                high=mid + 10, low=mid - 10, close=close, volume=50_000 + 500 * (i % 40),
                source=DataSource.SIMULATED,
            )
        )
    return rows


def _load_candles() -> dict[str, int]:
    """Weekday bars up to today: daily, and 15-minute and hourly ones over the last
    SESSION_DAYS sessions (09:15–15:30 IST, bucketed as the server does)."""
    reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    day = bucket_start(datetime.now(tz=UTC), "1d")  # 00:00 IST
    days: list[datetime] = []
    while len(days) < DAILY_BARS:
        if (day + timedelta(hours=6)).weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    quarters = [
        d + timedelta(hours=9, minutes=15 + 15 * i) for d in days[-SESSION_DAYS:] for i in range(25)
    ]
    hours = sorted({bucket_start(q, "1h") for q in quarters})
    bars = {"1d": days, "15m": quarters, "1h": hours}
    for timeframe, starts in bars.items():
        candles_write(rows=_rows(reliance, timeframe, starts), mode=WriteMode.REPLACE)
    return {timeframe: len(starts) for timeframe, starts in bars.items()}


def _open_chart(page: Page, base: str, email: str, state: str = "ready") -> None:
    sign_in(page, base, email, PASSWORD)
    page.goto(f"{base}/markets/RELIANCE/")
    expect(page.locator("[data-chart]")).to_have_attribute("data-state", state)


def _ready(page: Page, timeframe: str, bars: int | None = None) -> None:
    chart = page.locator("[data-chart]")
    expect(chart).to_have_attribute("data-timeframe", timeframe)
    expect(chart).to_have_attribute("data-state", "ready")
    if bars is not None:
        expect(chart).to_have_attribute("data-bars", str(bars))


def _pixels(page: Page, rgb: list[int]) -> int:
    page.wait_for_timeout(300)  # the library paints on the next animation frame
    return int(page.locator("[data-chart]").evaluate(f"(root) => ({COLOUR_PIXELS})([root, {rgb}])"))


def _panes(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate(PANES))


def test_rsi_and_macd_panes_toggle_and_are_remembered(live_server, page: Page, screenshot) -> None:
    _load_candles()
    base = live_server.url
    verified_user(EMAIL, PASSWORD)
    verified_user(OTHER_EMAIL, PASSWORD)
    _open_chart(page, base, EMAIL)
    chart = page.locator("[data-chart]")
    rsi = page.get_by_label("RSI 14")
    macd = page.get_by_label("MACD 12, 26, 9")

    # By default both panes are on, RSI above MACD, and the RSI line is drawn.
    expect(rsi).to_be_checked()
    expect(macd).to_be_checked()
    expect(chart).to_have_attribute("data-panes", "rsi macd")
    panes = _panes(page)
    assert [p["title"] for p in panes[1:]] == ["RSI 14", "MACD 12, 26, 9"]
    assert all(p["height"] > 30 for p in panes)
    page.wait_for_function("() => window.stocksenseChart.panes.shown.get('rsi')[0].data().length")
    assert _pixels(page, RSI_RGB) > 100, "the RSI line is not drawn"
    price_height = panes[0]["height"]

    # RSI off: its pane is gone, the price pane takes the room, no RSI pixels remain.
    rsi.uncheck()
    expect(chart).to_have_attribute("data-panes", "macd")
    # The chart lays its panes out again on its next frame, not with the attribute.
    page.wait_for_function(f"(h) => ({PANES})()[0].height > h", arg=price_height)
    panes = _panes(page)
    assert len(panes) == 2
    assert panes[1]["title"] == "MACD 12, 26, 9"
    assert panes[0]["height"] > price_height
    assert _pixels(page, RSI_RGB) == 0
    screenshot(page, "chart-panes-rsi-off")

    # Remembered: after a reload RSI is still off.
    page.reload()
    _ready(page, "1d")
    expect(rsi).not_to_be_checked()
    expect(macd).to_be_checked()
    expect(chart).to_have_attribute("data-panes", "macd")
    assert len(_panes(page)) == 2

    # On again: fetched, back above MACD, drawn.
    with page.expect_request(lambda r: "/indicators/" in r.url and "name=rsi" in r.url):
        rsi.check()
    expect(chart).to_have_attribute("data-panes", "rsi macd")
    page.wait_for_function("() => window.stocksenseChart.panes.shown.get('rsi')[0].data().length")
    assert [p["title"] for p in _panes(page)[1:]] == ["RSI 14", "MACD 12, 26, 9"]
    assert _pixels(page, RSI_RGB) > 100

    # MACD off survives a reload too: only the RSI pane is left under the price.
    macd.uncheck()
    page.reload()
    _ready(page, "1d")
    expect(rsi).to_be_checked()
    expect(macd).not_to_be_checked()
    expect(chart).to_have_attribute("data-panes", "rsi")
    assert [p["title"] for p in _panes(page)[1:]] == ["RSI 14"]

    # The choice is the user's: another account in this browser starts from the defaults,
    # and the first user's choice is still there when they come back.
    page.context.clear_cookies()
    _open_chart(page, base, OTHER_EMAIL)
    expect(chart).to_have_attribute("data-panes", "rsi macd")
    expect(macd).to_be_checked()
    page.context.clear_cookies()
    _open_chart(page, base, EMAIL)
    expect(chart).to_have_attribute("data-panes", "rsi")


def _expected(points: list[dict[str, Any]], timeframe: str) -> list[tuple[int, float]]:
    """Where the server's buckets put each stored point: (chart time, price)."""
    return [
        (
            int(bucket_start(datetime.fromtimestamp(p["time"], tz=UTC), timeframe).timestamp())
            + IST_SHIFT,
            float(p["price"]),
        )
        for p in points
    ]


def _assert_trend_on_bars(page: Page, points: list[dict[str, Any]], timeframe: str) -> None:
    shown = page.evaluate(TREND_SHOWN)
    expected = _expected(points, timeframe)
    assert [p["time"] for p in shown] == [time for time, _ in expected]
    assert [p["value"] for p in shown] == pytest.approx([price for _, price in expected])
    bar_times = set(page.evaluate(BAR_TIMES))
    assert all(p["time"] in bar_times for p in shown), "a point is not on a bar"
    width = page.locator("[data-chart]").bounding_box()["width"]  # type: ignore[index]
    assert all(p["x"] is not None and 0 <= p["x"] <= width for p in shown), shown
    assert _pixels(page, DRAWING_RGB) > 40, f"the trend line is not visible on {timeframe}"


def test_trend_line_drawn_on_15m_snaps_on_1h_and_1d(live_server, page: Page, screenshot) -> None:
    counts = _load_candles()
    base = live_server.url
    verified_user(EMAIL, PASSWORD)
    _open_chart(page, base, EMAIL)
    chart = page.locator("[data-chart]")

    page.get_by_role("button", name="15m", exact=True).click()
    _ready(page, "15m", counts["15m"])
    page.get_by_role("button", name="Trend line").click()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.45)
    expect(page.get_by_text("Now click its second point.")).to_be_visible()
    page.wait_for_timeout(600)  # two quick clicks would be a double click to the library
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.15)
    expect(page.locator('[data-drawings-list] li[data-kind="trend"]')).to_have_count(1)

    # Stored: the times of the two 15-minute bars clicked, earlier first, and the prices.
    points = ChartDrawing.objects.get().points
    first, second = (datetime.fromtimestamp(p["time"], tz=UTC) for p in points)
    assert first < second
    assert bucket_start(first, "15m") == first
    assert bucket_start(second, "15m") == second
    assert bucket_start(first, "1h") != bucket_start(second, "1h")
    assert bucket_start(first, "1d") != bucket_start(second, "1d"), "pick points days apart"
    _assert_trend_on_bars(page, points, "15m")
    screenshot(page, "chart-trend-15m")

    # On 1h and 1D each point sits on the bar holding its time.
    page.get_by_role("button", name="1h", exact=True).click()
    _ready(page, "1h", counts["1h"])
    _assert_trend_on_bars(page, points, "1h")
    screenshot(page, "chart-trend-1h")

    page.get_by_role("button", name="1D", exact=True).click()
    _ready(page, "1d", counts["1d"])
    _assert_trend_on_bars(page, points, "1d")
    screenshot(page, "chart-trend-1d")

    # After a reload (1D) it is still there, and back on 15m it is where it was drawn.
    page.reload()
    _ready(page, "1d", counts["1d"])
    expect(page.locator('[data-drawings-list] li[data-kind="trend"]')).to_have_count(1)
    page.wait_for_function("() => window.stocksenseChart.drawings.size === 1")
    _assert_trend_on_bars(page, points, "1d")
    page.get_by_role("button", name="15m", exact=True).click()
    _ready(page, "15m", counts["15m"])
    _assert_trend_on_bars(page, points, "15m")


SNAP_CASES = """
async ([url, cases]) => {
  const { snapTime } = await import(url);
  return cases.map(([seconds, timeframe]) => snapTime(seconds, timeframe));
}
"""


def test_snap_time_matches_the_server_buckets(live_server, page: Page) -> None:
    verified_user(EMAIL, PASSWORD)
    _open_chart(page, live_server.url, EMAIL, state="empty")  # no bars needed
    url = page.evaluate(
        "() => new URL('chart-time.js',"
        " document.querySelector('script[src*=\"chart.js\"]').src).href"
    )
    # Every 7 min 13 s over a fortnight, in session (09:15–15:29 IST): the server's buckets.
    start = int(datetime(2026, 1, 5, 3, 45, tzinfo=UTC).timestamp())  # Mon 09:15 IST
    seconds = np.arange(start, start + 14 * 86400, 7 * 60 + 13, dtype=np.int64)
    minute = (seconds // 60 + 330) % 1440
    seconds = seconds[(minute >= 555) & (minute < 930)]
    timeframes = ["1m", "5m", "15m", "1h", "1d", "1w"]
    cases = [[int(s), tf] for tf in timeframes for s in seconds]
    expected = [int(b) for tf in timeframes for b in bucket_starts(seconds, tf)]
    assert page.evaluate(SNAP_CASES, [url, cases]) == expected

    def ist(text: str) -> int:
        return int(datetime.fromisoformat(f"{text}+05:30").timestamp())

    named = {
        ("2026-01-14T10:37:00", "15m"): "2026-01-14T10:30:00",
        ("2026-01-14T10:37:00", "1h"): "2026-01-14T10:15:00",
        ("2026-01-14T10:37:00", "1d"): "2026-01-14T00:00:00",
        ("2026-01-14T10:37:00", "1w"): "2026-01-12T00:00:00",
        ("2026-01-14T15:29:59", "1h"): "2026-01-14T15:15:00",
        # Outside the session (a point drawn on a daily or weekly bar): that day's
        # first bar, or its last one after the close.
        ("2026-01-14T00:00:00", "15m"): "2026-01-14T09:15:00",
        ("2026-01-14T00:00:00", "1h"): "2026-01-14T09:15:00",
        ("2026-01-14T18:00:00", "1h"): "2026-01-14T15:15:00",
        ("2026-01-14T15:30:00", "5m"): "2026-01-14T15:25:00",
    }
    got = page.evaluate(SNAP_CASES, [url, [[ist(t), tf] for t, tf in named]])
    assert got == [ist(t) for t in named.values()]
