"""Reads for accounts. Each returns only what the given user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import ApiToken, AuditEvent, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def audit_event_list(*, user: User) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(user=user)
