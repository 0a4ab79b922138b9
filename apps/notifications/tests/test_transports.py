"""Each transport against its provider's HTTP API, stubbed at the boundary with `responses`:
success, a transient error then success, and a permanent error that turns the destination
off and tells the user in-app."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from django.utils import timezone

from apps.core.mail.backends import SENDGRID_SEND_URL
from apps.notifications.delivery import delivery_process
from apps.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    Notification,
)
from apps.notifications.services import notification_send
from apps.notifications.tests.conftest import (
    DISCORD_URL,
    PUBLIC_HOOK,
    PUSH_ENDPOINT,
    SLACK_URL,
    TWILIO_URL,
    make_destination,
)
from apps.notifications.transports.web_push import vapid_keys_generate

pytestmark = pytest.mark.django_db


def _push_config() -> dict[str, Any]:
    """A real browser-shaped subscription: a P-256 public key and a 16-byte auth secret."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"endpoint": PUSH_ENDPOINT, "keys": {"p256dh": b64(key), "auth": b64(os.urandom(16))}}


# kind, config, provider URL, method, success body/headers, expected provider id
CASES: dict[str, dict[str, Any]] = {
    "email": {
        "config": {"address": "asha@example.in"}, "url": SENDGRID_SEND_URL,
        "ok": {"status": 202, "headers": {"X-Message-Id": "sg-msg-1"}}, "id": "sg-msg-1",
        "gone": 400,
    },
    "sms": {
        "config": {"phone": "+919876543210"}, "url": TWILIO_URL,
        "ok": {"status": 201, "json": {"sid": "SM42", "status": "queued"}}, "id": "SM42",
        "gone": 400,
    },
    "slack": {"config": {"url": SLACK_URL}, "url": SLACK_URL,
              "ok": {"status": 200, "body": "ok"}, "id": None, "gone": 404},
    "discord": {"config": {"url": DISCORD_URL}, "url": DISCORD_URL,
                "ok": {"status": 200, "json": {"id": "998877"}}, "id": "998877", "gone": 404},
    "webhook": {"config": {"url": PUBLIC_HOOK}, "url": PUBLIC_HOOK,
                "ok": {"status": 200, "body": ""}, "id": None, "gone": 410},
    "web_push": {"config": None, "url": PUSH_ENDPOINT,
                 "ok": {"status": 201, "headers": {"Location": "https://push/1"}},
                 "id": "https://push/1", "gone": 410},
}


@pytest.fixture(autouse=True)
def _providers(settings: Any, twilio: None) -> None:
    settings.SENDGRID_API_KEY = "SG.test"
    private, public = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.NOTIFICATIONS_RETRY_BASE = 30


def _setup(user: Any, kind: str) -> Delivery:
    config = CASES[kind]["config"] or _push_config()
    destination = make_destination(user, kind, config, label=f"my {kind}")
    notification = notification_send(
        user=user, title="RELIANCE crossed ₹2,950", message="RELIANCE is at ₹2,951.20",
        channels=[{"web_push": "push"}.get(kind, kind)], priority="high", source="alert",
    )
    return Delivery.objects.get(notification=notification, destination=destination)


def _due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.mark.parametrize("kind", list(CASES))
@responses.activate
def test_success_records_the_attempt_and_provider_id(user: Any, kind: str) -> None:
    case = CASES[kind]
    responses.post(case["url"], **case["ok"])
    delivery = _setup(user, kind)
    assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    if case["id"]:
        assert delivery.provider_id == case["id"]
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status == "delivered"
    assert delivery.destination.__class__.objects.get(pk=delivery.destination_id).last_notify
    assert len(responses.calls) == 1


@pytest.mark.parametrize("kind", list(CASES))
@responses.activate
def test_transient_error_is_retried_with_back_off_then_delivered(user: Any, kind: str) -> None:
    case = CASES[kind]
    responses.post(case["url"], status=503, body="busy")
    delivery = _setup(user, kind)
    before = timezone.now()
    assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at >= before + timedelta(seconds=29)
    # Not due yet: a duplicate task message does nothing.
    assert delivery_process(delivery_id=delivery.pk) is None

    responses.replace(responses.POST, case["url"], **case["ok"])
    _due_now(delivery)
    assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
    statuses = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status",
                                                                                 flat=True))
    assert statuses == ["transient", "delivered"]
    assert not Destination.objects.get(pk=delivery.destination_id).disabled


