"""E-mail through SendGrid, SMS through Twilio: stubbed at the HTTP boundary only."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection

from apps.core.http import HttpError, http_request
from apps.core.mail.backends import (
    SENDGRID_SEND_URL,
    MarkedConsoleEmailBackend,
    message_from_dict,
    message_to_dict,
)
from apps.core.sms import sms_send

TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


def _message() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        "Alert: RELIANCE crossed ₹2,950", "RELIANCE is at ₹2,951.20", "alerts@stocksense.in",
        ["asha@example.in"], cc=["cc@example.in"], reply_to=["help@stocksense.in"],
    )
    message.attach_alternative("<p>RELIANCE is at <b>₹2,951.20</b></p>", "text/html")
    return message


@responses.activate
def test_sendgrid_backend_posts_the_message(settings: Any) -> None:
    settings.SENDGRID_API_KEY = "SG.test-key"
    responses.post(SENDGRID_SEND_URL, status=202)
    sent = get_connection("apps.core.mail.backends.SendGridEmailBackend").send_messages(
        [_message()]
    )
    assert sent == 1
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    payload = json.loads(request.body or b"{}")
    assert payload["from"]["email"] == "alerts@stocksense.in"
    assert payload["personalizations"][0]["to"] == [{"email": "asha@example.in"}]
    assert payload["personalizations"][0]["cc"] == [{"email": "cc@example.in"}]
    assert payload["subject"] == "Alert: RELIANCE crossed ₹2,950"
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert payload["reply_to"] == {"email": "help@stocksense.in"}


@responses.activate
def test_sendgrid_rejection_is_permanent_and_5xx_is_transient(settings: Any) -> None:
    settings.SENDGRID_API_KEY = "SG.bad"
    backend = get_connection("apps.core.mail.backends.SendGridEmailBackend")
    responses.post(SENDGRID_SEND_URL, status=401, json={"errors": [{"message": "bad key"}]})
    with pytest.raises(HttpError) as info:
        backend.send_messages([_message()])
    assert info.value.permanent
    responses.replace(responses.POST, SENDGRID_SEND_URL, status=503)
    with pytest.raises(HttpError) as info:
        backend.send_messages([_message()])
    assert not info.value.permanent


def test_console_backend_marks_mail_as_not_sent(capsys: Any) -> None:
    MarkedConsoleEmailBackend().send_messages([_message()])
    out = capsys.readouterr().out
    assert "NOT SENT" in out
    assert "Alert: RELIANCE" in out


def test_queued_message_round_trips_through_json() -> None:
    data = json.loads(json.dumps(message_to_dict(_message())))
    rebuilt = message_from_dict(data)
    assert rebuilt.subject == "Alert: RELIANCE crossed ₹2,950"
    assert rebuilt.alternatives[0][1] == "text/html"
    assert rebuilt.cc == ["cc@example.in"]


def test_send_email_task_delivers_through_the_delivery_backend(settings: Any) -> None:
    from apps.core.tasks import send_email

    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_email.apply(args=(message_to_dict(_message()),)).get() == 1
    assert mail.outbox[0].to == ["asha@example.in"]


@responses.activate
def test_sms_goes_through_twilio_when_configured(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "tok"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    responses.post(TWILIO_URL, status=201, json={"sid": "SM42", "status": "queued"})
    assert sms_send(to="+919876543210", body="TCS fell 3%") == "SM42"
    body = str(responses.calls[0].request.body)
    assert "To=%2B919876543210" in body
    assert "Body=TCS+fell+3%25" in body


@responses.activate
def test_twilio_rejection_is_a_permanent_error(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "tok"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    responses.post(TWILIO_URL, status=400, json={"code": 21211, "message": "Invalid 'To'"})
    with pytest.raises(HttpError) as info:
        sms_send(to="+910000", body="x")
    assert info.value.permanent


def test_sms_is_logged_and_marked_when_twilio_is_not_configured(
    settings: Any, caplog: Any
) -> None:
    settings.TWILIO_ACCOUNT_SID = ""
    assert sms_send(to="+919876543210", body="INFY up 2%") == "logged"
    assert "SMS NOT SENT" in caplog.text


def test_user_supplied_urls_cannot_reach_private_addresses() -> None:
    for url in ("http://127.0.0.1:8000/x", "http://10.0.0.1/hook", "ftp://example.com/"):
        with pytest.raises(HttpError) as info:
            http_request("POST", url, user_url=True)
        assert info.value.permanent


@responses.activate
def test_timeouts_are_transient() -> None:
    import requests

    responses.get("https://api.example.com/q", body=requests.Timeout())
    with pytest.raises(HttpError) as info:
        http_request("GET", "https://api.example.com/q")
    assert not info.value.permanent
