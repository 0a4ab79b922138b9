"""Real-browser tests of the portfolio pages against a real WebSocket server (`ws_server`):
a portfolio is created and filled in the UI, its value moves live with a tick, a bad sell
is refused next to its field, and the page fits a phone."""

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
from apps.market.models import DataSource, Instrument
from apps.portfolios import services
from apps.portfolios.models import DailySnapshot, Portfolio, Transaction, TransactionKind
from apps.portfolios.services import TransactionData
from apps.realtime.quotes import quotes_publish
from tests.browser.helpers import sign_in, verified_user
from tests.browser.helpers import simulated_quote as quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Nifty-Fifty-2025!"


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _user(email: str, name: str) -> User:
    return verified_user(email, PASSWORD, display_name=name)


def _buy(portfolio: Portfolio, symbol: str, quantity: str, price: str, days_ago: int = 30) -> None:
    services.transaction_create(
        portfolio=portfolio,
        data=TransactionData(
            kind=TransactionKind.BUY,
            executed_at=timezone.now() - timedelta(days=days_ago),
            instrument=Instrument.objects.get(symbol=symbol, exchange__code="NSE"),
            quantity=Decimal(quantity),
            price=Decimal(price),
        ),
    )


def _no_horizontal_overflow(page: Page, what: str) -> None:
    scroll_width, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == 375
    assert scroll_width <= 375, f"{what} is {scroll_width}px wide"


