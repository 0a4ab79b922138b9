"""Client frames of the WebSocket protocol (docs/websocket.md): parsing and validation.

Everything a client sends passes through `parse_frame`, which returns a typed frame or
raises `ProtocolError` with the error code and message the client will see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# A room message is up to 4,000 characters (apps.rooms.models.MAX_MESSAGE_LENGTH); with
# every character \u-escaped by a JSON encoder that is ~24,000 characters of frame.
MAX_FRAME_BYTES = 32_768
MAX_SYMBOLS = 500
MAX_CLIENT_ID = 64  # apps.rooms.models.Message.client_id
TIMEFRAMES = frozenset({"1m", "3m", "5m", "15m", "30m", "1h", "1d", "1w"})  # market.Timeframe
SYMBOL_RE = re.compile(r"^[A-Z0-9&._\- ]{1,32}$")
EXCHANGES = {"NSE", "BSE"}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, ref: Any = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.extra = extra

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message, "ref": self.ref,
                **self.extra}


SymbolKey = tuple[str, str]  # (exchange, symbol)


@dataclass(frozen=True)
class QuotesFrame:
    action: str  # "subscribe" | "unsubscribe"
    symbols: tuple[SymbolKey, ...]
    ref: Any = None


@dataclass(frozen=True)
class WatchlistFrame:
    action: str
    watchlist_id: int
    ref: Any = None


@dataclass(frozen=True)
class PortfolioFrame:
    action: str
    portfolio_id: int
    ref: Any = None


@dataclass(frozen=True)
class RoomFrame:
    action: str  # "subscribe" | "unsubscribe"
    room_id: int
    ref: Any = None


@dataclass(frozen=True)
class RoomSendFrame:
    room_id: int
    body: str
    parent_id: int | None = None
    share: dict[str, Any] | None = None
    client_id: str = ""
    ref: Any = None


@dataclass(frozen=True)
class RoomTypingFrame:
    room_id: int
    typing: bool
    ref: Any = None


@dataclass(frozen=True)
class RoomViewingFrame:
    room_id: int
    symbol: SymbolKey | None  # None: no chart open
    timeframe: str | None = None
    ref: Any = None


@dataclass(frozen=True)
class SignalsFrame:
    """Signals of every instrument and strategy, of one instrument, or of one strategy."""

    action: str  # "subscribe" | "unsubscribe"
    symbol: SymbolKey | None = None
    strategy: str | None = None
    ref: Any = None


@dataclass(frozen=True)
class PingFrame:
    ref: Any = None


@dataclass(frozen=True)
class ParsedSymbols:
    keys: list[SymbolKey] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)


def parse_symbol(raw: Any) -> SymbolKey | None:
    """`"TCS"` → ("NSE", "TCS"); `"BSE:SENSEX"` → ("BSE", "SENSEX"); None if malformed."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().upper()
    exchange, sep, symbol = text.partition(":")
    if not sep:
        exchange, symbol = "NSE", text
    if exchange not in EXCHANGES or not SYMBOL_RE.match(symbol):
        return None
    return exchange, symbol


def key_label(key: SymbolKey) -> str:
    return f"{key[0]}:{key[1]}"


ClientFrame = (
    QuotesFrame | WatchlistFrame | PortfolioFrame | PingFrame | RoomFrame | RoomSendFrame
    | RoomTypingFrame | RoomViewingFrame | SignalsFrame
)
RoomClientFrame = RoomFrame | RoomSendFrame | RoomTypingFrame | RoomViewingFrame


def _positive_id(data: dict[str, Any], ref: Any, name: str = "id") -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProtocolError(
            "bad_frame", _("`%(name)s` must be a positive integer.") % {"name": name}, ref
        )
    return value


def _room_send(data: dict[str, Any], ref: Any) -> RoomSendFrame:
    """Shapes only: the body's length, the parent and the share are the service's to judge."""
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ProtocolError("bad_frame", _("`body` must be a string."), ref)
    parent = data.get("parent")
    if parent is not None:
        parent = _positive_id(data, ref, "parent")
    share = data.get("share")
    if share is not None and not isinstance(share, dict):
        raise ProtocolError("bad_frame", _("`share` must be an object or null."), ref)
    client_id = data.get("client_id") or ""
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID:
        raise ProtocolError(
            "bad_frame",
            _("`client_id` must be a string of at most %(n)d characters.") % {"n": MAX_CLIENT_ID},
            ref,
        )
    return RoomSendFrame(room_id=_positive_id(data, ref, "room"), body=body, parent_id=parent,
                         share=share, client_id=client_id, ref=ref)


