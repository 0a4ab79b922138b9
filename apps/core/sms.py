"""Sending SMS through Twilio, or to the log when Twilio is not configured."""

from __future__ import annotations

import logging

from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.core.http import HttpError

logger = logging.getLogger("stocksense.sms")

# Twilio error codes that no retry can fix: invalid / unreachable / opted-out numbers.
PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 30003, 30005, 30006}


def twilio_configured() -> bool:
    return bool(
        settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER
    )


def sms_send(*, to: str, body: str, status_callback: str | None = None) -> str:
    """Send `body` to the E.164 number `to`; return the provider's message id. Twilio
    posts the message's later status to `status_callback` when given. Raises HttpError,
    permanent for errors no retry can fix (4xx, invalid or opted-out numbers)."""
    if not twilio_configured():
        logger.warning("SMS NOT SENT (Twilio not configured) to %s: %s", to, body)
        return "logged"
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.OUTBOUND_HTTP_TIMEOUT),
    )
    try:
        extra = {"status_callback": status_callback} if status_callback else {}
        message = client.messages.create(
            to=to, from_=settings.TWILIO_FROM_NUMBER, body=body, **extra
        )
    except TwilioRestException as exc:
        transient = (exc.status == 429 or exc.status >= 500) and exc.code not in PERMANENT_CODES
        raise HttpError(f"Twilio: {exc.msg}", permanent=not transient,
                        status=exc.status) from exc
    except Exception as exc:  # network failure inside twilio's requests session
        raise HttpError(f"Twilio request failed: {exc}", permanent=False) from exc
    return str(message.sid)
