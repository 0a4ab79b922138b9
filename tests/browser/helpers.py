"""Steps the browser tests share: a verified account and signing in through the real page."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from playwright.sync_api import Page

from apps.accounts.models import User


def verified_user(email: str, password: str, **fields: Any) -> User:
    user = User.objects.create_user(email, password, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the login form and wait for the profile page."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base_url}/profile/")
