"""Signals pages on the server side: sign-in required, filters, bad input, 404s, drift text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.market.models import Instrument
from apps.signals.models import Action, Outcome, StrategyEvidence
from apps.signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_signed_in_user(market_seed: None) -> None:
    for url in (
        "/signals/",
        "/signals/1/",
        "/signals/strategies/",
        "/signals/strategies/sma_crossover/",
    ):
        assert Client().get(url).status_code == 302, url


def test_the_feed_filters_and_says_when_evidence_is_thin(
    browser: Client, reliance: Instrument, tcs: Instrument
) -> None:
    SignalFactory.create(instrument=reliance)
    SignalFactory.create(instrument=tcs, action=Action.SELL, confidence=None, evidence={})
    html = browser.get("/signals/").content.decode()
    assert "58 % hit rate over 40 backtested trades" in html
    assert "too little evidence" in html
    html = browser.get("/signals/?action=SELL").content.decode()
    assert "TCS" in html
    assert "RELIANCE</strong>" not in html


def test_a_bad_filter_is_shown_not_a_500(browser: Client, market_seed: None) -> None:
    response = browser.get("/signals/?symbol=NOSUCH&timeframe=2d")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown instrument “NOSUCH”." in html
    assert "is not a valid choice" in html


def test_missing_signal_and_strategy_pages_are_404(browser: Client, market_seed: None) -> None:
    assert browser.get("/signals/987654/").status_code == 404
    assert browser.get("/signals/strategies/astrology/").status_code == 404


def test_the_strategy_page_says_plainly_when_live_drifts(
    browser: Client, reliance: Instrument, settings: Any
) -> None:
    settings.SIGNALS_DRIFT_MIN_LIVE = 2
    StrategyEvidence.objects.create(
        instrument=reliance,
        strategy="sma_crossover",
        params_key="fast=20,slow=50",
        timeframe="1d",
        trades=40,
        wins=24,
        avg_r=0.4,
    )
    for r in ("2", "-1", "-1"):
        SignalFactory.create(
            instrument=reliance,
            r_multiple=Decimal(r),
            outcome=Outcome.TARGET if r == "2" else Outcome.STOP,
        )
    html = browser.get("/signals/strategies/sma_crossover/").content.decode()
    # 1 of 3 live (33 %) vs 24 of 40 backtested (60 %).
    assert "live hit rate 33 % vs backtested 60 % — drifting" in html
    html = browser.get("/signals/strategies/").content.decode()
    assert "live hit rate 33 % vs backtested 60 % — drifting" in html
