"""Following a strategy or an instrument: its new signals reach the user's notifications."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.market.models import Instrument, Timeframe
from apps.signals.models import FollowKind, SignalFollow
from apps.signals.strategies import STRATEGIES

MAX_FOLLOWS_PER_USER = 100


def signal_follow_create(
    *,
    user: User,
    kind: str,
    strategy: str = "",
    instrument: Instrument | None = None,
    timeframe: str = "",
) -> SignalFollow:
    """Follow `strategy` (kind "strategy") or `instrument` (kind "instrument"), on one
    timeframe or all (""). ValidationError with field messages for an unknown strategy, a
    missing instrument, a duplicate follow or more than MAX_FOLLOWS_PER_USER follows."""
    if kind == FollowKind.STRATEGY:
        if strategy not in STRATEGIES:
            raise ValidationError({"strategy": _("Unknown strategy “%s”.") % strategy})
        instrument = None
    elif kind == FollowKind.INSTRUMENT:
        if instrument is None:
            raise ValidationError({"symbol": _("Choose an instrument to follow.")})
        strategy = ""
    else:
        raise ValidationError({"kind": _("Follow a strategy or an instrument.")})
    if timeframe and timeframe not in Timeframe.values:
        raise ValidationError({"timeframe": _("Unknown timeframe “%s”.") % timeframe})

    duplicate = {"non_field_errors": _("You already follow this.")}
    with transaction.atomic():
        # Lock the user's row so two concurrent requests cannot both pass the cap.
        User.objects.select_for_update().filter(pk=user.pk).first()
        follows = SignalFollow.objects.filter(user=user)
        if follows.count() >= MAX_FOLLOWS_PER_USER:
            raise ValidationError(
                {
                    "non_field_errors": _(
                        "You can follow at most %(max)d strategies and instruments."
                    )
                    % {"max": MAX_FOLLOWS_PER_USER}
                }
            )
        if follows.filter(
            kind=kind, strategy=strategy, instrument=instrument, timeframe=timeframe
        ).exists():
            raise ValidationError(duplicate)
        try:
            with transaction.atomic():
                return SignalFollow.objects.create(
                    user=user,
                    kind=kind,
                    strategy=strategy,
                    instrument=instrument,
                    timeframe=timeframe,
                )
        except IntegrityError:  # the unique constraint, should a check above be bypassed
            raise ValidationError(duplicate) from None


def signal_follow_delete(*, follow: SignalFollow) -> None:
    """Stop following; the caller has checked that `follow` is the user's own."""
    follow.delete()
