"""A firing becomes an AlertEvent, a Notification and its deliveries in ONE transaction.

The unique (rule, instrument, crossing_key) constraint is what makes a firing exactly-once:
two engines, a repeated batch or a replay after a crash all compute the same key for the
same crossing, and only the first insert wins. The rule row is locked so the once-mode
switch to `fired` and the cooldown check see every other engine's firing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.alerts.engine.index import Firing
from apps.alerts.engine.loader import Instruments
from apps.alerts.models import AlertEvent, AlertRule, RuleStatus, TriggerMode
from apps.notifications.services import notification_send
from apps.realtime.events import publish, user_group

logger = logging.getLogger(__name__)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _price_text(value: Any) -> str:
    if value is None:
        return ""
    return f"{Decimal(repr(value)).quantize(Decimal('0.01'))}"


def message_render(rule: AlertRule, symbol: str, values: dict[str, Any], at: datetime) -> str:
    context = _Blank(
        symbol=symbol, price=_price_text(values.get("price")), name=rule.name,
        time=at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        conditions=rule.name,
    )
    template = rule.message or _("{symbol} at {price}: {name}")
    try:
        return template.format_map(context)
    except (ValueError, KeyError, IndexError, AttributeError):
        return f"{symbol} {context['price']}: {rule.name}"


def firing_record(firing: Firing, instruments: Instruments) -> AlertEvent | None:
    """Record one firing; None when it was already recorded or the rule is no longer active."""
    instrument_id = instruments.id_of(firing.symbol)
    if instrument_id is None:
        return None
    at = datetime.fromtimestamp(firing.at_us / 1_000_000, tz=UTC)
    with transaction.atomic():
        rule = (
            AlertRule.objects.select_for_update(of=("self",)).select_related("user")
            .filter(pk=firing.rule_id, status=RuleStatus.ACTIVE).first()
        )
        if rule is None:
            return None
        if rule.expires_at is not None and rule.expires_at <= at:
            rule.status = RuleStatus.EXPIRED
            rule.save(update_fields=["status"])
            return None
        if rule.trigger_mode == TriggerMode.EVERY_TIME and rule.cooldown_seconds and (
            AlertEvent.objects.filter(
                rule=rule, instrument_id=instrument_id,
                fired_at__gt=at - timedelta(seconds=rule.cooldown_seconds), fired_at__lte=at,
            ).exists()
        ):
            return None
        try:
            with transaction.atomic():
                event = AlertEvent.objects.create(
                    rule=rule, instrument_id=instrument_id, values=firing.values, fired_at=at,
                    crossing_key=firing.crossing_key,
                )
        except IntegrityError:
            return None  # this crossing is already recorded
        fields = ["last_fired_at"]
        rule.last_fired_at = at
        if rule.trigger_mode == TriggerMode.ONCE:
            rule.status = RuleStatus.FIRED
            fields.append("status")
        rule.save(update_fields=fields)
        symbol = firing.symbol
        message = message_render(rule, symbol, firing.values, at)
        data = {"rule_id": rule.pk, "event_id": event.pk, "symbol": symbol,
                "values": firing.values, "fired_at": at.isoformat()}
        notification = notification_send(
            user=rule.user, message=message, title=rule.name,
            channels=rule.channels or ["websocket"],
            priority=rule.priority, data=data, source="alert",
        )
        event.notification = notification
        event.save(update_fields=["notification"])
        publish(user_group(rule.user_id), {
            "type": "alert.fired",
            "alert": {"id": rule.pk, "name": rule.name, "status": rule.status},
            "event": {"id": event.pk, "symbol": symbol, "values": firing.values,
                      "fired_at": at.isoformat(), "message": message,
                      "notification_id": notification.pk},
        })
    return event
