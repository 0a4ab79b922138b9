"""Steps the browser tests share: a verified account and signing in through the real page."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from allauth.account.models import EmailAddress
from django.db import connections
from playwright.sync_api import Page

from apps.accounts.models import User

T = TypeVar("T")


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


def as_server(service: Callable[..., T], **kwargs: Any) -> T:
    """Call a service as a request would, off this thread: Playwright's event loop runs
    here, and `events.publish` cannot reach the channel layer from an event-loop thread."""

    def call() -> T:
        try:
            return service(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
