from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        # New accounts speak the language the visitor was browsing in.
        language = getattr(request, "LANGUAGE_CODE", "") or "en"
        if language in {"en", "hi"}:
            user.language = language
        return super().save_user(request, user, form, commit=commit)
