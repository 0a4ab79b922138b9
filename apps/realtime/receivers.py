"""Close a user's sockets when their session ends: logout, password or MFA change."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from apps.realtime.events import publish_now, user_group


def _end_sessions(reason: str) -> Any:
    def receiver(sender: Any, user: Any = None, **kwargs: Any) -> None:
        if user is not None and getattr(user, "pk", None):
            publish_now(user_group(user.pk), {"type": "session.ended", "reason": reason})

    return receiver


_logout = _end_sessions("logout")
_password = _end_sessions("password_changed")
_mfa = _end_sessions("mfa_changed")


def connect() -> None:
    uid = "realtime.session_end"
    auth_signals.user_logged_out.connect(_logout, dispatch_uid=f"{uid}.logout")
    account_signals.password_changed.connect(_password, dispatch_uid=f"{uid}.pw")
    account_signals.password_reset.connect(_password, dispatch_uid=f"{uid}.pwreset")
    mfa_signals.authenticator_added.connect(_mfa, dispatch_uid=f"{uid}.mfa_add")
    mfa_signals.authenticator_removed.connect(_mfa, dispatch_uid=f"{uid}.mfa_rm")
