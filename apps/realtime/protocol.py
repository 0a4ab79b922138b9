"""Client frames of the WebSocket protocol (docs/websocket.md): parsing and validation.

Everything a client sends passes through `parse_frame`, which returns a typed frame or
raises `ProtocolError` with the error code and message the client will see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_FRAME_BYTES = 16_384
MAX_SYMBOLS = 500
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


ClientFrame = QuotesFrame | WatchlistFrame | PortfolioFrame | PingFrame


def _positive_id(data: dict[str, Any], ref: Any) -> int:
    value = data.get("id")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProtocolError("bad_frame", "`id` must be a positive integer.", ref)
    return value


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
    raise ProtocolError("unknown_topic", f"Unknown topic {topic!r}.", ref)
