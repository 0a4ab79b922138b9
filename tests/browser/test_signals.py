"""Real-browser tests of the signals pages: from the feed to a signal's card, whose chart
draws the instrument's candles with the entry, target and stop-loss as price lines (read
back from the chart itself) next to the evidence; following from the card; the phone size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.market import ingest
from apps.market.candle_store import bucket_start
from apps.market.models import Instrument
from apps.signals.models import Signal, SignalFollow, StrategyEvidence
from apps.signals.tests.conftest import bars_synthetic, candles_insert
from apps.signals.tests.factories import SignalFactory
from tests.browser.helpers import CANDLE_PIXELS, as_server, sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "meera.nair@example.in"
PASSWORD = "Nifty-Fifty-2026!"
BARS = 120
SIGNAL_BAR = 100

PRICE_LINES = """
() => window.stocksenseSignalChart.candles.priceLines()
  .map((line) => [line.options().title, line.options().price])
"""


@pytest.fixture(autouse=True)
def _market_data(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _signal_with_candles() -> Signal:
    """120 daily RELIANCE bars up to today, a BUY on bar 100 with levels inside their range,
    and the backtested evidence of its strategy on RELIANCE."""
    reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    first = bucket_start(datetime.now(tz=UTC), "1d") - timedelta(days=BARS - 1)
    bars = bars_synthetic(BARS, start=first.strftime("%Y-%m-%d %H:%M"), price=2450)
    candles_insert(reliance, "1d", bars)
    close = Decimal(f"{bars['close'].iloc[SIGNAL_BAR]:.2f}")
    high, low = Decimal(f"{bars['high'].max():.2f}"), Decimal(f"{bars['low'].min():.2f}")
    target = ((close + high) / 2).quantize(Decimal("0.01"))
    stop = ((close + low) / 2).quantize(Decimal("0.01"))
    StrategyEvidence.objects.create(
        instrument=reliance,
        strategy="sma_crossover",
        params_key="fast=20,slow=50",
        timeframe="1d",
        trades=40,
        wins=23,
        hit_rate=0.575,
        avg_r=0.31,
    )
    return SignalFactory.create(
        instrument=reliance,
        bar_time=bars.index[SIGNAL_BAR].to_pydatetime(),
        entry_price=close,
        target_price=target,
        stop_loss=stop,
        risk_reward=((target - close) / (close - stop)).quantize(Decimal("0.01")),
    )


def _open_card(page: Page, base: str, signal: Signal) -> None:
    page.goto(f"{base}/signals/")
    card = page.locator(f'[data-signal-id="{signal.pk}"]')
    expect(card).to_contain_text("RELIANCE")
    expect(card).to_contain_text("58 % hit rate over 40 backtested trades")
    card.get_by_role("link").click()
    page.wait_for_url(f"{base}/signals/{signal.pk}/")
    expect(page.locator("[data-signal-chart]")).to_have_attribute("data-state", "ready")


def test_a_signal_card_draws_its_levels_on_the_chart_next_to_its_evidence(
    live_server: Any, page: Page, screenshot: Any
) -> None:
    signal = _signal_with_candles()
    verified_user(EMAIL, PASSWORD)
    sign_in(page, live_server.url, EMAIL, PASSWORD)
    _open_card(page, live_server.url, signal)

    chart = page.locator("[data-signal-chart]")
    expect(chart).to_have_attribute("data-bars", str(BARS))
    expect(chart).to_have_attribute("data-markers", "1")
    page.wait_for_timeout(300)  # the library paints on the next animation frame
    assert int(chart.evaluate(CANDLE_PIXELS)) > 300, "no candles were drawn"

    lines = page.evaluate(PRICE_LINES)
    assert lines == [
        ["Entry", pytest.approx(float(signal.entry_price))],
        ["Target", pytest.approx(float(signal.target_price or 0))],
        ["Stop-loss", pytest.approx(float(signal.stop_loss or 0))],
    ]

    evidence = page.locator("[data-evidence]")
    expect(evidence).to_contain_text("58 % hit rate over 40 backtested trades")
    expect(evidence.locator("dd").first).to_have_text("40")  # backtested trades
    expect(page.locator("[data-explanation]")).to_have_text(signal.explanation)
    expect(page.locator("[data-backtest-link]")).to_have_attribute(
        "href", "/signals/backtests/new/?strategy=sma_crossover&symbol=RELIANCE"
    )
    screenshot(page, "signal-card-desktop")


def test_following_the_strategy_from_the_card(live_server: Any, page: Page) -> None:
    signal = _signal_with_candles()
    user = verified_user(EMAIL, PASSWORD)
    sign_in(page, live_server.url, EMAIL, PASSWORD)
    _open_card(page, live_server.url, signal)

    button = page.get_by_role("button", name="Follow this strategy", exact=True)
    button.click()
    unfollow = page.get_by_role("button", name="Unfollow this strategy", exact=True)
    expect(unfollow).to_have_attribute("aria-pressed", "true")
    follows = page.evaluate(
        "() => fetch('/api/v1/signal-follows/').then((r) => r.json())"
        ".then((body) => body.results.map((f) => [f.kind, f.strategy]))"
    )
    assert follows == [["strategy", "sma_crossover"]]
    assert SignalFollow.objects.get().user == user

    page.get_by_role("button", name="Follow RELIANCE", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow RELIANCE", exact=True)).to_be_visible()
    assert SignalFollow.objects.filter(kind="instrument", instrument=signal.instrument).exists()

    unfollow.click()
    expect(page.get_by_role("button", name="Follow this strategy", exact=True)).to_be_visible()
    assert list(SignalFollow.objects.values_list("kind", flat=True)) == ["instrument"]


def test_the_feed_and_card_fit_a_phone(live_server: Any, phone_page: Page, screenshot: Any) -> None:
    signal = _signal_with_candles()
    verified_user(EMAIL, PASSWORD)
    sign_in(phone_page, live_server.url, EMAIL, PASSWORD)
    for url in (
        "/signals/",
        f"/signals/{signal.pk}/",
        "/signals/strategies/",
        "/signals/strategies/sma_crossover/",
    ):
        phone_page.goto(f"{live_server.url}{url}")
        if url == f"/signals/{signal.pk}/":
            expect(phone_page.locator("[data-signal-chart]")).to_have_attribute(
                "data-state", "ready"
            )
            screenshot(phone_page, "signal-card-phone")
        scroll_width = phone_page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= 375, f"{url} is {scroll_width}px wide"


def test_a_new_signal_appears_in_the_open_feed_without_a_reload(
    live_server: Any, ws_server: str, page: Page
) -> None:
    from apps.signals.publishing import signals_publish_new

    verified_user(EMAIL, PASSWORD)
    sign_in(page, live_server.url, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/signals/")
    expect(page.locator("[data-signals-feed]")).to_have_attribute("data-subscribed", "signals")

    signal = _signal_with_candles()
    as_server(signals_publish_new, signals=[signal])  # as generation does, after commit

    card = page.locator(f'[data-signal-id="{signal.pk}"]')
    expect(card).to_contain_text("RELIANCE", timeout=5_000)
    expect(card).to_contain_text("58 % hit rate over 40 backtested trades")
    expect(card).to_contain_text("₹" + f"{signal.entry_price:,.2f}")


def test_an_open_signal_page_shows_its_outcome_when_the_tracker_resolves_it(
    live_server: Any, ws_server: str, page: Page
) -> None:
    from decimal import Decimal as D

    from django.utils import timezone

    from apps.signals.models import Outcome
    from apps.signals.publishing import signals_publish_resolved

    signal = _signal_with_candles()
    verified_user(EMAIL, PASSWORD)
    sign_in(page, live_server.url, EMAIL, PASSWORD)
    page.goto(f"{live_server.url}/signals/{signal.pk}/")
    chart = page.locator("[data-signal-chart]")
    expect(chart).to_have_attribute("data-subscribed", "signals")
    expect(page.locator("section[data-outcome]").get_by_text("Open", exact=True)).to_be_visible()

    Signal.objects.filter(pk=signal.pk).update(
        outcome=Outcome.TARGET,
        exit_price=signal.target_price,
        r_multiple=D("2.0000"),
        bars_held=4,
        days_held=6,
        resolved_at=timezone.now(),
    )
    signal.refresh_from_db()
    as_server(signals_publish_resolved, signals=[signal])  # as the tracker does, after commit

    outcome = page.locator("section[data-outcome]")
    expect(outcome).to_contain_text("Target hit", timeout=10_000)
    expect(outcome).to_contain_text(f"₹{signal.target_price:.2f}")
