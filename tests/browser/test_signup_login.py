"""Real-browser tests: sign-up with e-mail confirmation, sign-in, phone layout, Hindi."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import translation
from playwright.sync_api import Page, expect

from apps.accounts import services
from apps.accounts.models import User
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "meera.iyer@example.in"
PASSWORD = "Sensex-Bull-2024!"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def _main(page: Page):
    return page.locator("main")


def _no_horizontal_overflow(page: Page) -> tuple[int, int]:
    return page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )


def test_sign_up_confirm_sign_out_and_sign_in(live_server, page: Page, screenshot) -> None:
    base = live_server.url
    page.goto(f"{base}/")
    expect(page).to_have_title(re.compile("StockSense"))
    screenshot(page, "landing-desktop")

    page.get_by_role("navigation").get_by_role("link", name="Sign up").click()
    page.wait_for_url(f"{base}/accounts/signup/")
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    screenshot(page, "signup-desktop")
    _main(page).get_by_role("button", name="Sign Up").click()

    page.wait_for_url(f"{base}/accounts/confirm-email/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Verify Your Email Address")
    )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    link = CONFIRM_LINK.search(str(message.body))
    assert link, message.body

    page.goto(link.group(0))
    expect(_main(page)).to_contain_text(EMAIL)
    _main(page).get_by_role("button", name="Confirm").click()

    # ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION: confirming signs the new member in.
    page.wait_for_url(f"{base}/profile/")
    expect(page.get_by_test_id("profile-email")).to_have_text(EMAIL)
    assert EmailAddress.objects.get(email=EMAIL).verified

    nav = page.get_by_role("navigation")
    nav.get_by_text("Account", exact=True).click()  # the account menu holds "Sign out"
    nav.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"{base}/profile/")
    assert page.url.startswith(f"{base}/accounts/login/")

    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    _main(page).get_by_role("button", name="Sign In").click()

    page.wait_for_url(f"{base}/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    expect(page.get_by_test_id("profile-email")).to_have_text(EMAIL)
    screenshot(page, "profile-desktop")


def test_pages_fit_a_phone_screen(live_server, phone_page: Page, screenshot) -> None:
    base = live_server.url
    for path, name in [
        ("/", "landing"),
        ("/accounts/login/", "login"),
        ("/accounts/signup/", "signup"),
    ]:
        phone_page.goto(f"{base}{path}")
        scroll_width, client_width = _no_horizontal_overflow(phone_page)
        assert scroll_width <= 375, f"{path} is {scroll_width}px wide"
        assert client_width == 375
        screenshot(phone_page, f"{name}-phone")

    # The phone menu is collapsed until the Menu button is pressed.
    nav_link = phone_page.get_by_role("navigation").get_by_role("link", name="Sign in")
    expect(nav_link).to_be_hidden()
    phone_page.get_by_text("Menu", exact=True).click()
    expect(nav_link).to_be_visible()
    screenshot(phone_page, "menu-phone")

    user = User.objects.create_user(EMAIL, PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    services.api_token_create(user=user, name="Pixel 8 with a long descriptive token name")
    sign_in(phone_page, base, EMAIL, PASSWORD)
    for path, name in [
        ("/profile/", "profile"),
        ("/profile/tokens/", "tokens"),
        ("/profile/activity/", "activity"),
        ("/accounts/sessions/", "sessions"),
        ("/accounts/2fa/", "security"),
    ]:
        phone_page.goto(f"{base}{path}")
        scroll_width, _ = _no_horizontal_overflow(phone_page)
        assert scroll_width <= 375, f"{path} is {scroll_width}px wide"
        screenshot(phone_page, f"{name}-phone")


def test_switching_to_hindi(live_server, page: Page, screenshot) -> None:
    with translation.override("hi"):
        hindi_title = translation.gettext("Live NSE and BSE prices, analysed the moment they move.")
        hindi_sign_in = translation.gettext("Sign in")
        hindi_login_title = translation.gettext("Sign In")  # allauth's msgid
    assert hindi_title != "Live NSE and BSE prices, analysed the moment they move.", (
        "the Hindi catalogue is missing: run manage.py compilemessages"
    )

    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The switcher submits itself when a language is picked (frontend/js/app.js).
    expect(page.locator(".lang-form button[type=submit]")).to_be_hidden()
    with page.expect_navigation():
        page.select_option("#language-select", "hi")

    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.get_by_role("heading", level=1)).to_have_text(hindi_title)
    expect(page.get_by_role("navigation").get_by_role("link", name=hindi_sign_in)).to_be_visible()
    screenshot(page, "landing-hindi")

    # The choice sticks, and allauth's pages are in Hindi too (our catalogue covers them).
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.get_by_role("heading", level=1)).to_have_text(hindi_login_title)
    screenshot(page, "login-hindi")
