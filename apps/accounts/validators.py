from __future__ import annotations

import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalize_phone(value: str) -> str:
    """Return `value` in E.164 (`+919876543210`) or raise ValidationError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter the number in international format, e.g. +91 98765 43210."),
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a valid phone number."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    if value and normalize_phone(value) != value:
        raise ValidationError(_("Phone numbers are stored in E.164 form."), code="invalid_phone")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}, code="invalid")
