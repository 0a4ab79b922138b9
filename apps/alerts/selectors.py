"""Reads for alert rules and their history (always scoped to the owner)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Upper

from apps.accounts.models import User
from apps.alerts.models import AlertEvent, AlertRule


def alert_list(
    *, user: User, status: str | None = None, symbol: str | None = None,
    watchlist: int | None = None,
) -> QuerySet[AlertRule]:
    rules = AlertRule.objects.filter(user=user).select_related(
        "instrument__exchange", "watchlist"
    )
    if status:
        rules = rules.filter(status=status)
    if symbol:
        rules = rules.annotate(symbol_upper=Upper("instrument__symbol")).filter(
            symbol_upper=symbol.strip().upper()
        )
    if watchlist:
        rules = rules.filter(watchlist_id=watchlist)
    return rules


def alert_get(*, user: User, rule_id: int) -> AlertRule | None:
    return alert_list(user=user).filter(pk=rule_id).first()


def alert_event_list(*, rule: AlertRule) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(rule=rule).select_related("instrument")
