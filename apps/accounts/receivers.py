"""Framework signals (Django auth, allauth) recorded in the audit log.

Signals are the only hook these frameworks offer; each receiver just calls a service.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from apps.accounts.models import AuditAction, User
from apps.accounts.services import audit_record


def _on_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, user=user, request=request)


def _on_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, user=user, request=request)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    account = User.objects.filter(email__iexact=email).first() if email else None
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        user=account,
        request=request,
        actor_email=email,
        new={"email": email},
    )


def _on_signup(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(action=AuditAction.SIGNUP, user=user, request=request)


def _on_password(action: str) -> Any:
    def receiver(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
        audit_record(action=action, user=user, request=request)

    return receiver


def _on_email_changed(
    sender: Any, request: Any, user: User, from_email_address: Any, to_email_address: Any,
    **kwargs: Any,
) -> None:
    audit_record(
        action=AuditAction.EMAIL_CHANGED,
        user=user,
        request=request,
        old={"email": getattr(from_email_address, "email", None)},
        new={"email": getattr(to_email_address, "email", None)},
    )


def _on_mfa(action: str) -> Any:
    def receiver(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
        audit_record(
            action=action,
            user=user,
            request=request,
            new={"type": getattr(authenticator, "type", "")},
        )

    return receiver


_password_changed = _on_password(AuditAction.PASSWORD_CHANGED)
_password_set = _on_password(AuditAction.PASSWORD_CHANGED)
_password_reset = _on_password(AuditAction.PASSWORD_RESET)
_mfa_added = _on_mfa(AuditAction.MFA_ADDED)
_mfa_removed = _on_mfa(AuditAction.MFA_REMOVED)
_mfa_reset = _on_mfa(AuditAction.MFA_RESET)


def connect() -> None:
    uid = "accounts.audit"
    auth_signals.user_logged_in.connect(_on_login, dispatch_uid=f"{uid}.login")
    auth_signals.user_logged_out.connect(_on_logout, dispatch_uid=f"{uid}.logout")
    auth_signals.user_login_failed.connect(_on_login_failed, dispatch_uid=f"{uid}.failed")
    account_signals.user_signed_up.connect(_on_signup, dispatch_uid=f"{uid}.signup")
    account_signals.password_changed.connect(_password_changed, dispatch_uid=f"{uid}.pw")
    account_signals.password_set.connect(_password_set, dispatch_uid=f"{uid}.pwset")
    account_signals.password_reset.connect(_password_reset, dispatch_uid=f"{uid}.pwreset")
    account_signals.email_changed.connect(_on_email_changed, dispatch_uid=f"{uid}.email")
    mfa_signals.authenticator_added.connect(_mfa_added, dispatch_uid=f"{uid}.mfa_add")
    mfa_signals.authenticator_removed.connect(_mfa_removed, dispatch_uid=f"{uid}.mfa_rm")
    mfa_signals.authenticator_reset.connect(_mfa_reset, dispatch_uid=f"{uid}.mfa_reset")
