"""The accounts REST API: profile, token sign-in, tokens, audit log, WebSocket tickets."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import DatabaseError, transaction
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken, AuditAction, AuditEvent, User
from apps.accounts.services import api_token_create
from apps.accounts.tickets import ws_ticket_redeem

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


class TestMe:
    def test_anonymous_gets_401_with_the_error_body(self, api_client: APIClient) -> None:
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert response.json()["error"]["fields"] == {}

    def test_user_reads_own_profile(self, auth_client: APIClient, user: User) -> None:
        body = auth_client.get("/api/v1/me/").json()
        assert body["email"] == user.email
        assert body["time_zone"] == "Asia/Kolkata"
        assert body["mfa_enabled"] is False

    def test_patch_updates_profile_and_audits_old_and_new(
        self, auth_client: APIClient, user: User
    ) -> None:
        response = auth_client.patch(
            "/api/v1/me/", {"display_name": "Asha", "time_zone": "Europe/London", "language": "hi"}
        )
        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.display_name, user.time_zone, user.language) == ("Asha", "Europe/London", "hi")
        event = AuditEvent.objects.get(action=AuditAction.PROFILE_CHANGED)
        assert event.old_values["time_zone"] == "Asia/Kolkata"
        assert event.new_values["time_zone"] == "Europe/London"

    def test_bad_fields_get_400_naming_each_field_and_nothing_changes(
        self, auth_client: APIClient, user: User
    ) -> None:
        response = auth_client.patch(
            "/api/v1/me/", {"time_zone": "Mars/Olympus", "language": "fr", "display_name": "X"}
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert set(error["fields"]) == {"time_zone", "language"}
        user.refresh_from_db()
        assert user.time_zone == "Asia/Kolkata"
        assert user.display_name != "X"

    def test_phone_change_needs_the_current_password(
        self, auth_client: APIClient, user: User, password: str
    ) -> None:
        response = auth_client.patch("/api/v1/me/", {"phone": "+91 98765 43210"})
        assert response.status_code == 400
        assert "current_password" in response.json()["error"]["fields"]
        response = auth_client.patch(
            "/api/v1/me/", {"phone": "+91 98765 43210", "current_password": "wrong"}
        )
        assert response.status_code == 400
        response = auth_client.patch(
            "/api/v1/me/", {"phone": "+91 98765 43210", "current_password": password}
        )
        assert response.status_code == 200
        assert response.json()["phone"] == "+919876543210"

    def test_invalid_phone_is_a_field_error(self, auth_client: APIClient, password: str) -> None:
        response = auth_client.patch(
            "/api/v1/me/", {"phone": "12345", "current_password": password}
        )
        assert response.status_code == 400
        assert "phone" in response.json()["error"]["fields"]


class TestTokenSignIn:
    def test_mobile_client_exchanges_password_for_a_working_token(
        self, api_client: APIClient, user: User, password: str
    ) -> None:
        response = api_client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": password, "name": "Pixel"}
        )
        assert response.status_code == 201
        raw = response.json()["token"]
        assert raw.startswith("ss_")
        # Only a hash is stored.
        assert not ApiToken.objects.filter(key_hash=raw).exists()
        me = _bearer(raw).get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["email"] == user.email

    def test_wrong_password_is_401_and_audited(self, api_client: APIClient, user: User) -> None:
        response = api_client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": "wrong"}
        )
        assert response.status_code == 401
        assert AuditEvent.objects.filter(user=user, action=AuditAction.LOGIN_FAILED).exists()

    def test_unverified_email_cannot_get_a_token(
        self, api_client: APIClient, user: User, password: str
    ) -> None:
        EmailAddress.objects.filter(user=user).update(verified=False)
        response = api_client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": password}
        )
        assert response.status_code == 401

    def test_missing_fields_are_400(self, api_client: APIClient) -> None:
        response = api_client.post("/api/v1/auth/token/", {"email": "not-an-email"})
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"email", "password"}

    def test_mfa_user_needs_a_valid_code(
        self, api_client: APIClient, user: User, password: str
    ) -> None:
        secret = pyotp.random_base32()
        TOTP.activate(user, secret)
        assert Authenticator.objects.filter(user=user).exists()
        payload = {"email": user.email, "password": password}
        response = api_client.post("/api/v1/auth/token/", payload)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "mfa_required"
        response = api_client.post("/api/v1/auth/token/", payload | {"code": "123456"})
        assert response.status_code == 401
        code = pyotp.TOTP(secret).at(time.time())
        response = api_client.post("/api/v1/auth/token/", payload | {"code": code})
        assert response.status_code == 201

    def test_repeated_failures_are_throttled(self, api_client: APIClient, user: User) -> None:
        statuses = [
            api_client.post(
                "/api/v1/auth/token/", {"email": user.email, "password": "wrong"}
            ).status_code
            for _ in range(7)
        ]
        assert statuses[:5] == [401] * 5
        assert statuses[-1] == 429


class TestTokens:
    def test_user_lists_only_own_tokens(
        self, auth_client: APIClient, user: User, other_user: User
    ) -> None:
        api_token_create(user=user, name="mine")
        api_token_create(user=other_user, name="theirs")
        body = auth_client.get("/api/v1/tokens/").json()
        assert [t["name"] for t in body["results"]] == ["mine"]
        assert "key_hash" not in body["results"][0]

    def test_owner_revokes_token_and_it_stops_working(self, user: User) -> None:
        token, raw = api_token_create(user=user, name="phone")
        client = _bearer(raw)
        assert client.get("/api/v1/me/").status_code == 200
        response = client.delete(f"/api/v1/tokens/{token.pk}/")
        assert response.status_code == 204
        assert client.get("/api/v1/me/").status_code == 401
        actions = list(AuditEvent.objects.filter(user=user).values_list("action", flat=True))
        assert AuditAction.TOKEN_CREATED in actions
        assert AuditAction.TOKEN_REVOKED in actions

    def test_outsider_gets_404_revoking_someone_elses_token(
        self, auth_client: APIClient, other_user: User
    ) -> None:
        token, _raw = api_token_create(user=other_user, name="theirs")
        assert auth_client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_create_token_needs_a_name(self, auth_client: APIClient) -> None:
        response = auth_client.post("/api/v1/tokens/", {})
        assert response.status_code == 400
        assert "name" in response.json()["error"]["fields"]

    def test_garbage_token_is_401(self) -> None:
        assert _bearer("ss_nothing_here").get("/api/v1/me/").status_code == 401


class TestAuditLog:
    def test_user_sees_only_own_events(
        self, auth_client: APIClient, user: User, other_user: User
    ) -> None:
        api_token_create(user=user, name="mine")
        api_token_create(user=other_user, name="theirs")
        events = auth_client.get("/api/v1/audit/").json()["results"]
        assert [e["action"] for e in events] == ["token_created"]
        assert events[0]["new_values"]["name"] == "mine"

    def test_rows_cannot_be_changed_or_deleted(self, user: User) -> None:
        api_token_create(user=user, name="x")
        event = AuditEvent.objects.get()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="login")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get().action == AuditAction.TOKEN_CREATED


class TestWsTicket:
    def test_ticket_is_single_use(self, auth_client: APIClient, user: User) -> None:
        response = auth_client.post("/api/v1/realtime/ticket/")
        assert response.status_code == 201
        ticket = response.json()["ticket"]
        assert ws_ticket_redeem(ticket=ticket) == user
        assert ws_ticket_redeem(ticket=ticket) is None

    def test_unknown_ticket_is_refused(self, db: Any) -> None:
        assert ws_ticket_redeem(ticket="made-up") is None


def test_schema_documents_the_accounts_api(api_client: APIClient) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/me/", "/api/v1/auth/token/", "/api/v1/tokens/"} <= set(paths)


def test_audit_ip_comes_from_the_trusted_proxy_hop(rf: Any, settings: Any) -> None:
    from apps.accounts.services import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
                     REMOTE_ADDR="10.0.0.2")
    settings.NUM_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"
    settings.NUM_PROXIES = 1
    assert client_ip(request) == "198.51.100.7"
    settings.NUM_PROXIES = 2
    assert client_ip(request) == "203.0.113.9"
