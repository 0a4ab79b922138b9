"""Provider callbacks: Twilio's signed status callback and SendGrid's signed events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import reverse
from twilio.request_validator import RequestValidator

from apps.notifications.models import Delivery, Destination
from apps.notifications.services import notification_send
from apps.notifications.tests.conftest import make_destination

pytestmark = pytest.mark.django_db


def _delivery(user: Any, kind: str, config: dict[str, Any], provider_id: str) -> Delivery:
    destination = make_destination(user, kind, config)
    notification = notification_send(user=user, message="x", channels=[kind])
    delivery = Delivery.objects.get(notification=notification, destination=destination)
    Delivery.objects.filter(pk=delivery.pk).update(status="delivered", provider_id=provider_id)
    delivery.refresh_from_db()
    return delivery


def _twilio_post(client: Any, params: dict[str, str], *, token: str) -> Any:
    url = "http://testserver" + reverse("api-notifications-twilio")
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_twilio_undelivered_with_bad_number_fails_and_disables(
    client: Any, user: Any, twilio: None
) -> None:
    delivery = _delivery(user, "sms", {"phone": "+919876543210"}, "SM77")
    response = _twilio_post(client, {"MessageSid": "SM77", "MessageStatus": "undelivered",
                                     "ErrorCode": "30006"}, token="twilio-token")
    assert response.status_code == 204
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_status) == ("failed", "undelivered")
    assert Destination.objects.get(pk=delivery.destination_id).disabled


def test_twilio_delivered_status_is_recorded(client: Any, user: Any, twilio: None) -> None:
    delivery = _delivery(user, "sms", {"phone": "+919876543210"}, "SM78")
    _twilio_post(client, {"MessageSid": "SM78", "MessageStatus": "delivered"},
                 token="twilio-token")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_status) == ("delivered", "delivered")


def test_twilio_callback_with_a_bad_signature_is_refused(
    client: Any, user: Any, twilio: None
) -> None:
    delivery = _delivery(user, "sms", {"phone": "+919876543210"}, "SM79")
    response = _twilio_post(client, {"MessageSid": "SM79", "MessageStatus": "failed"},
                            token="someone-else")
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


@pytest.fixture
def sendgrid_key(settings: Any) -> ec.EllipticCurvePrivateKey:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(der).decode()
    return private


def _sendgrid_post(client: Any, events: list[dict[str, Any]],
                   key: ec.EllipticCurvePrivateKey) -> Any:
    body = json.dumps(events)
    timestamp = "1767225600"
    signature = base64.b64encode(
        key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    ).decode()
    return client.post(
        reverse("api-notifications-sendgrid"), body, content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=signature,
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


def test_sendgrid_bounce_fails_the_delivery_found_by_message_id(
    client: Any, user: Any, sendgrid_key: Any
) -> None:
    delivery = _delivery(user, "email", {"address": "asha@example.in"}, "abc123")
    response = _sendgrid_post(client, [
        {"event": "open", "sg_message_id": "abc123.filter0001"},
        {"event": "bounce", "sg_message_id": "abc123.filter0001", "reason": "550 no such user"},
    ], sendgrid_key)
    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "550" in delivery.last_error
    assert Destination.objects.get(pk=delivery.destination_id).disabled


def test_sendgrid_event_found_by_our_delivery_id(client: Any, user: Any,
                                                 sendgrid_key: Any) -> None:
    delivery = _delivery(user, "email", {"address": "asha@example.in"}, "zzz")
    _sendgrid_post(client, [{"event": "delivered", "delivery_id": str(delivery.pk)}],
                   sendgrid_key)
    delivery.refresh_from_db()
    assert delivery.provider_status == "delivered"


def test_sendgrid_events_with_a_bad_signature_or_no_key_are_refused(
    client: Any, user: Any, sendgrid_key: Any, settings: Any
) -> None:
    delivery = _delivery(user, "email", {"address": "asha@example.in"}, "abc9")
    forged = ec.generate_private_key(ec.SECP256R1())
    events = [{"event": "bounce", "sg_message_id": "abc9"}]
    assert _sendgrid_post(client, events, forged).status_code == 403
    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = ""
    assert _sendgrid_post(client, events, sendgrid_key).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
