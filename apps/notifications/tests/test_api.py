"""The REST API: owner / outsider on every endpoint, filters, read state, destinations with
test and code verification, preferences; bad input is a 400 naming the field."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from django.urls import reverse
from rest_framework.test import APIClient

from apps.notifications.models import Delivery, Destination, Notification, VerificationCode
from apps.notifications.services import notification_send
from apps.notifications.tests.conftest import TWILIO_URL, client_for, make_destination

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(user: Any) -> dict[str, Any]:
    destination = make_destination(user, "slack", {"url": "https://hooks.slack.com/services/T/B/X"})
    notification = notification_send(user=user, message="TCS fell 3%", source="alert")
    return {"destination": destination, "notification": notification}


def _routes(owned: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    d, n = owned["destination"].pk, owned["notification"].pk
    return [
        ("get", reverse("api-destination", args=[d]), None),
        ("patch", reverse("api-destination", args=[d]), {"label": "x"}),
        ("post", reverse("api-destination-test", args=[d]), None),
        ("post", reverse("api-destination-verify", args=[d]), {"code": "123456"}),
        ("post", reverse("api-destination-send-code", args=[d]), None),
        ("delete", reverse("api-destination", args=[d]), None),
        ("post", reverse("api-notification-read", args=[n]), None),
        ("get", reverse("api-notification-deliveries", args=[n]), None),
    ]


def test_outsider_gets_404_for_every_owned_object(owned: dict[str, Any], other_user: Any) -> None:
    client = client_for(other_user)
    for method, url, body in _routes(owned):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["error"]["code"] == "not_found"
    assert Destination.objects.filter(pk=owned["destination"].pk).exists()
    assert owned["notification"].__class__.objects.get(pk=owned["notification"].pk).read_at is None


def test_anonymous_gets_401_or_403_everywhere(owned: dict[str, Any]) -> None:
    client = APIClient()
    for method, url, body in _routes(owned) + [
        ("get", reverse("api-notifications"), None),
        ("get", reverse("api-destinations"), None),
        ("get", reverse("api-notification-preferences"), None),
        ("get", reverse("api-notifications-unread"), None),
        ("post", reverse("api-notifications-read-all"), None),
    ]:
        assert getattr(client, method)(url, body, format="json").status_code in (401, 403)


def test_lists_show_only_the_callers_rows(owned: dict[str, Any], other_user: Any) -> None:
    notification_send(user=other_user, message="not yours")
    client = client_for(other_user)
    titles = [n["title"] for n in client.get(reverse("api-notifications")).json()["results"]]
    assert titles == ["not yours"]
    kinds = [d["kind"] for d in client.get(reverse("api-destinations")).json()]
    assert kinds == ["in_app"]
    assert client.get(reverse("api-notifications-unread")).json() == {"unread_count": 1}


def test_owner_filters_marks_read_and_sees_deliveries(auth_client: APIClient, user: Any,
                                                     owned: dict[str, Any]) -> None:
    notification_send(user=user, message="digest stuff", priority="low", source="digest")
    url = reverse("api-notifications")
    assert len(auth_client.get(url).json()["results"]) == 2
    assert [n["source"] for n in auth_client.get(url, {"source": "alert"}).json()["results"]] == [
        "alert"]
    assert [n["priority"] for n in auth_client.get(url, {"priority": "low"}).json()["results"]] \
        == ["low"]
    n = owned["notification"]
    response = auth_client.post(reverse("api-notification-read", args=[n.pk]))
    assert response.status_code == 200
    assert response.json()["read_at"]
    unread = auth_client.get(url, {"read": "false"}).json()["results"]
    assert [x["source"] for x in unread] == ["digest"]
    assert auth_client.get(reverse("api-notifications-unread")).json()["unread_count"] == 1
    assert auth_client.post(reverse("api-notifications-read-all")).json() == {"unread_count": 0}
    assert auth_client.get(reverse("api-notifications-unread")).json()["unread_count"] == 0
    deliveries = auth_client.get(reverse("api-notification-deliveries", args=[n.pk])).json()
    assert {d["destination"]["kind"] for d in deliveries} == {"in_app", "slack"}
    assert all("attempt_log" in d for d in deliveries)


def test_bad_filters_and_bad_destinations_are_400_naming_the_field(
    auth_client: APIClient
) -> None:
    response = auth_client.get(reverse("api-notifications"), {"priority": "urgent"})
    assert response.status_code == 400
    assert "priority" in response.json()["error"]["fields"]
    url = reverse("api-destinations")
    cases = [
        ({"kind": "pigeon"}, "kind"),
        ({"kind": "sms", "config": {"phone": "12"}}, "config.phone"),
        ({"kind": "email", "config": {"address": "nope"}}, "config.address"),
        ({"kind": "slack", "config": {"url": "https://evil.example/hook"}}, "config.url"),
        ({"kind": "discord", "config": {}}, "config.url"),
        ({"kind": "web_push", "config": {"endpoint": "https://p.example/x"}}, "config.keys"),
        ({"kind": "webhook", "config": {"url": "https://a.example"}, "priorities": ["x"]},
         "priorities.0"),
    ]
    for body, field in cases:
        response = auth_client.post(url, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], (field, response.json())


def test_webhook_destination_shows_its_secret_and_is_verified_by_a_test(
    auth_client: APIClient, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = auth_client.post(reverse("api-destinations"), {
        "kind": "webhook", "label": "n8n", "config": {"url": "https://93.184.215.14/h"},
    }, format="json")
    assert response.status_code == 201
    created = response.json()
    assert len(created["config"]["secret"]) >= 32
    assert created["verified"] is False
    # Unverified: real notifications skip it.
    assert not notification_send(user=user, message="x").deliveries.filter(
        destination_id=created["id"]).exists()
    with responses.RequestsMock() as mock:
        mock.post("https://93.184.215.14/h", status=200)
        with django_capture_on_commit_callbacks(execute=True):
            test = auth_client.post(reverse("api-destination-test", args=[created["id"]]))
        assert test.status_code == 202
    assert Destination.objects.get(pk=created["id"]).verified_at is not None
    assert Delivery.objects.get(pk=test.json()["id"]).status == "delivered"


@responses.activate
def test_phone_is_verified_by_the_code_sent_by_sms(
    auth_client: APIClient, twilio: None, django_capture_on_commit_callbacks: Any
) -> None:
    responses.post(TWILIO_URL, status=201, json={"sid": "SM9", "status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(reverse("api-destinations"), {
            "kind": "sms", "config": {"phone": "+91 98765 43210"},
        }, format="json")
    assert response.status_code == 201
    destination_id = response.json()["id"]
    assert response.json()["config"]["phone"] == "+919876543210"
    sms = parse_qs(str(responses.calls[0].request.body))["Body"][0]
    code = re.search(r"\b(\d{6})\b", sms).group(1)  # type: ignore[union-attr]
    stored = VerificationCode.objects.get(destination_id=destination_id)
    assert code not in stored.code_hash  # hashed, not stored

    url = reverse("api-destination-verify", args=[destination_id])
    wrong = "000000" if code != "000000" else "111111"
    response = auth_client.post(url, {"code": wrong}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]
    assert auth_client.post(url, {"code": "12ab"}, format="json").status_code == 400
    response = auth_client.post(url, {"code": code}, format="json")
    assert response.status_code == 200
    assert response.json()["verified"] is True
    assert not VerificationCode.objects.filter(destination_id=destination_id).exists()


def test_codes_expire_and_allow_only_five_guesses(user: Any, auth_client: APIClient) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.notifications.verification import _hash

    destination = make_destination(user, "sms", {"phone": "+919876543210"}, verified=False)
    VerificationCode.objects.create(destination=destination, code_hash=_hash(destination.pk,
                                    "424242"), expires_at=timezone.now() + timedelta(minutes=5))
    url = reverse("api-destination-verify", args=[destination.pk])
    for _ in range(5):
        assert auth_client.post(url, {"code": "999999"}, format="json").status_code == 400
    response = auth_client.post(url, {"code": "424242"}, format="json")
    assert response.status_code == 400  # locked even with the right code
    assert "Too many" in response.json()["error"]["fields"]["code"][0]
    VerificationCode.objects.filter(destination=destination).update(
        attempts=0, expires_at=timezone.now() - timedelta(seconds=1))
    response = auth_client.post(url, {"code": "424242"}, format="json")
    assert "expired" in response.json()["error"]["fields"]["code"][0]


def test_own_account_email_is_verified_at_once(auth_client: APIClient, user: Any) -> None:
    response = auth_client.post(reverse("api-destinations"), {
        "kind": "email", "config": {"address": user.email.upper()},
    }, format="json")
    assert response.json()["verified"] is True


def test_re_enabling_a_disabled_destination(auth_client: APIClient, owned: dict[str, Any]) -> None:
    d = owned["destination"]
    Destination.objects.filter(pk=d.pk).update(disabled=True, disabled_reason="404")
    response = auth_client.patch(reverse("api-destination", args=[d.pk]), {"disabled": False},
                                 format="json")
    assert response.json()["disabled"] is False
    assert response.json()["disabled_reason"] == ""


def test_preferences_round_trip_and_validate(auth_client: APIClient) -> None:
    url = reverse("api-notification-preferences")
    assert auth_client.get(url).json()["digest_low"] is True
    response = auth_client.patch(url, {"quiet_hours_enabled": True, "quiet_start": "22:00",
                                       "quiet_end": "07:00", "quiet_outside_market_only": True},
                                 format="json")
    assert response.status_code == 200
    assert response.json()["quiet_start"] == "22:00:00"
    response = auth_client.patch(url, {"digest_hour": 25}, format="json")
    assert response.status_code == 400
    assert "digest_hour" in response.json()["error"]["fields"]


def test_preferences_refuse_quiet_hours_that_end_when_they_start(
    auth_client: APIClient
) -> None:
    url = reverse("api-notification-preferences")
    response = auth_client.patch(url, {"quiet_hours_enabled": True, "quiet_start": "22:00",
                                       "quiet_end": "22:00"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["quiet_end"]
    assert auth_client.get(url).json()["quiet_hours_enabled"] is False
    response = auth_client.patch(url, {"quiet_start": None, "quiet_end": None}, format="json")
    assert response.status_code == 200


def test_the_openapi_schema_documents_the_endpoints(auth_client: APIClient) -> None:
    schema = auth_client.get(reverse("api-schema"), {"format": "json"}).json()
    for path in ("/api/v1/notifications/",
                 "/api/v1/notifications/destinations/{destination_id}/verify/",
                 "/api/v1/notifications/preferences/"):
        assert path in schema["paths"]


def test_the_centre_page_renders_with_the_badge(client: Any, user: Any) -> None:
    notification_send(user=user, message="RELIANCE crossed 2500")
    client.force_login(user)
    response = client.get(reverse("notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-notif-centre" in html
    assert "RELIANCE crossed 2500" in html
    assert "data-prefs-form" in html
    assert "Asia/Kolkata" in html
    assert re.search(r"data-notif-count>1<", html)
    assert Notification.objects.filter(user=user).count() == 1
