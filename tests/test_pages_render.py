"""Every HTML page renders through our templates without errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts import services
from apps.accounts.models import AuditAction, User

PUBLIC_PAGES = [
    "/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/confirm-email/",
]

ACCOUNT_PAGES = [
    "/",
    "/profile/",
    "/profile/tokens/",
    "/profile/activity/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/sessions/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
]


@pytest.fixture
def member(user: Any) -> User:
    """The suite's verified `user` (conftest.py), made staff so the Admin link renders."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_render(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/static/css/app.css"' in html
    assert "StockSense" in html


def _sign_in_recently(client: Client, user: User, password: str) -> None:
    """Log in and confirm the password, as pages behind reauthentication require."""
    client.force_login(user)
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302


@pytest.mark.parametrize("url", ACCOUNT_PAGES)
def test_account_pages_render(client: Client, member: User, password: str, url: str) -> None:
    _sign_in_recently(client, member, password)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert "data-ws-url=" in html


def test_phone_page_asks_for_password_then_renders(
    client: Client, member: User, password: str
) -> None:
    client.force_login(member)
    response = client.get("/profile/phone/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": password})
    response = client.get("/profile/phone/")
    assert response.status_code == 200
    assert 'name="phone"' in response.content.decode()


def test_new_token_is_shown_once(client: Client, member: User) -> None:
    client.force_login(member)
    response = client.post("/profile/tokens/", {"name": "My phone"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="new-token">ss_' in html
    assert "My phone" in html
    assert 'data-testid="new-token"' not in client.get("/profile/tokens/").content.decode()


def test_activity_lists_events_with_labels(client: Client, member: User) -> None:
    services.audit_record(action=AuditAction.TOKEN_CREATED, user=member)
    client.force_login(member)
    html = client.get("/profile/activity/").content.decode()
    assert "API token created" in html


def test_hindi_pages(client: Client) -> None:
    """Our strings and allauth's (translated in our catalogue) both come out in Hindi."""
    client.cookies["django_language"] = "hi"
    html = client.get("/").content.decode()
    assert '<html lang="hi"' in html
    assert "NSE और BSE के लाइव भाव" in html
    html = client.get("/accounts/login/").content.decode()
    assert "साइन इन" in html  # allauth's "Sign In"
    assert "मुझे याद रखें" in html  # allauth's "Remember Me" form label
    html = client.get("/accounts/signup/").content.decode()
    assert "आपका पासवर्ड केवल अंकों से नहीं बना होना चाहिए।" in html  # Django's validator


@pytest.fixture
def member_with_2fa(member: User) -> User:
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(member, generate_totp_secret())
    RecoveryCodes.activate(member)
    return member


def test_two_factor_sign_in_page_renders(
    client: Client, member_with_2fa: User, password: str
) -> None:
    response = client.post(
        "/accounts/login/", {"login": member_with_2fa.email, "password": password}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.get(response["Location"])
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/accounts/2fa/", "/accounts/2fa/recovery-codes/", "/accounts/2fa/totp/deactivate/"]
)
def test_two_factor_manage_pages_render(
    client: Client, member_with_2fa: User, password: str, url: str
) -> None:
    _sign_in_recently(client, member_with_2fa, password)
    response = client.get(url)
    assert response.status_code == 200
    assert 'class="card page-card"' in response.content.decode()
