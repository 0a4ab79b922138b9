from __future__ import annotations

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.validators import normalize_phone


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", _("English")), ("hi", _("Hindi"))]
    )


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        required=False,
        help_text=_("International format, e.g. +91 98765 43210. Leave empty to remove."),
    )

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100, help_text=_("e.g. “My phone”")
    )
