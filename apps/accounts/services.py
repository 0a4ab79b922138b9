"""Writes for accounts: profile changes, API tokens, the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.models import ApiToken, AuditAction, AuditEvent, User

TOKEN_PREFIX = "ss_"  # noqa: S105 - a marker, not a secret
PROFILE_FIELDS = ("display_name", "time_zone", "language", "phone")
# Writing last_used_at on every request would make each API call a write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    from django.conf import settings

    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = getattr(settings, "NUM_PROXIES", 0)
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    user: User | None,
    actor: User | None = None,
    request: HttpRequest | None = None,
    target: Any = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event to the audit log. `user` is the account the event concerns."""
    if actor is None and user is not None and action != AuditAction.LOGIN_FAILED:
        actor = user
    target_type = target_id = target_repr = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        target_repr = str(target)[:200]
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    return AuditEvent.objects.create(
        action=action,
        user=user,
        actor=actor,
        actor_email=actor_email or (actor.email if actor is not None else ""),
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        ip=client_ip(request),
        user_agent=user_agent,
        old_values=old or {},
        new_values=new or {},
    )


@transaction.atomic
def user_update_profile(
    *, user: User, data: dict[str, Any], request: HttpRequest | None = None
) -> User:
    """Change profile fields (already validated) and audit what changed, old and new."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for field in PROFILE_FIELDS:
        if field in data and getattr(user, field) != data[field]:
            old[field] = getattr(user, field)
            new[field] = data[field]
            setattr(user, field, data[field])
    if new:
        user.full_clean(exclude=["password"])
        user.save(update_fields=list(new))
        audit_record(
            action=AuditAction.PROFILE_CHANGED,
            user=user,
            request=request,
            target=user,
            old=old,
            new=new,
        )
    return user


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the raw secret is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=_hash(raw))
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        user=user,
        request=request,
        target=token,
        new={"name": name, "prefix": prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User, request: HttpRequest | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditAction.TOKEN_REVOKED,
            user=token.user,
            actor=by,
            request=request,
            target=token,
            old={"active": True},
            new={"active": False},
        )
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token for `raw`, with its user, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
