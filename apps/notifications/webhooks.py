"""Endpoints providers call: Twilio's status callback and SendGrid's event webhook.

Plain Django views: they authenticate by signature, not by user, and need the raw body.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from apps.notifications.callbacks import sendgrid_events_apply, twilio_status_apply

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def _public_url(request: HttpRequest) -> str:
    # Twilio signs the URL it called; behind a proxy only the configured origin matches it.
    base = settings.NOTIFICATIONS_PUBLIC_URL.rstrip("/")
    return f"{base}{request.get_full_path()}" if base else request.build_absolute_uri()


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not settings.TWILIO_AUTH_TOKEN:
        return HttpResponse(status=403)
    params = {key: request.POST.get(key, "") for key in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
        _public_url(request), params, signature
    ):
        return HttpResponse(status=403)
    twilio_status_apply(params=params)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def sendgrid_events(request: HttpRequest) -> HttpResponse:
    # Unsigned events could mark anyone's mail bounced: without a key the endpoint is shut.
    key = settings.SENDGRID_WEBHOOK_PUBLIC_KEY
    if not key:
        return HttpResponse(status=403)
    body = request.body.decode("utf-8", errors="replace")
    signature = request.headers.get(SENDGRID_SIGNATURE, "")
    timestamp = request.headers.get(SENDGRID_TIMESTAMP, "")
    try:
        valid = EventWebhook(key).verify_signature(body, signature, timestamp)
    except ValueError:  # malformed key or signature encoding
        valid = False
    if not (signature and timestamp and valid):
        return HttpResponse(status=403)
    try:
        events = json.loads(body)
    except ValueError:
        return HttpResponse(status=400)
    if not isinstance(events, list):
        return HttpResponse(status=400)
    sendgrid_events_apply(events=events)
    return HttpResponse(status=204)