def _room_viewing(data: dict[str, Any], ref: Any) -> RoomViewingFrame:
    room_id = _positive_id(data, ref, "room")
    raw = data.get("symbol")
    if raw is None:
        return RoomViewingFrame(room_id=room_id, symbol=None, ref=ref)
    key = parse_symbol(raw)
    if key is None:
        shown = str(raw)[:40]
        raise ProtocolError("bad_symbol", _("Malformed symbol: %(symbol)s") % {"symbol": shown},
                            ref, symbols=[shown])
    timeframe = data.get("timeframe")
    if timeframe is not None and timeframe not in TIMEFRAMES:
        raise ProtocolError(
            "bad_frame",
            _("`timeframe` must be one of %(choices)s or null.")
            % {"choices": ", ".join(sorted(TIMEFRAMES))},
            ref,
        )
    return RoomViewingFrame(room_id=room_id, symbol=key, timeframe=timeframe, ref=ref)


def _signals(kind: str, data: dict[str, Any], ref: Any) -> SignalsFrame:
    """Shapes only: whether the symbol or the strategy exists is the consumer's to judge."""
    raw_symbol, strategy = data.get("symbol"), data.get("strategy")
    if raw_symbol is not None and strategy is not None:
        raise ProtocolError(
            "bad_frame", _("Give `symbol` or `strategy`, not both (neither: all signals)."), ref
        )
    if strategy is not None and (not isinstance(strategy, str) or not 0 < len(strategy) <= 40):
        raise ProtocolError("bad_frame", _("`strategy` must be a strategy key."), ref)
    symbol = None
    if raw_symbol is not None:
        symbol = parse_symbol(raw_symbol)
        if symbol is None:
            shown = str(raw_symbol)[:40]
            raise ProtocolError("bad_symbol", _("Malformed symbol: %(symbol)s") % {"symbol": shown},
                                ref, symbols=[shown])
    return SignalsFrame(action=kind, symbol=symbol, strategy=strategy, ref=ref)


def parse_frame(text: str | None) -> ClientFrame:
    if text is None:
        raise ProtocolError("bad_frame", "Frames must be JSON text.")
    if len(text) > MAX_FRAME_BYTES:
        raise ProtocolError("bad_frame", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"Not valid JSON: {exc.msg}.") from exc
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    ref = data.get("ref")
    if ref is not None and not isinstance(ref, str | int):
        raise ProtocolError("bad_frame", "`ref` must be a string or a number.")
    kind = data.get("type")
    if kind == "ping":
        return PingFrame(ref=ref)
    if kind == "room.send":
        return _room_send(data, ref)
    if kind == "room.typing":
        typing = data.get("typing")
        if not isinstance(typing, bool):
            raise ProtocolError("bad_frame", _("`typing` must be true or false."), ref)
        return RoomTypingFrame(room_id=_positive_id(data, ref, "room"), typing=typing, ref=ref)
    if kind == "room.viewing":
        return _room_viewing(data, ref)
    if kind not in ("subscribe", "unsubscribe"):
        raise ProtocolError("unknown_type", f"Unknown frame type {kind!r}.", ref)
    topic = data.get("topic")
    if topic == "quotes":
        symbols = data.get("symbols")
        if not isinstance(symbols, list) or not symbols:
            raise ProtocolError("bad_frame", "`symbols` must be a non-empty list.", ref)
        if len(symbols) > MAX_SYMBOLS:
            raise ProtocolError(
                "too_many_symbols", f"At most {MAX_SYMBOLS} symbols per connection.", ref
            )
        keys: list[SymbolKey] = []
        bad: list[str] = []
        for raw in symbols:
            key = parse_symbol(raw)
            if key is None:
                bad.append(str(raw)[:40])
            elif key not in keys:
                keys.append(key)
        if bad:
            raise ProtocolError(
                "bad_symbol", f"Malformed symbols: {', '.join(bad)}", ref, symbols=bad
            )
        return QuotesFrame(action=kind, symbols=tuple(keys), ref=ref)
    if topic == "watchlist":
        return WatchlistFrame(action=kind, watchlist_id=_positive_id(data, ref), ref=ref)
    if topic == "portfolio":
        return PortfolioFrame(action=kind, portfolio_id=_positive_id(data, ref), ref=ref)
    if topic == "room":
        return RoomFrame(action=kind, room_id=_positive_id(data, ref), ref=ref)
    if topic == "signals":
        return _signals(kind, data, ref)
    raise ProtocolError("unknown_topic", f"Unknown topic {topic!r}.", ref)
