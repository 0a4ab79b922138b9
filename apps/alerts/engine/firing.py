"""A tick batch's firings become AlertEvents, Notifications and deliveries in ONE transaction,
written in bulk with a constant number of queries (`firings_record`).

The unique (rule, instrument, crossing_key) constraint is what makes a firing exactly-once:
two engines, a repeated batch or a replay after a crash all compute the same key for the
same crossing, and only the first insert wins (`INSERT … ON CONFLICT DO NOTHING RETURNING`).
The rule rows are locked so the once-mode switch to `fired` and the cooldown check see every
other engine's firing.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.alerts.engine.index import Firing
from apps.alerts.engine.loader import Instruments
from apps.alerts.models import AlertEvent, AlertRule, RuleStatus, TriggerMode
from apps.notifications.services import NotificationRequest, notifications_send_many
from apps.realtime.events import publish_batch, user_group

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
    """Record one firing; None when it was already recorded or the rule is no longer active.
    The same code as a batch (`firings_record`), one firing at a time: the engine's fallback."""
    events = firings_record([firing], instruments)
    return events[0] if events else None


# Batch writes pass one array per column (`unnest`), not a placeholder per value: the
# statement's text is the same whatever the batch, so psycopg parses it once (it re-parses
# a statement with more than 50 placeholders on every call, ~0.4 ms for 300).


