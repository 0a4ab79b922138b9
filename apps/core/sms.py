"""Sending SMS through Twilio, or to the log when Twilio is not configured."""

from __future__ import annotations

import logging

from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.core.http import HttpError

logger = logging.getLogger("stocksense.sms")


def twilio_configured() -> bool:
    return bool(
        settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER
    )


def sms_send(*, to: str, body: str) -> str:
    """Send `body` to the E.164 number `to`; return the provider's message id."""
    if not twilio_configured():
        logger.warning("SMS NOT SENT (Twilio not configured) to %s: %s", to, body)
        return "logged"
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.OUTBOUND_HTTP_TIMEOUT),
    )
    try:
        message = client.messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
    except TwilioRestException as exc:
        transient = exc.status == 429 or exc.status >= 500
        raise HttpError(str(exc.msg), permanent=not transient, status=exc.status) from exc
    except Exception as exc:  # network failure inside twilio's requests session
        raise HttpError(f"Twilio request failed: {exc}", permanent=False) from exc
    return str(message.sid)