def test_a_portfolio_built_in_the_ui_moves_live(
    live_server: Any, ws_server: str, page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("ananya.kulkarni@example.in", "Ananya")
    ingest.quotes_ingest(batch=[quote("RELIANCE", "2951.20", "2900")], source=DataSource.SIMULATED)
    sign_in(page, base, owner.email, PASSWORD)

    page.get_by_role("navigation").get_by_role("link", name="Portfolios").click()
    page.wait_for_url(f"{base}/portfolios/")
    expect(page.get_by_text("You have no portfolios yet.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Long term")
    page.get_by_label("Description (optional)").fill("Blue chips")
    page.get_by_role("button", name="Create portfolio").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/portfolios/\d+/$"))
    portfolio = Portfolio.objects.get(owner=owner)
    assert (portfolio.name, portfolio.description) == ("Long term", "Blue chips")
    assert portfolio.benchmark is not None
    assert portfolio.benchmark.symbol == "NIFTY 50"
    root = page.locator("[data-portfolio-page]")
    # "delayed" while the market is open and no feed runs (as in tests).
    expect(page.locator("[data-rt-status]")).to_have_attribute(
        "data-state", re.compile("live|delayed")
    )
    expect(root).to_have_attribute("data-subscribed", f"portfolio:{portfolio.pk}")
    expect(page.locator("[data-holdings-empty]")).to_be_visible()

    # A buy through the form, the symbol picked from the autocomplete.
    page.get_by_role("button", name="Add transaction").first.click()
    form = page.locator("[data-tx-form]")
    expect(form.get_by_label("Type")).to_have_value("buy")
    form.locator("[data-symbol-search]").fill("RELI")
    form.get_by_role("option", name=re.compile("RELIANCE")).click()
    expect(form.locator("[data-symbol-search]")).to_have_value("RELIANCE")
    form.get_by_label("Quantity").fill("10")
    form.get_by_label("Price per share (₹)").fill("2800")
    form.locator("summary").click()
    form.get_by_label("Brokerage").fill("20")
    page.evaluate("() => { window.__sameDocument = true; }")
    form.get_by_role("button", name="Save transaction").click()

    row = page.locator('[data-holdings] tr[data-key="NSE:RELIANCE"]')
    expect(row.locator('[data-field="current_value"]')).to_have_text("₹29,512.00")
    expect(row.locator('[data-field="quantity"]')).to_have_text("10")
    expect(row.locator('[data-field="average_cost"]')).to_have_text("₹2,802.00")
    value = page.locator('[data-card="total_value"] [data-value]')
    expect(value).to_have_text("₹29,512.00")
    # Cost 28,020.00 (charges included), so P/L is 29,512.00 − 28,020.00.
    expect(page.locator('[data-card="profit_loss"] [data-value]')).to_contain_text("+₹1,492.00")
    expect(page.locator('[data-transactions-body] tr[data-kind="buy"]')).to_have_count(1)
    tx = Transaction.objects.get(portfolio=portfolio)
    assert (tx.quantity, tx.price, tx.brokerage) == (Decimal(10), Decimal(2800), Decimal(20))

    # The live valuation now holds RELIANCE; a tick moves the value without a reload.
    expect(root).to_have_attribute("data-live", "NSE:RELIANCE", timeout=5_000)
    tick = quote("RELIANCE", "2999.95", "2900")
    ingest.quotes_ingest(batch=[tick], source=DataSource.SIMULATED)
    quotes_publish([tick])
    expect(value).to_have_text("₹29,999.50", timeout=5_000)
    expect(row.locator('[data-field="last_price"]')).to_have_text("₹2,999.95")
    # Bought today, so the day change is against the cost: 29,999.50 − 28,020.00.
    expect(row.locator('[data-field="day_change"]')).to_contain_text("+₹1,979.50")
    expect(page.locator('[data-legend] [data-slice="NSE:RELIANCE"]')).to_contain_text("100.0%")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    screenshot(page, "portfolio-desktop")


def test_the_list_renames_and_deletes_a_portfolio(
    live_server: Any, ws_server: str, page: Page
) -> None:
    base = live_server.url
    owner = _user("farah.khan@example.in", "Farah")
    keep = services.portfolio_create(owner=owner, name="Core")
    _buy(keep, "TCS", "4", "3500")
    ingest.quotes_ingest(batch=[quote("TCS", "3412.55", "3450.10")], source=DataSource.SIMULATED)
    drop = services.portfolio_create(owner=owner, name="Old experiments")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/portfolios/")

    core = page.locator(f'[data-portfolio-id="{keep.pk}"]')
    # 4 × 3,412.55; day change 4 × (3,412.55 − 3,450.10); P/L 13,650.20 − 14,000.
    expect(core.locator('[data-field="total_value"]')).to_contain_text("₹13,650.20")
    expect(core.locator('[data-field="day_change"]')).to_contain_text("-₹150.20")
    expect(core.locator('[data-field="profit_loss"]')).to_contain_text("-₹349.80")
    core.get_by_role("button", name="Rename").click()
    core.get_by_role("textbox").fill("Core holdings")
    core.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Core holdings")).to_be_visible()
    keep.refresh_from_db()
    assert keep.name == "Core holdings"

    page.locator(f'[data-portfolio-id="{drop.pk}"]').get_by_role("button", name="Delete").click()
    expect(page.locator(f'[data-portfolio-id="{drop.pk}"]')).to_have_count(0)
    assert list(Portfolio.objects.filter(owner=owner).values_list("name", flat=True)) == [
        "Core holdings"
    ]


def test_a_sell_of_more_than_is_held_is_refused_next_to_the_quantity(
    live_server: Any, ws_server: str, page: Page
) -> None:
    base = live_server.url
    owner = _user("rohan.desai@example.in", "Rohan")
    portfolio = services.portfolio_create(owner=owner, name="Trading")
    _buy(portfolio, "RELIANCE", "10", "2800")
    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/portfolios/{portfolio.pk}/")
    expect(page.locator('[data-holdings] tr[data-key="NSE:RELIANCE"]')).to_be_visible()

    page.get_by_role("button", name="Add transaction").first.click()
    form = page.locator("[data-tx-form]")
    form.get_by_label("Type").select_option("sell")
    form.locator("[data-symbol-search]").fill("RELIANCE")
    form.get_by_label("Quantity").fill("50")
    form.get_by_label("Price per share (₹)").fill("3000")
    form.get_by_role("button", name="Save transaction").click()

    error = form.locator('[data-error-for="quantity"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("you cannot sell 50")
    expect(form.get_by_label("Quantity")).to_have_attribute("aria-invalid", "true")
    expect(form).to_be_visible()
    assert list(Transaction.objects.filter(portfolio=portfolio).values_list("kind", flat=True)) == [
        "buy"
    ]
    expect(page.locator("[data-transactions-body] tr")).to_have_count(1)


def test_history_metrics_allocation_and_editing(
    live_server: Any, ws_server: str, page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("sneha.pillai@example.in", "Sneha")
    portfolio = services.portfolio_create(owner=owner, name="Income")
    _buy(portfolio, "RELIANCE", "10", "2800", days_ago=40)
    _buy(portfolio, "HDFCBANK", "20", "1500", days_ago=40)
    today = timezone.localdate()
    # Forty daily values, +0.5 % and -0.2 % days in turn, the benchmark +0.25 % a day.
    value = Decimal("58000")
    for n in range(40):
        if n:
            value *= Decimal("1.005") if n % 2 else Decimal("0.998")
        DailySnapshot.objects.create(
            portfolio=portfolio, date=today - timedelta(days=40 - n),
            value=value.quantize(Decimal("0.01")), cash=0,
            net_invested=Decimal("58000"), net_flow=Decimal("58000") if n == 0 else 0,
            realised_pl=0, unrealised_pl=0, charges=0,
            benchmark_close=Decimal("22000") * Decimal("1.0025") ** n,
        )  # fmt: skip
    Portfolio.objects.filter(pk=portfolio.pk).update(snapshots_stale_from=None)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/portfolios/{portfolio.pk}/")

    # The chart draws (a canvas), with a legend naming the benchmark; a range can be chosen.
    chart = page.locator("[data-history-chart]")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(page.locator("[data-history-legend]")).to_contain_text("Nifty 50, rebased")
    page.get_by_role("button", name="1M", exact=True).click()
    expect(page.get_by_role("button", name="1M", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(chart).to_have_attribute("aria-label", re.compile("over 1M"))
    # Returns and metrics are figures, each with its definition in plain text.
    expect(
        page.locator('[data-returns-body] tr[data-period="ALL"] [data-field="twr"]')
    ).to_contain_text("%")
    sharpe = page.locator('[data-metric="sharpe"]')
    expect(sharpe.locator(".pf-metric-value")).to_have_text(re.compile(r"^-?[\d,]+\.\d\d$"))
    expect(sharpe.locator(".pf-definition")).to_contain_text("risk-free rate")

    # The donut regroups by sector.
    page.get_by_role("button", name="Sector", exact=True).click()
    legend = page.locator("[data-legend]")
    expect(legend).to_contain_text("Financial Services")
    expect(legend).to_contain_text("Oil Gas")
    expect(page.locator("[data-donut] svg")).to_have_attribute(
        "aria-label", re.compile("by sector")
    )

    # Edit the RELIANCE buy to 12 shares, then delete it.
    row = page.locator("[data-transactions-body] tr", has_text="RELIANCE")
    row.get_by_role("button", name=re.compile("^Edit")).click()
    form = page.locator("[data-tx-form]")
    expect(form.get_by_label("Quantity")).to_have_value("10")
    expect(form.locator("[data-symbol-search]")).to_have_value("RELIANCE")
    form.get_by_label("Quantity").fill("12")
    form.get_by_role("button", name="Save transaction").click()
    expect(form).to_be_hidden()
    quantity = page.locator('[data-holdings] tr[data-key="NSE:RELIANCE"] [data-field="quantity"]')
    expect(quantity).to_have_text("12")
    assert (
        Transaction.objects.get(portfolio=portfolio, instrument__symbol="RELIANCE").quantity == 12
    )
    page.locator("[data-transactions-body] tr", has_text="RELIANCE").get_by_role(
        "button", name=re.compile("^Delete")
    ).click()
    expect(page.locator('[data-holdings] tr[data-key="NSE:RELIANCE"]')).to_have_count(0)
    expect(page.locator("[data-transactions-body] tr")).to_have_count(1)
    assert not Transaction.objects.filter(
        portfolio=portfolio, instrument__symbol="RELIANCE"
    ).exists()
    screenshot(page, "portfolio-history")


def test_a_tradebook_is_checked_by_line_then_imported(
    live_server: Any, ws_server: str, page: Page, tmp_path: Any
) -> None:
    base = live_server.url
    owner = _user("kiran.bose@example.in", "Kiran")
    portfolio = services.portfolio_create(owner=owner, name="Zerodha")
    header = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,"
    header += "trade_id,order_id,order_execution_time\n"
    good = "RELIANCE,INE002A01018,2024-01-15,NSE,EQ,EQ,buy,false,10,2450.50,10001,1,\n"
    good += "HDFCBANK,INE040A01034,2024-01-17,NSE,EQ,EQ,buy,false,20,1650.25,10003,3,\n"
    bad = tmp_path / "tradebook-bad.csv"
    bad.write_text(header + good + "TCS,,2024-02-30,NSE,EQ,EQ,buy,false,1,3500,10004,4,\n")
    fixed = tmp_path / "tradebook.csv"
    fixed.write_text(header + good)
    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/portfolios/{portfolio.pk}/")
    expect(page.locator("[data-transactions-empty]")).to_be_visible()

    page.get_by_role("button", name="Import CSV").click()
    dialog = page.locator("[data-import-dialog]")
    expect(dialog).to_be_visible()
    dialog.get_by_label("CSV file").set_input_files(str(bad))
    dialog.get_by_label("Format").select_option("zerodha")
    dialog.get_by_role("button", name="Check file").click()
    errors = dialog.locator("[data-import-errors]")
    expect(errors).to_contain_text("Line 4")
    expect(dialog.get_by_role("button", name="Import", exact=True)).to_be_disabled()
    assert not Transaction.objects.filter(portfolio=portfolio).exists()

    dialog.get_by_label("CSV file").set_input_files(str(fixed))
    dialog.get_by_role("button", name="Check file").click()
    expect(dialog.locator("[data-import-result]")).to_contain_text("2 rows can be imported")
    assert not Transaction.objects.filter(portfolio=portfolio).exists()  # a check stores nothing
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.locator("[data-import-result]")).to_contain_text("Imported 2 rows")
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("[data-transactions-body] tr")).to_have_count(2)
    expect(
        page.locator('[data-holdings] tr[data-key="NSE:HDFCBANK"] [data-field="quantity"]')
    ).to_have_text("20")
    assert Transaction.objects.filter(portfolio=portfolio, source="zerodha").count() == 2


def test_portfolio_pages_fit_a_phone(
    live_server: Any, ws_server: str, phone_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("divya.nair@example.in", "Divya")
    portfolio = services.portfolio_create(
        owner=owner, name="A rather long portfolio name for a small phone screen"
    )
    for symbol, quantity, price in (
        ("RELIANCE", "10", "2800"), ("BAJFINANCE", "3", "6900"), ("TCS", "4", "3500"),
        ("HDFCBANK", "25", "1550.5"),
    ):  # fmt: skip
        _buy(portfolio, symbol, quantity, price)
    services.transaction_create(
        portfolio=portfolio,
        data=TransactionData(
            kind=TransactionKind.SELL,
            executed_at=timezone.now() - timedelta(days=10),
            instrument=Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE"),
            quantity=Decimal(5),
            price=Decimal(3000),
        ),
    )
    services.portfolio_create(owner=owner, name="Second")
    ingest.quotes_ingest(
        batch=[quote("RELIANCE", "2951.20", "2900"), quote("BAJFINANCE", "7123.45", "7000")],
        source=DataSource.SIMULATED,
    )
    sign_in(phone_page, base, owner.email, PASSWORD)

    phone_page.goto(f"{base}/portfolios/")
    expect(phone_page.locator(f'[data-portfolio-id="{portfolio.pk}"]')).to_contain_text("₹")
    _no_horizontal_overflow(phone_page, "/portfolios/")
    screenshot(phone_page, "portfolios-phone")

    phone_page.goto(f"{base}/portfolios/{portfolio.pk}/")
    expect(phone_page.locator("[data-holdings-body] tr")).to_have_count(4)
    expect(phone_page.locator("[data-transactions-body] tr")).to_have_count(5)
    expect(phone_page.locator("[data-legend] li")).to_have_count(4)
    _no_horizontal_overflow(phone_page, "the portfolio page")
    phone_page.get_by_role("button", name="Add transaction").first.click()
    expect(phone_page.locator("[data-tx-form]")).to_be_visible()
    _no_horizontal_overflow(phone_page, "the portfolio page with its form open")
    screenshot(phone_page, "portfolio-phone")

    phone_page.goto(f"{base}/portfolios/{portfolio.pk}/tax/")
    expect(phone_page.get_by_text("Estimate only: this is not tax advice.")).to_be_visible()
    # Sold 5 bought at 2,800 for 3,000 within a year: a short-term gain of 1,000, taxed at 20 %.
    sold = timezone.localdate() - timedelta(days=10)
    first = sold.year if sold.month >= 4 else sold.year - 1
    year = phone_page.locator(f'[data-year="{first}-{(first + 1) % 100:02d}"]')
    expect(year).to_contain_text(f"Financial year {first}-{(first + 1) % 100:02d}")
    expect(year.locator("[data-total-tax]")).to_have_text("₹200.00")
    _no_horizontal_overflow(phone_page, "the tax page")
