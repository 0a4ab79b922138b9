"""Sign-up, e-mail verification, login, MFA enrolment and a TOTP login, through allauth's views."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from apps.accounts.models import AuditAction, AuditEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "Nifty-50 rallies on Friday!"


def _confirmation_link(message: Any) -> str:
    match = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.body)
    assert match, message.body
    return match.group(0).split("testserver", 1)[-1]


def test_new_user_signs_up_verifies_email_and_logs_in(client: Client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "asha@example.in", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="asha@example.in")
    # Not signed in before the address is verified.
    assert client.get(reverse("profile")).status_code == 302

    assert len(mail.outbox) == 1
    link = _confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    assert EmailAddress.objects.get(user=user).verified

    client.post(reverse("account_logout"))
    assert client.get(reverse("profile")).status_code == 302
    response = client.post(
        reverse("account_login"), {"login": "asha@example.in", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    actions = set(AuditEvent.objects.filter(user=user).values_list("action", flat=True))
    assert {AuditAction.SIGNUP, AuditAction.LOGIN, AuditAction.LOGOUT} <= actions


def test_wrong_password_is_refused_and_audited(client: Client, user: User) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.user == user
    assert event.actor_email == user.email
    assert event.ip == "127.0.0.1"


def test_repeated_failed_logins_are_rate_limited(client: Client, user: User) -> None:
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})
    assert response.status_code == 429 or "Too many" in response.content.decode()
    # Even the right password is refused while the limit holds.
    client.post(reverse("account_login"), {"login": user.email, "password": "x"})
    assert "_auth_user_id" not in client.session


# allauth sends its MFA signals on commit, inside the request: use real transactions.
@pytest.mark.django_db(transaction=True)
def test_user_enrols_totp_and_then_needs_a_code_to_log_in(
    client: Client, user: User, password: str, settings: Any
) -> None:
    # One step of clock tolerance lets the test use the next code instead of waiting 30 s.
    settings.MFA_TOTP_TOLERANCE = 1
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    # Turning MFA on asks for the password again first.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": password})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    totp = pyotp.TOTP(secret)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp.now()})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(user=user, action=AuditAction.MFA_ADDED).exists()

    client.post(reverse("account_logout"))
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("profile")).status_code == 302  # not yet signed in

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp.at(time.time() + 30)})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200


def test_superuser_reaches_the_admin_through_the_site_login(client: Client, password: str) -> None:
    admin = User.objects.create_superuser("root@example.in", password)
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    response = client.get("/admin/")
    assert response.status_code == 302
    # The admin login is allauth's (rate-limited, MFA-aware), not Django's bare form.
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.post(reverse("account_login"), {"login": admin.email, "password": password})
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/auditevent/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_changing_phone_asks_for_reauthentication(client: Client, user: User, password: str,
                                                 settings: Any) -> None:
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    response = client.get(reverse("profile_phone"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    client.post(response["Location"], {"password": password})
    response = client.post(reverse("profile_phone"), {"phone": "+91 98765 43210"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone == "+919876543210"


def test_user_sees_active_sessions_and_ends_the_others(user: User, password: str) -> None:
    laptop, phone = Client(HTTP_USER_AGENT="Laptop"), Client(HTTP_USER_AGENT="Phone")
    for device in (laptop, phone):
        device.post(reverse("account_login"), {"login": user.email, "password": password})
        assert device.get(reverse("profile")).status_code == 200
    page = laptop.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert len(page.context["sessions"]) == 2
    laptop.post(reverse("usersessions_list"))
    assert laptop.get(reverse("profile")).status_code == 200
    assert phone.get(reverse("profile")).status_code == 302


def test_security_changes_ask_for_the_password_again(
    client: Client, user: User, password: str, settings: Any
) -> None:
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    # The password form itself asks for the current password.
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "guess", "password1": "N3w-Secret-Pass!", "password2": "N3w-Secret-Pass!"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(password)
    # Adding an e-mail address and enabling MFA go through re-authentication.
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.in"}
    )
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
