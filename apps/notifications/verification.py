"""Proving a phone number or e-mail address is the user's: a 6-digit code, stored hashed,
valid 10 minutes, 5 wrong guesses at most. Until then the destination gets only tests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from apps.notifications.models import Destination, VerificationCode
from apps.notifications.transports import Message, TransportError, transport_for

CODE_TTL = timedelta(minutes=10)
MAX_GUESSES = 5
RESEND_AFTER = timedelta(seconds=60)


def _hash(destination_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"verify:{destination_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_send_later(*, destination: Destination) -> None:
    """Queue the code after commit (the worker generates it: it never passes the broker)."""
    from apps.notifications.tasks import send_verification_code

    destination_id = destination.pk
    transaction.on_commit(lambda: send_verification_code.delay(destination_id))


def code_request(*, destination: Destination) -> None:
    """Ask for a new code (the API's "send again"), at most once a minute."""
    if destination.is_verified:
        raise ValidationError({"code": [_("This destination is already verified.")]})
    last = VerificationCode.objects.filter(destination=destination).first()
    if last and last.created > timezone.now() - RESEND_AFTER:
        raise ValidationError({"code": [_("Wait a minute before asking for another code.")]})
    code_send_later(destination=destination)


def code_send(*, destination: Destination) -> None:
    """Generate, store (hashed) and send a fresh code; replaces any earlier one."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    VerificationCode.objects.update_or_create(
        destination=destination,
        defaults={
            "code_hash": _hash(destination.pk, code),
            "expires_at": timezone.now() + CODE_TTL,
            "attempts": 0,
            "created": timezone.now(),
        },
    )
    with override(destination.user.language):
        message = Message(
            title=_("StockSense verification code"),
            body=_("Your StockSense code is %s. It expires in 10 minutes.") % code,
        )
    try:
        transport_for(destination).send(message)
    except TransportError as exc:
        Destination.objects.filter(pk=destination.pk).update(last_error=exc.message[:300])
        if not exc.permanent:
            raise


def code_check(*, destination: Destination, code: str) -> Destination:
    """Verify the destination if `code` matches; errors name the `code` field."""
    # The wrong-guess count must survive the error, so it commits before raising.
    with transaction.atomic():
        found = (
            VerificationCode.objects.select_for_update().filter(destination=destination).first()
        )
        if found is None or found.expires_at <= timezone.now():
            error = _("The code has expired. Ask for a new one.")
        elif found.attempts >= MAX_GUESSES:
            error = _("Too many wrong codes. Ask for a new one.")
        elif not hmac.compare_digest(found.code_hash, _hash(destination.pk, code.strip())):
            found.attempts += 1
            found.save(update_fields=["attempts"])
            error = _("That code is not right.")
        else:
            found.delete()
            destination.verified_at = timezone.now()
            destination.last_error = ""
            destination.save(update_fields=["verified_at", "last_error"])
            return destination
    raise ValidationError({"code": [error]})
