"""What leaves the signals app when a signal is issued or resolved: the `signal.new` and
`signal.resolved` WebSocket events (docs/websocket.md, "Signals") and the notifications to
the users following the signal's strategy or instrument.

Events go to three groups, so a socket hears exactly what it subscribed to:
`signals.all`, `signals.instrument.<instrument id>` and `signals.strategy.<key>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.notifications.models import Priority
from apps.notifications.services import NotificationRequest, notifications_send_many
from apps.realtime.events import (
    publish_many,
    signals_all_group,
    signals_instrument_group,
    signals_strategy_group,
)
from apps.signals.clock import bar_end
from apps.signals.models import Action, FollowKind, Signal, SignalFollow
from apps.signals.strategies import STRATEGIES

PAISA = Decimal("0.01")


def _price(value: Decimal | None) -> str | None:
    """A price as a 2-dp decimal string (levels are rounded to the paisa)."""
    return None if value is None else str(value.quantize(PAISA))


def _iso(value: Any) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def strategy_name(key: str) -> str:
    strategy = STRATEGIES.get(key)
    return str(strategy.name) if strategy is not None else key


def signal_payload(signal: Signal) -> dict[str, Any]:
    """The `signal.new` event of a signal (the REST representation builds on it). Prices,
    risk/reward and R are decimal strings; times are ISO 8601 in IST: ``timestamp`` is when
    the signal bar closed, ``bar_time`` when it started. Needs ``instrument__exchange``
    loaded (select_related) to avoid two queries."""
    return {
        "type": "signal.new",
        "id": signal.pk,
        "stock": signal.instrument.symbol,
        "exchange": signal.instrument.exchange.code,
        "instrument_id": signal.instrument_id,
        "action": signal.action,
        "confidence": signal.confidence,
        "entry_price": _price(signal.entry_price),
        "target_price": _price(signal.target_price),
        "stop_loss": _price(signal.stop_loss),
        "risk_reward": _price(signal.risk_reward),
        "strength": signal.strength,
        "strategy": signal.strategy,
        "strategy_name": strategy_name(signal.strategy),
        "params": signal.params,
        "timeframe": signal.timeframe,
        "explanation": signal.explanation,
        "evidence": signal.evidence,
        "outcome": signal.outcome,
        "closes": signal.closes_id,
        "timestamp": _iso(bar_end(signal.bar_time, signal.timeframe)),
        "bar_time": _iso(signal.bar_time),
    }


def signal_resolved_payload(signal: Signal) -> dict[str, Any]:
    """The `signal.resolved` event: a BUY/SELL reached its target or stop, expired, or was
    closed by an EXIT signal."""
    return {
        "type": "signal.resolved",
        "id": signal.pk,
        "stock": signal.instrument.symbol,
        "exchange": signal.instrument.exchange.code,
        "strategy": signal.strategy,
        "timeframe": signal.timeframe,
        "outcome": signal.outcome,
        "exit_price": _price(signal.exit_price),
        "r_multiple": _price(signal.r_multiple),
        "bars_held": signal.bars_held,
        "days_held": signal.days_held,
        "resolved_at": _iso(signal.resolved_at),
    }


def signal_groups(signal: Signal) -> list[str]:
    return [
        signals_all_group(),
        signals_instrument_group(signal.instrument_id),
        signals_strategy_group(signal.strategy),
    ]


def signals_publish_new(*, signals: Sequence[Signal]) -> None:
    """`signal.new` of each signal to its groups, after commit."""
    publish_many(
        [(group, signal_payload(signal)) for signal in signals for group in signal_groups(signal)]
    )


def signals_publish_resolved(*, signals: Sequence[Signal]) -> None:
    """`signal.resolved` of each signal to its groups, after commit."""
    publish_many(
        [
            (group, signal_resolved_payload(signal))
            for signal in signals
            for group in signal_groups(signal)
        ]
    )


def _follows_for(signals: Sequence[Signal]) -> list[SignalFollow]:
    strategies = {s.strategy for s in signals}
    instruments = {s.instrument_id for s in signals}
    timeframes = {s.timeframe for s in signals} | {""}
    return list(
        SignalFollow.objects.filter(
            Q(kind=FollowKind.STRATEGY, strategy__in=strategies)
            | Q(kind=FollowKind.INSTRUMENT, instrument_id__in=instruments),
            timeframe__in=timeframes,
            user__is_active=True,
        ).select_related("user")
    )


def _follows(follow: SignalFollow, signal: Signal) -> bool:
    if follow.timeframe and follow.timeframe != signal.timeframe:
        return False
    if follow.kind == FollowKind.STRATEGY:
        return follow.strategy == signal.strategy
    return follow.instrument_id == signal.instrument_id


def _message(signal: Signal) -> tuple[str, str, str]:
    """(title, body, url) in the active language."""
    symbol = signal.instrument.symbol
    url = f"/signals/{signal.pk}/"
    title = _("%(action)s %(symbol)s (%(strategy)s, %(timeframe)s)") % {
        "action": signal.get_action_display().upper(),
        "symbol": symbol,
        "strategy": strategy_name(signal.strategy),
        "timeframe": signal.timeframe,
    }
    if signal.action == Action.EXIT:
        levels = _("Exit at ₹%(price)s") % {"price": _price(signal.entry_price)}
    else:
        levels = _(
            "Entry ₹%(entry)s · target ₹%(target)s · stop-loss ₹%(stop)s · risk/reward %(rr)s"
        ) % {
            "entry": _price(signal.entry_price),
            "target": _price(signal.target_price),
            "stop": _price(signal.stop_loss),
            "rr": _price(signal.risk_reward),
        }
    if signal.confidence is not None:
        trades = (signal.evidence.get("backtest") or {}).get("trades", 0)
        confidence = _("Confidence %(pct).0f%% (backtested over %(trades)d trades)") % {
            "pct": signal.confidence * 100,
            "trades": trades,
        }
    else:
        confidence = _("Too little evidence for a confidence.")
    body = "\n".join([levels, confidence, signal.explanation, url])
    return title, body, url


def signals_notify_followers(*, signals: Sequence[Signal]) -> int:
    """One notification per (follower, signal), however many of the user's follows match
    (a strategy and an instrument, all timeframes and one). Returns how many were sent."""
    if not signals:
        return 0
    follows = _follows_for(signals)
    requests: list[NotificationRequest] = []
    for signal in signals:
        users = {f.user_id: f.user for f in follows if _follows(f, signal)}
        for user in users.values():
            with translation.override(user.language or None):
                title, body, url = _message(signal)
            requests.append(
                NotificationRequest(
                    user=user,
                    title=title,
                    message=body,
                    priority=Priority.NORMAL,
                    data={
                        "signal": signal.pk,
                        "url": url,
                        "symbol": signal.instrument.symbol,
                        "action": signal.action,
                        "strategy": signal.strategy,
                        "timeframe": signal.timeframe,
                    },
                    source="signals",
                )
            )
    notifications_send_many(requests)
    return len(requests)