def _events_insert(rows: list[tuple[int, int, dict[str, Any], datetime, str]],
                   now: datetime) -> dict[tuple[int, int, str], int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the unique (rule, instrument, crossing_key)
    constraint decides which rows are new; returns their ids by that key."""
    if not rows:
        return {}
    qn = connection.ops.quote_name
    table = qn(AlertEvent._meta.db_table)
    columns = ", ".join(qn(c) for c in (
        "rule_id", "instrument_id", "values", "fired_at", "recorded_at", "crossing_key"))
    sql = (
        # Only names from the model are formatted in; values are params.
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        "SELECT r, i, v::jsonb, f, %s, k FROM unnest("
        "%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[], %s::text[]"
        ") AS u(r, i, v, f, k) "
        "ON CONFLICT ON CONSTRAINT alerts_event_crossing_uniq DO NOTHING "
        "RETURNING id, rule_id, instrument_id, crossing_key"
    )
    params: list[Any] = [now, [r[0] for r in rows], [r[1] for r in rows],
              [json.dumps(r[2]) for r in rows], [r[3] for r in rows], [r[4] for r in rows]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(r, i, k): pk for pk, r, i, k in cursor.fetchall()}


def _rows_update(model: type[Any], columns: list[tuple[str, str]],
                 rows: list[tuple[Any, ...]]) -> None:
    """One `UPDATE … FROM unnest(…)` setting `columns` ((name, SQL type) pairs) by primary
    key; `rows` are (pk, *values). Django's `bulk_update` builds a CASE per column and row,
    which cost more CPU than the database's whole batch write."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = qn(model._meta.pk.column)
    names = ", ".join(qn(name) for name, _type in columns)
    sets = ", ".join(f"{qn(name)} = v.{qn(name)}" for name, _type in columns)
    arrays = ", ".join(["%s::bigint[]"] + [f"%s::{t}[]" for _name, t in columns])
    sql = (
        # Only names from the model are formatted in; values are params.
        f"UPDATE {table} AS t SET {sets} FROM unnest({arrays}) "  # noqa: S608
        f"AS v({pk}, {names}) WHERE t.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


# No savepoint of its own (two round trips a batch): the engine runs it as the whole of the
# batch's transaction, which a failure rolls back anyway; called alone, it is one transaction.
@transaction.atomic(savepoint=False)
def firings_record(firings: list[Firing], instruments: Instruments) -> list[AlertEvent]:
    """Record a batch of firings with a constant number of queries; returns the new events.

    Lock every fired rule (one `SELECT … FOR UPDATE`, in id order) → drop inactive rules,
    mark expired ones → cooldown of every-time rules against stored events (one query) and
    within the batch → insert the events (one `INSERT … ON CONFLICT DO NOTHING RETURNING`)
    → rules' `last_fired_at` / once → `fired` (one bulk update) → notifications and
    deliveries (`notifications_send_many`, which queues the due deliveries after commit in
    one broker message) → events linked to them (one bulk update) → after commit, each
    event's `alert.fired` and its notification's `notification.new`, all in one Redis
    round trip (`publish_batch`).
    """
    wanted: list[tuple[Firing, int, datetime]] = []
    for firing in firings:
        instrument_id = instruments.id_of(firing.symbol)
        if instrument_id is not None:
            at = datetime.fromtimestamp(firing.at_us / 1_000_000, tz=UTC)
            wanted.append((firing, instrument_id, at))
    if not wanted:
        return []
    rules = {
        rule.pk: rule for rule in
        AlertRule.objects.select_for_update(of=("self",)).select_related("user")
        .filter(pk__in={f.rule_id for f, _i, _a in wanted}, status=RuleStatus.ACTIVE)
        .order_by("pk")
    }
    # Stored events inside any cooldown window of this batch: (rule, instrument) -> times.
    recent: dict[tuple[int, int], list[datetime]] = {}
    cooled = [(rules[f.rule_id], at) for f, _i, at in wanted
              if f.rule_id in rules and rules[f.rule_id].trigger_mode == TriggerMode.EVERY_TIME
              and rules[f.rule_id].cooldown_seconds]
    if cooled:
        since = min(at - timedelta(seconds=r.cooldown_seconds) for r, at in cooled)
        for rule_id, instrument_id, fired_at in AlertEvent.objects.filter(
            rule_id__in={r.pk for r, _a in cooled}, fired_at__gt=since,
            fired_at__lte=max(at for _r, at in cooled),
        ).values_list("rule_id", "instrument_id", "fired_at"):
            recent.setdefault((rule_id, instrument_id), []).append(fired_at)

    changed: dict[int, AlertRule] = {}
    accepted: list[tuple[Firing, int, datetime, AlertRule]] = []
    keys: set[tuple[int, int, str]] = set()
    for firing, instrument_id, at in wanted:
        rule = rules.get(firing.rule_id)
        if rule is None or rule.status != RuleStatus.ACTIVE:
            continue
        if rule.expires_at is not None and rule.expires_at <= at:
            rule.status = RuleStatus.EXPIRED
            changed[rule.pk] = rule
            continue
        key = (rule.pk, instrument_id, firing.crossing_key)
        if key in keys:
            continue  # the same crossing twice in the batch
        if rule.trigger_mode == TriggerMode.EVERY_TIME and rule.cooldown_seconds:
            start = at - timedelta(seconds=rule.cooldown_seconds)
            times = recent.setdefault((rule.pk, instrument_id), [])
            if any(start < t <= at for t in times):
                continue
            times.append(at)  # a later firing of this batch sees this one
        keys.add(key)
        accepted.append((firing, instrument_id, at, rule))
        if rule.trigger_mode == TriggerMode.ONCE:
            rule.status = RuleStatus.FIRED  # a later firing of this batch is dropped

    now = timezone.now()
    inserted = _events_insert(
        [(r.pk, i, f.values, at, f.crossing_key) for f, i, at, r in accepted], now)
    events: list[tuple[AlertEvent, Firing, AlertRule]] = []
    for firing, instrument_id, at, rule in accepted:
        pk = inserted.get((rule.pk, instrument_id, firing.crossing_key))
        if pk is None:
            # Already recorded (another engine, a repeated batch): this firing changes nothing.
            if rule.trigger_mode == TriggerMode.ONCE and rule.pk not in changed:
                rule.status = RuleStatus.ACTIVE
            continue
        events.append((AlertEvent(
            pk=pk, rule=rule, instrument_id=instrument_id, values=firing.values, fired_at=at,
            recorded_at=now, crossing_key=firing.crossing_key,
        ), firing, rule))
        rule.last_fired_at = at
        changed[rule.pk] = rule
    _rows_update(AlertRule, [("status", "varchar"), ("last_fired_at", "timestamptz")],
                 [(r.pk, r.status, r.last_fired_at) for r in changed.values()])
    if not events:
        return []

    messages = [message_render(rule, f.symbol, f.values, e.fired_at) for e, f, rule in events]
    pushes: list[tuple[str, dict[str, Any]]] = []  # each notification's `notification.new`
    notifications = notifications_send_many([
        NotificationRequest(
            user=rule.user, message=message, title=rule.name,
            channels=rule.channels or ["websocket"], priority=rule.priority,
            data={"rule_id": rule.pk, "event_id": event.pk, "symbol": firing.symbol,
                  "values": firing.values, "fired_at": event.fired_at.isoformat()},
            source="alert",
        )
        for (event, firing, rule), message in zip(events, messages, strict=True)
    ], events=pushes)
    for (event, _f, _r), notification in zip(events, notifications, strict=True):
        event.notification = notification
    _rows_update(AlertEvent, [("notification_id", "bigint")],
                 [(e.pk, e.notification_id) for e, _f, _r in events])
    # Each firing's `alert.fired` next to its `notification.new` (`pushes` is in the same
    # order), all in one round trip after commit: no firing waits for the whole batch's.
    batch: list[tuple[str, dict[str, Any]]] = []
    for (event, firing, rule), message, push in zip(events, messages, pushes, strict=True):
        batch.append((user_group(rule.user_id), {
            "type": "alert.fired",
            "alert": {"id": rule.pk, "name": rule.name, "status": rule.status},
            "event": {"id": event.pk, "symbol": firing.symbol, "values": firing.values,
                      "fired_at": event.fired_at.isoformat(), "message": message,
                      "notification_id": event.notification_id},
        }))
        batch.append(push)
    shared = [(e, f, r, m, r.share_room_id)
              for (e, f, r), m in zip(events, messages, strict=True)
              if r.share_room_id is not None]
    if shared:  # opted in: the room's activity feed gets the firing too
        from apps.rooms.services import SharedFiring, room_alert_firings_share

        batch.extend(room_alert_firings_share(firings=[
            SharedFiring(room_id=room_id, user=r.user, rule_id=r.pk, rule_name=r.name,
                         event_id=e.pk, symbol=f.symbol, message=m, fired_at=e.fired_at)
            for e, f, r, m, room_id in shared
            if room_id is not None
        ]))
    publish_batch(batch)
    return [e for e, _f, _r in events]