@pytest.mark.parametrize("kind", list(CASES))
@responses.activate
def test_permanent_error_disables_the_destination_and_tells_the_user(
    user: Any, kind: str
) -> None:
    case = CASES[kind]
    responses.post(case["url"], status=case["gone"], json={"message": "gone"})
    delivery = _setup(user, kind)
    assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.FAILED
    destination = Destination.objects.get(pk=delivery.destination_id)
    assert destination.disabled
    assert destination.disabled_reason
    notice = Notification.objects.filter(user=user, source="system").get()
    assert f"my {kind}" in notice.title
    assert notice.priority == "high"
    # Nothing goes to it any more.
    later = notification_send(user=user, message="TCS fell 3%", priority="high")
    assert not later.deliveries.filter(destination=destination).exists()


@responses.activate
def test_five_transient_failures_fail_the_delivery_without_disabling(user: Any) -> None:
    responses.post(SLACK_URL, status=500)
    delivery = _setup(user, "slack")
    results = []
    for _ in range(5):
        _due_now(delivery)
        results.append(delivery_process(delivery_id=delivery.pk))
    assert results == ["pending"] * 4 + ["failed"]
    delivery.refresh_from_db()
    assert delivery.attempts == 5
    assert not Destination.objects.get(pk=delivery.destination_id).disabled


@responses.activate
def test_webhook_signature_is_hmac_sha256_of_the_exact_body(user: Any) -> None:
    responses.post(PUBLIC_HOOK, status=204)
    delivery = _setup(user, "webhook")
    delivery_process(delivery_id=delivery.pk)
    request = responses.calls[0].request
    body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
    secret = Destination.objects.get(pk=delivery.destination_id).config["secret"]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-StockSense-Signature"] == expected
    payload = json.loads(body)
    assert payload["delivery_id"] == delivery.pk
    assert payload["title"] == "RELIANCE crossed ₹2,950"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data"],
)
def test_webhooks_to_private_addresses_are_refused(user: Any, url: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        destination = make_destination(user, "webhook", {"url": url})
        notification = notification_send(user=user, message="x", channels=["webhook"])
        delivery = Delivery.objects.get(notification=notification, destination=destination)
        assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.FAILED
        assert not mock.calls  # refused before connecting
    destination.refresh_from_db()
    assert destination.disabled
    assert "non-public" in destination.disabled_reason


def test_private_webhooks_are_allowed_when_self_hosting(user: Any, settings: Any) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_URLS = True
    with responses.RequestsMock() as mock:
        mock.post("http://10.1.2.3/hook", status=200)
        destination = make_destination(user, "webhook", {"url": "http://10.1.2.3/hook"})
        notification = notification_send(user=user, message="x", channels=["webhook"])
        delivery = Delivery.objects.get(notification=notification, destination=destination)
        assert delivery_process(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED


@responses.activate
def test_sms_asks_twilio_for_status_callbacks(user: Any, settings: Any) -> None:
    settings.NOTIFICATIONS_PUBLIC_URL = "https://stocksense.example"
    responses.post(TWILIO_URL, status=201, json={"sid": "SM1", "status": "queued"})
    delivery = _setup(user, "sms")
    delivery_process(delivery_id=delivery.pk)
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["StatusCallback"] == [
        "https://stocksense.example/api/v1/notifications/callbacks/twilio/"
    ]
    assert form["To"] == ["+919876543210"]


@responses.activate
def test_email_carries_the_delivery_id_for_sendgrid_events(user: Any) -> None:
    responses.post(SENDGRID_SEND_URL, status=202, headers={"X-Message-Id": "m1"})
    delivery = _setup(user, "email")
    delivery_process(delivery_id=delivery.pk)
    payload = json.loads(responses.calls[0].request.body or b"{}")
    assert payload["custom_args"] == {"delivery_id": str(delivery.pk)}
    assert payload["personalizations"][0]["to"] == [{"email": "asha@example.in"}]


@responses.activate
def test_push_body_is_encrypted_and_vapid_signed(user: Any) -> None:
    responses.post(PUSH_ENDPOINT, status=201)
    delivery = _setup(user, "web_push")
    delivery_process(delivery_id=delivery.pk)
    request = responses.calls[0].request
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["Authorization"].startswith("vapid t=")
    assert b"RELIANCE" not in (request.body or b"")
