"""Signals over the WebSocket: what `RealtimeConsumer` calls for `signals` frames and events.

Signals are market-wide, so any signed-in user may subscribe: to all of them
(`{"type": "subscribe", "topic": "signals"}`), to one instrument's (`"symbol": "NSE:TCS"`)
or to one strategy's (`"strategy": "sma_crossover"`). The connection joins the group
`signals.all`, `signals.instrument.<id>` or `signals.strategy.<key>` and gets `subscribed`,
then `signal.snapshot` (the latest signals, newest first), then `signal.new` and
`signal.resolved` events. A socket subscribed to overlapping groups (all signals and one
instrument) hears each event once: recently forwarded events are remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from django.utils.translation import gettext as _

from apps.realtime import protocol
from apps.realtime.events import (
    signals_all_group,
    signals_instrument_group,
    signals_strategy_group,
)
from apps.realtime.protocol import ProtocolError
from apps.realtime.sync import ws_sync
from apps.signals.strategies import STRATEGIES

MAX_SUBSCRIPTIONS = 50  # signals subscriptions per connection
SNAPSHOT_SIZE = 20
_REMEMBERED = 256  # forwarded (type, id) pairs kept to drop the copies of overlapping groups


class SignalSocket(Protocol):
    """What this module needs of the consumer."""

    channel_name: str
    channel_layer: Any

    async def send_frame(self, frame: dict[str, Any]) -> None: ...


@ws_sync
def instrument_id_for(key: protocol.SymbolKey) -> int | None:
    from apps.market.models import Instrument

    return (
        Instrument.objects.filter(exchange__code=key[0], symbol=key[1], active=True)
        .values_list("id", flat=True)
        .first()
    )


@ws_sync
def signals_snapshot(
    *, instrument_id: int | None = None, strategy: str | None = None
) -> list[dict[str, Any]]:
    """The latest signals of a subscription as `signal.new` payloads (without `type`)."""
    from apps.signals.models import Signal
    from apps.signals.publishing import signal_payload

    rows = Signal.objects.select_related("instrument__exchange").order_by("-bar_time", "-id")
    if instrument_id is not None:
        rows = rows.filter(instrument_id=instrument_id)
    if strategy is not None:
        rows = rows.filter(strategy=strategy)
    payloads = [signal_payload(signal) for signal in rows[:SNAPSHOT_SIZE]]
    for payload in payloads:
        payload.pop("type")
    return payloads


class ConnectionSignals:
    """The signals subscriptions of one WebSocket connection (made on its first frame)."""

    def __init__(self, socket: SignalSocket) -> None:
        self.socket = socket
        self.groups: set[str] = set()
        self.seen: OrderedDict[tuple[str, int], None] = OrderedDict()

    async def handle(self, frame: protocol.SignalsFrame) -> None:
        key: dict[str, Any] = {}
        instrument_id: int | None = None
        if frame.symbol is not None:
            key["symbol"] = protocol.key_label(frame.symbol)
            instrument_id = await instrument_id_for(frame.symbol)
            if instrument_id is None:
                raise ProtocolError(
                    "bad_symbol",
                    _("Unknown symbol: %(symbol)s") % {"symbol": key["symbol"]},
                    frame.ref,
                    symbols=[key["symbol"]],
                )
            group = signals_instrument_group(instrument_id)
        elif frame.strategy is not None:
            key["strategy"] = frame.strategy
            if frame.strategy not in STRATEGIES:
                raise ProtocolError(
                    "unknown_strategy",
                    _("Unknown strategy: %(key)s") % {"key": frame.strategy[:40]},
                    frame.ref,
                )
            group = signals_strategy_group(frame.strategy)
        else:
            group = signals_all_group()
        layer, channel = self.socket.channel_layer, self.socket.channel_name
        if frame.action == "unsubscribe":
            self.groups.discard(group)
            await layer.group_discard(group, channel)
            await self.socket.send_frame(
                {"type": "unsubscribed", "topic": "signals", **key, "ref": frame.ref}
            )
            return
        if group not in self.groups and len(self.groups) >= MAX_SUBSCRIPTIONS:
            raise ProtocolError(
                "too_many_subscriptions",
                _("At most %(n)d signals subscriptions per connection.") % {"n": MAX_SUBSCRIPTIONS},
                frame.ref,
            )
        await layer.group_add(group, channel)
        self.groups.add(group)
        await self.socket.send_frame(
            {"type": "subscribed", "topic": "signals", **key, "ref": frame.ref}
        )
        snapshot = await signals_snapshot(instrument_id=instrument_id, strategy=frame.strategy)
        await self.socket.send_frame(
            {"type": "signal.snapshot", "topic": "signals", **key, "signals": snapshot}
        )

    def accepts(self, event: dict[str, Any]) -> bool:
        """Whether to forward a `signal.*` event: once, and only while subscribed."""
        if not self.groups:
            return False
        mark = (str(event.get("type")), int(event.get("id") or 0))
        if mark in self.seen:
            return False
        self.seen[mark] = None
        if len(self.seen) > _REMEMBERED:
            self.seen.popitem(last=False)
        return True

    async def close(self) -> None:
        for group in list(self.groups):
            await self.socket.channel_layer.group_discard(group, self.socket.channel_name)
        self.groups.clear()
