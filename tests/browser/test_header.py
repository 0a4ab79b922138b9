"""The header of a signed-in page: every main section fits a 1280 px screen, and the account
pages sit in a menu that opens, closes on a click elsewhere or Escape, and works on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Header-Menu-2026!"


def _overflow(page: Page) -> int:
    return int(page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    ))


def test_the_header_fits_a_desktop_and_the_account_menu_opens_and_closes(
    live_server: Any, page: Page
) -> None:
    user = verified_user("kavya.iyer@example.in", PASSWORD)
    sign_in(page, live_server.url, user.email, PASSWORD)
    page.goto(f"{live_server.url}/dashboard/")
    nav = page.get_by_role("navigation")
    for name in ("Dashboard", "Markets", "Alerts", "Portfolios", "Rooms", "Notifications"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    assert _overflow(page) == 0
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] < 120  # one row, not a wrapped block

    profile = nav.get_by_role("link", name="Profile")
    expect(profile).to_be_hidden()
    nav.get_by_text("Account", exact=True).click()
    expect(profile).to_be_visible()
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(profile).to_be_hidden()
    nav.get_by_text("Account", exact=True).click()
    page.keyboard.press("Escape")
    expect(profile).to_be_hidden()

    nav.get_by_text("Account", exact=True).click()
    profile.click()
    page.wait_for_url(f"{live_server.url}/profile/")
    expect(page.get_by_role("navigation").get_by_text("Account", exact=True)).to_have_attribute(
        "aria-current", "true"
    )


def test_the_account_menu_works_in_the_phone_menu(live_server: Any, phone_page: Page) -> None:
    user = verified_user("rohan.das@example.in", PASSWORD)
    sign_in(phone_page, live_server.url, user.email, PASSWORD)
    phone_page.goto(f"{live_server.url}/dashboard/")
    phone_page.get_by_text("Menu", exact=True).click()
    nav = phone_page.get_by_role("navigation")
    nav.get_by_text("Account", exact=True).click()
    nav.get_by_role("link", name="Sessions").click()
    phone_page.wait_for_url(f"{live_server.url}/accounts/sessions/**")
    assert _overflow(phone_page) == 0
