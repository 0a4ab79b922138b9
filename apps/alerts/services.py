"""Writes for alert rules. Each runs in one transaction and, after commit, tells the engine
processes (Redis pub/sub) which rule changed so their index follows within a second."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.alerts.conditions import condition_describe
from apps.alerts.engine.stream import rule_changed_publish
from apps.alerts.models import AlertQuota, AlertRule, RuleStatus, TriggerMode
from apps.market.models import Instrument
from apps.market.selectors import instrument_get
from apps.watchlists.selectors import watchlist_get_for_user

DEFAULT_MAX_ACTIVE = 200


class AlertNotFound(Http404):
    """No such rule, or not the caller's: both answer 404."""


def _resolve(symbol: str, field: str) -> Instrument:
    exchange, _sep, code = symbol.strip().upper().rpartition(":")
    found = instrument_get(symbol=code, exchange=exchange.strip() or "NSE") if code else None
    if found is None:
        raise ValidationError({field: [_("Unknown symbol: %s") % symbol.strip()]})
    return found


def alert_max_active(*, user: User) -> int:
    """The user's cap: their `AlertQuota` row (per user or plan), else the setting."""
    quota = AlertQuota.objects.filter(user=user).values_list("max_active_rules", flat=True).first()
    if quota is not None:
        return int(quota)
    return int(getattr(settings, "ALERTS_MAX_ACTIVE_PER_USER", DEFAULT_MAX_ACTIVE))


def _check_cap(user: User, *, excluding: int | None = None) -> None:
    # Lock the user row: two concurrent creates cannot both take the last slot.
    User.objects.select_for_update().filter(pk=user.pk).first()
    active = AlertRule.objects.filter(user=user, status=RuleStatus.ACTIVE)
    if excluding is not None:
        active = active.exclude(pk=excluding)
    limit = alert_max_active(user=user)
    if active.count() >= limit:
        raise ValidationError({"status": [
            _("You already have %(n)d active alerts, the most your plan allows. Pause or delete "
              "one first.") % {"n": limit}
        ]})


def _check_conditions(conditions: list[dict[str, Any]]) -> None:
    for position, condition in enumerate(conditions):
        if "other" in condition:
            other = _resolve(condition["other"], f"conditions.{position}.other")
            condition["other"] = (
                other.symbol if other.exchange.code == "NSE"
                else f"{other.exchange.code}:{other.symbol}"
            )


def _apply(rule: AlertRule, data: dict[str, Any], by: User) -> None:
    if "symbol" in data:
        rule.instrument = _resolve(data["symbol"], "symbol")
        rule.watchlist = None
    if "watchlist" in data:
        found = watchlist_get_for_user(user=by, watchlist_id=data["watchlist"])
        if found is None:
            raise ValidationError({"watchlist": [_("No such watchlist.")]})
        rule.watchlist = found[0]
        rule.instrument = None
    if "share_room" in data:
        rule.share_room = None
        if data["share_room"] is not None:
            from apps.rooms.selectors import room_get_for_member

            found_room = room_get_for_member(user=by, room_id=data["share_room"])
            if found_room is None:
                raise ValidationError({"share_room": [_("You are not a member of this room.")]})
            rule.share_room = found_room[0]
    if "conditions" in data:
        _check_conditions(data["conditions"])
        rule.conditions = data["conditions"]
    for name in ("combine", "trigger_mode", "bar_timeframe", "cooldown_seconds", "expires_at",
                 "message", "channels", "priority", "name"):
        if name in data:
            value = data[name]
            setattr(rule, name, "" if value is None and name != "expires_at" else value)
    if rule.trigger_mode != TriggerMode.ONCE_PER_BAR:
        rule.bar_timeframe = ""
    elif not rule.bar_timeframe:
        raise ValidationError({"bar_timeframe": [_("Once per bar needs the bar's timeframe.")]})
    if rule.expires_at is not None and rule.expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("Must be in the future.")]})
    if not rule.name:
        target = rule.instrument.symbol if rule.instrument else (
            rule.watchlist.name if rule.watchlist else "")
        joiner = " & " if rule.combine == "all" else " | "
        rule.name = f"{target}: {joiner.join(condition_describe(c) for c in rule.conditions)}"[
            :100]


@transaction.atomic
def alert_create(*, by: User, data: dict[str, Any]) -> AlertRule:
    """Create an active rule from validated input (RuleInputSerializer)."""
    rule = AlertRule(user=by)
    _apply(rule, data, by)
    _check_cap(by)
    rule.save()
    rule_changed_publish(rule.pk)
    return rule


def _locked(rule_id: int, by: User) -> AlertRule:
    rule = (
        AlertRule.objects.select_for_update(of=("self",))
        .select_related("instrument__exchange", "watchlist", "share_room")
        .filter(pk=rule_id, user=by)
        .first()
    )
    if rule is None:
        raise AlertNotFound
    return rule


@transaction.atomic
def alert_update(*, rule_id: int, by: User, data: dict[str, Any]) -> AlertRule:
    """Edit a rule. Editing re-arms it: level conditions true now fire on the next tick."""
    rule = _locked(rule_id, by)
    _apply(rule, data, by)
    rule.updated_at = timezone.now()
    rule.save()
    rule_changed_publish(rule.pk)
    return rule


@transaction.atomic
def alert_pause(*, rule_id: int, by: User) -> AlertRule:
    rule = _locked(rule_id, by)
    if rule.status == RuleStatus.ACTIVE:
        rule.status = RuleStatus.PAUSED
        rule.updated_at = timezone.now()
        rule.save(update_fields=["status", "updated_at"])
        rule_changed_publish(rule.pk)
    return rule


@transaction.atomic
def alert_resume(*, rule_id: int, by: User) -> AlertRule:
    """Paused, fired or expired → active (an expiry in the past must be changed first)."""
    rule = _locked(rule_id, by)
    if rule.status == RuleStatus.ACTIVE:
        return rule
    if rule.expires_at is not None and rule.expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The alert has expired; set a later expiry.")]})
    _check_cap(by, excluding=rule.pk)
    rule.status = RuleStatus.ACTIVE
    rule.updated_at = timezone.now()
    rule.save(update_fields=["status", "updated_at"])
    rule_changed_publish(rule.pk)
    return rule


@transaction.atomic
def alert_delete(*, rule_id: int, by: User) -> None:
    rule = _locked(rule_id, by)
    rule.delete()
    rule_changed_publish(rule_id)
