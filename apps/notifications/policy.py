"""When a delivery may go out: digest for low priority, quiet hours in the user's zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apps.market.calendar import UnknownExchangeError, market_status
from apps.notifications.models import DeliveryStatus, Preferences, Priority


def _market(at: datetime) -> tuple[bool, datetime | None]:
    try:
        status = market_status(at)
    except UnknownExchangeError:  # no exchange seeded: treat the market as closed
        return False, None
    return status.is_open, status.next_open


def _quiet_end(start: time, end: time, local: datetime) -> datetime | None:
    """The end of the quiet period `local` falls in, or None when it is not quiet."""
    clock = local.time().replace(tzinfo=None)
    zone = local.tzinfo
    if start == end:
        return None
    if start < end:
        if start <= clock < end:
            return datetime.combine(local.date(), end, tzinfo=zone)
        return None
    # Overnight, e.g. 22:00–07:00.
    if clock >= start:
        return datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    if clock < end:
        return datetime.combine(local.date(), end, tzinfo=zone)
    return None


def quiet_until(*, prefs: Preferences, time_zone: str, at: datetime) -> datetime | None:
    """When quiet hours holding a delivery at `at` end; None when it may go now."""
    if not prefs.quiet_hours_enabled or prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    local = at.astimezone(ZoneInfo(time_zone))
    end = _quiet_end(prefs.quiet_start, prefs.quiet_end, local)
    if end is None:
        return None
    if prefs.quiet_outside_market_only:
        is_open, next_open = _market(at)
        if is_open:
            return None
        if next_open is not None and next_open < end:
            return next_open  # the market opening ends the quiet period early
    return end


def delivery_plan(
    *, kind: str, priority: str, prefs: Preferences, time_zone: str, at: datetime
) -> tuple[str, datetime]:
    """(status, next_attempt_at) for a new delivery. In-app is never held: the centre is
    something the user looks at, not something that interrupts them."""
    if kind == "in_app":
        return DeliveryStatus.PENDING, at
    if priority == Priority.LOW and prefs.digest_low:
        return DeliveryStatus.HELD, at
    return DeliveryStatus.PENDING, quiet_until(prefs=prefs, time_zone=time_zone, at=at) or at
