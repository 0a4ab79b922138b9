"""The WebSocket consumer behind `/ws/` (protocol: docs/websocket.md).

Thin by design: it authenticates, validates frames (`protocol.py`), joins and leaves groups,
and writes frames. Quotes come from the per-process `QuoteHub`; user and watchlist events
come through the channel layer (`events.publish`). Every frame carries a sequence number.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from redis.exceptions import RedisError

from apps.portfolios.live import get_live_portfolios
from apps.realtime import protocol
from apps.realtime.auth import SocketUser
from apps.realtime.eager import Rest, start_eagerly
from apps.realtime.events import user_group, watchlist_group
from apps.realtime.feedwatch import current_feed_frame, get_feed_watch
from apps.realtime.gcpace import get_gc_pacer
from apps.realtime.hub import QuoteBatch, get_hub
from apps.realtime.loops import task_stop
from apps.realtime.protocol import ProtocolError, SymbolKey
from apps.realtime.stats import get_stats
from apps.realtime.sync import ws_sync
from apps.realtime.watchdog import get_watchdog
from apps.realtime.wire import abort_transport, direct_writer
from apps.rooms.realtime import ConnectionRooms, room_event
from apps.signals.realtime import ConnectionSignals

logger = logging.getLogger(__name__)

FRAMES_PER_SECOND = 20
FRAME_BURST = 40
FLOOD_GRACE_SECONDS = 2.0  # throttled this long without a pause → closed
FLUSH_INTERVAL = 0.05  # at most one quote frame per connection per 50 ms
MAX_PORTFOLIOS = 20  # open at once per connection

# A `quote.tick` frame is this head, the quotes joined with commas, and "]}".
_TICK_HEAD = '{"type":"quote.tick","seq":%d,"quotes":['
_TICK_HEAD_BYTES = _TICK_HEAD.encode()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4001
CLOSE_TOO_SLOW = 4408
CLOSE_FLOODING = 4429


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


_known: dict[str, Any] = {"keys": frozenset(), "at": 0.0}
KNOWN_TTL_SECONDS = 60.0


@ws_sync
def _load_known_keys() -> frozenset[SymbolKey]:
    from apps.market.models import Instrument

    return frozenset(
        Instrument.objects.filter(active=True).values_list("exchange__code", "symbol")
    )


async def _refresh_known_keys() -> None:
    _known["keys"] = await _load_known_keys()
    _known["at"] = time.monotonic()


async def known_instrument_keys() -> frozenset[SymbolKey]:
    if time.monotonic() - _known["at"] > KNOWN_TTL_SECONDS:
        # One load for everyone: when the list expires while thousands of sockets subscribe
        # (every client resubscribes after a deploy), each of them loading it queued 5,000
        # queries on the one sync thread and stalled subscriptions for half a minute.
        loop = asyncio.get_running_loop()
        loading: asyncio.Task[None] | None = _known.get("loading")
        if loading is None or loading.done() or loading.get_loop() is not loop:
            loading = _known["loading"] = loop.create_task(_refresh_known_keys())
        await asyncio.shield(loading)
    keys: frozenset[SymbolKey] = _known["keys"]
    return keys


@ws_sync
def quote_snapshot(keys: list[SymbolKey]) -> list[dict[str, Any]]:
    from apps.market.feed import feed_status
    from apps.market.quote_cache import quote_cache_get_many
    from apps.market.serializers import quote_data

    found = quote_cache_get_many(keys)
    status = feed_status()
    return [
        quote_data(found[key], stale=bool(status["stale"]), as_of=status.get("as_of"))
        for key in keys
        if key in found
    ]


@ws_sync
def watchlist_access(user: SocketUser, watchlist_id: int) -> dict[str, Any] | None:
    """The watchlist as the user sees it, or None without access (as if it did not exist)."""
    from apps.watchlists import selectors

    found = selectors.watchlist_get_for_user(user=user.as_model(), watchlist_id=watchlist_id)
    if found is None:
        return None
    watchlist, role = found
    return selectors.watchlist_snapshot(watchlist=watchlist, role=role)


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.seq = 0
        # Frozen sets, replaced on change (subscriptions are rare): until then every socket
        # shares the one empty frozenset instead of holding three empty sets (650 bytes).
        # `quote_keys` is the hub's copy, shared by the sockets watching the same symbols.
        self.quote_keys: frozenset[SymbolKey] = frozenset()
        self.watchlists: frozenset[int] = frozenset()
        self.portfolios: frozenset[int] = frozenset()
        self.rooms: ConnectionRooms | None = None  # made on the first room frame
        self.signals: ConnectionSignals | None = None  # made on the first signals frame
        self.pending: dict[SymbolKey, str] = {}
        self.queued: list[str] = []  # control frames, serialised, waiting behind a write
        self.bucket = TokenBucket(FRAMES_PER_SECOND, FRAME_BURST)
        self.throttled_since: float | None = None
        # A task exists only while a write waits for the client (see `_drain`).
        self.writer: asyncio.Task[None] | None = None
        self.flush_timer: asyncio.TimerHandle | None = None
        self.next_quotes_at = 0.0
        self.stats = get_stats()
        self.closing = False
        # Accept first: only an open socket can carry our own close code and reason.
        await self.accept()
        self.direct = direct_writer(self.base_send)  # None unless the server allows it
        if self.user is None or not self.user.is_authenticated:
            logger.info(
                "ws refused (4401): no authenticated user; client=%s origin=%s",
                self.scope.get("client"),
                dict(self.scope.get("headers", [])).get(b"origin", b"").decode(errors="replace"),
            )
            await self._close(CLOSE_UNAUTHENTICATED)
            return
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        self.stats.connected()
        get_gc_pacer().start()
        self.counted = True
        get_feed_watch().add(self)
        await self.send_frame(
            {
                "type": "hello",
                "user": {"id": self.user.pk, "email": self.user.email},
                "limits": {"symbols": protocol.MAX_SYMBOLS, "frames_per_second": FRAMES_PER_SECOND},
                # The watch's latest check (at most CHECK_EVERY_SECONDS old; a change is
                # pushed to this socket anyway): no cache round trip per handshake.
                "feed": get_feed_watch().last or await current_feed_frame(),
            }
        )

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if getattr(self, "counted", False):
            self.stats.disconnected()
            self.counted = False
        get_watchdog().write_done(self)
        timer = getattr(self, "flush_timer", None)
        if timer is not None:
            timer.cancel()
        await task_stop(getattr(self, "writer", None))
        if self.quote_keys:
            self.quote_keys = await get_hub().watch(self, frozenset())
        get_feed_watch().discard(self)
        user = getattr(self, "user", None)
        if user is not None and user.is_authenticated:
            await self.channel_layer.group_discard(user_group(user.pk), self.channel_name)
        for watchlist_id in list(getattr(self, "watchlists", ())):
            await self.channel_layer.group_discard(watchlist_group(watchlist_id), self.channel_name)
        for portfolio_id in list(getattr(self, "portfolios", ())):
            await get_live_portfolios().leave(self, portfolio_id=portfolio_id)
        rooms: ConnectionRooms | None = getattr(self, "rooms", None)
        if rooms is not None:
            await rooms.close()
        signals: ConnectionSignals | None = getattr(self, "signals", None)
        if signals is not None:
            await signals.close()

    # -- sending ------------------------------------------------------------------------------
    #
    # A socket's frames go out in order and are numbered as they are written. A write nearly
    # always completes at once (the ASGI server waits only while the client's socket buffer
    # is full), so frames are written synchronously by whoever has one -- the hub's flush, a
    # frame handler, an event -- with no task or lock per frame (`start_eagerly`). Only a
    # write that has to wait continues in a task (`self.writer`); frames that come meanwhile
    # queue behind it, and the task writes them when the client reads again, then ends. The
    # watchdog evicts the client if that wait lasts REALTIME_SLOW_CLIENT_SECONDS.

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    def _drain(self) -> None:
        """Write queued control frames, then the pending quotes as one frame, until a write
        has to wait or nothing is left."""
        while self.writer is None and not self.closing:
            if self.queued:
                body = self.queued.pop(0)
                self.seq += 1
                self._write(f'{body[:-1]},"seq":{self.seq}}}')
            elif self.pending and self._quotes_due():
                batch, self.pending = self.pending, {}
                self._write_quotes(",".join(batch.values()).encode())
            else:
                return

    def _quotes_due(self) -> bool:
        """At most one quote frame per FLUSH_INTERVAL: ticks arriving meanwhile are merged
        into `pending` (latest price per symbol wins) and written when the interval ends."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self.next_quotes_at:
            return True
        if self.flush_timer is None:
            self.flush_timer = loop.call_at(self.next_quotes_at, self._flush_due)
        return False

    def _write_quotes(self, body: bytes, now: float | None = None) -> None:
        """One `quote.tick` frame; `body`: its quotes joined with commas, UTF-8; `now`: the
        loop's time, when the caller has it."""
        if now is None:
            now = asyncio.get_running_loop().time()
        self.next_quotes_at = now + FLUSH_INTERVAL
        self.seq += 1
        direct = self.direct
        if direct is not None and direct.ready():
            direct.write(_TICK_HEAD_BYTES % self.seq, body, b"]}")
            self.stats.sent()
            return
        self._write(f"{_TICK_HEAD % self.seq}{body.decode()}]}}")

    def _write(self, text: str) -> None:
        """Write one frame now; if the client's buffer is full, finish it in `self.writer`.
        Through ASGI: control frames are few, and compressed if the client asked for it."""
        try:
            rest = start_eagerly(self.base_send({"type": "websocket.send", "text": text}))
        except Exception as exc:  # the server cannot take it: the client is gone
            logger.debug("ws write failed (%s); dropping what is queued", exc)
            self.closing = True
            self.queued.clear()
            self.pending.clear()
            return
        self.stats.sent()
        if rest is not None:
            self.writer = asyncio.get_running_loop().create_task(self._finish_write(rest))

    def _flush_due(self) -> None:
        self.flush_timer = None
        self._drain()

    async def _finish_write(self, rest: Rest) -> None:
        watchdog = get_watchdog()
        watchdog.write_started(self)
        try:
            await rest
        except Exception as exc:
            logger.debug("ws write failed (%s); dropping what is queued", exc)
            self.closing = True
            return
        finally:
            watchdog.write_done(self)
        self.writer = None
        self._drain()

    async def evict_too_slow(self) -> None:
        """Called by the watchdog when a write has been blocked for too long."""
        if self.closing:
            return
        logger.info("ws closed (4408): client %s too slow", self.scope.get("client"))
        self.closing = True
        if self.writer is not None:
            self.writer.cancel()
        try:
            # The close frame itself waits for room in the full buffer: give it a second.
            async with asyncio.timeout(1.0):
                await self.base_send({"type": "websocket.close", "code": CLOSE_TOO_SLOW})
        except (TimeoutError, Exception):
            abort_transport(self.base_send)

    def _enqueue(self, frame: dict[str, Any]) -> None:
        if "seq" in frame:
            frame = {key: value for key, value in frame.items() if key != "seq"}
        # Serialised now (an unserialisable frame fails its caller, not the writer); the
        # sequence number is added when it is written.
        self.queued.append(json.dumps(frame, default=str))
        self._drain()

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send a frame; returns once the client took it (or the socket is closing)."""
        if self.closing:
            return
        self._enqueue(frame)
        if self.writer is not None:
            await asyncio.wait([self.writer])

    def quotes_ready(self, batch: QuoteBatch, body: bytes) -> None:
        """Called by the hub once per gathered batch of ticks that has some of ours; `body`:
        our quotes of it, joined once for all the sockets watching the same symbols."""
        if self.closing:
            return
        if self.pending or self.queued or self.writer is not None or batch.at < self.next_quotes_at:
            # Behind other frames or a slow client, or within FLUSH_INTERVAL of the last
            # quote frame: merged into what waits (latest price per symbol wins); `_drain`
            # writes it, or sets the timer for the end of the interval.
            self.pending.update(batch.subset(self.quote_keys))
            self._drain()
            return
        if body:
            self._write_quotes(body, batch.at)

    def offer_frame(self, frame: dict[str, Any]) -> None:
        """Send a frame without waiting for the client (feed status, portfolio updates)."""
        if not self.closing:
            self._enqueue(frame)

    async def send_error(self, error: ProtocolError) -> None:
        await self.send_frame(error.frame())

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or self.user is None or not self.user.is_authenticated:
            return
        if not self.bucket.take():
            now = time.monotonic()
            self.throttled_since = self.throttled_since or now
            if now - self.throttled_since > FLOOD_GRACE_SECONDS:
                logger.info("ws closed (4429): client %s floods", self.scope.get("client"))
                await self._close(CLOSE_FLOODING)
                return
            await self.send_error(ProtocolError(
                "rate_limited", f"More than {FRAMES_PER_SECOND} frames a second; slow down."
            ))
            return
        if self.bucket.tokens >= FRAME_BURST / 2:
            # Only a client that really slowed down (the bucket refilled) is forgiven; one
            # that keeps flooding gets a frame through now and then but stays throttled.
            self.throttled_since = None
        try:
            frame = protocol.parse_frame(text_data)
            if isinstance(frame, protocol.PingFrame):
                await self.send_frame({"type": "pong", "ref": frame.ref,
                                       "server_time": time.time()})
            elif isinstance(frame, protocol.QuotesFrame):
                await self._quotes(frame)
            elif isinstance(frame, protocol.PortfolioFrame):
                await self._portfolio(frame)
            elif isinstance(frame, protocol.RoomClientFrame):
                await self._room_state().handle(frame)
            elif isinstance(frame, protocol.SignalsFrame):
                if self.signals is None:
                    self.signals = ConnectionSignals(self)
                await self.signals.handle(frame)
            else:
                await self._watchlist(frame)
        except ProtocolError as error:
            await self.send_error(error)

    async def _quotes(self, frame: protocol.QuotesFrame) -> None:
        labels = [protocol.key_label(key) for key in frame.symbols]
        if frame.action == "unsubscribe":
            gone = [key for key in frame.symbols if key in self.quote_keys]
            for key in gone:
                self.pending.pop(key, None)
            self.quote_keys = await get_hub().watch(self, self.quote_keys.difference(gone))
            await self.send_frame({"type": "unsubscribed", "topic": "quotes",
                                   "symbols": labels, "ref": frame.ref})
            return
        known = await known_instrument_keys()
        unknown = [protocol.key_label(key) for key in frame.symbols if key not in known]
        if unknown:
            raise ProtocolError("bad_symbol", f"Unknown symbols: {', '.join(unknown)}",
                                frame.ref, symbols=unknown)
        new = [key for key in frame.symbols if key not in self.quote_keys]
        if len(self.quote_keys) + len(new) > protocol.MAX_SYMBOLS:
            raise ProtocolError("too_many_symbols",
                                f"At most {protocol.MAX_SYMBOLS} symbols per connection.",
                                frame.ref)
        try:
            self.quote_keys = await get_hub().watch(self, self.quote_keys.union(new))
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("ws: quote hub unavailable: %s", exc)
            raise ProtocolError("unavailable", "Live prices are unavailable right now; "
                                "subscribe again in a few seconds.", frame.ref) from exc
        await self.send_frame({"type": "subscribed", "topic": "quotes", "symbols": labels,
                               "ref": frame.ref})
        await self.send_frame({"type": "quote.snapshot",
                               "quotes": await quote_snapshot(list(frame.symbols))})

    async def _watchlist(self, frame: protocol.WatchlistFrame) -> None:
        group = watchlist_group(frame.watchlist_id)
        if frame.action == "unsubscribe":
            self.watchlists -= {frame.watchlist_id}
            await self.channel_layer.group_discard(group, self.channel_name)
            await self.send_frame({"type": "unsubscribed", "topic": "watchlist",
                                   "id": frame.watchlist_id, "ref": frame.ref})
            return
        snapshot = await watchlist_access(self.user, frame.watchlist_id)
        if snapshot is None:
            raise ProtocolError("not_found", "No such watchlist.", frame.ref)
        await self.channel_layer.group_add(group, self.channel_name)
        self.watchlists |= {frame.watchlist_id}
        await self.send_frame({"type": "subscribed", "topic": "watchlist",
                               "id": frame.watchlist_id, "ref": frame.ref})
        await self.send_frame({"type": "watchlist.snapshot", "watchlist": snapshot})

    async def _portfolio(self, frame: protocol.PortfolioFrame) -> None:
        live = get_live_portfolios()
        if frame.action == "unsubscribe":
            self.portfolios -= {frame.portfolio_id}
            await live.leave(self, portfolio_id=frame.portfolio_id)
            await self.send_frame({"type": "unsubscribed", "topic": "portfolio",
                                   "id": frame.portfolio_id, "ref": frame.ref})
            return
        if frame.portfolio_id in self.portfolios:
            await live.leave(self, portfolio_id=frame.portfolio_id)
            self.portfolios -= {frame.portfolio_id}
        if len(self.portfolios) >= MAX_PORTFOLIOS:
            raise ProtocolError("too_many_portfolios",
                                f"At most {MAX_PORTFOLIOS} portfolios per connection.", frame.ref)
        try:
            snapshot = await live.join(self, portfolio_id=frame.portfolio_id,
                                       user_id=self.user.pk)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("ws: quote hub unavailable: %s", exc)
            raise ProtocolError("unavailable", "Live values are unavailable right now; "
                                "subscribe again in a few seconds.", frame.ref) from exc
        if snapshot is None:
            raise ProtocolError("not_found", "No such portfolio.", frame.ref)
        self.portfolios |= {frame.portfolio_id}
        await self.send_frame({"type": "subscribed", "topic": "portfolio",
                               "id": frame.portfolio_id, "ref": frame.ref})
        await self.send_frame(snapshot)  # a full `portfolio.update`; later ones are deltas in time

    def _room_state(self) -> ConnectionRooms:
        if self.rooms is None:
            self.rooms = ConnectionRooms(self)
        return self.rooms

    # -- channel-layer events (events.publish) ------------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        event: dict[str, Any] = message["event"]
        kind = event.get("type")
        if kind == "session.ended":
            logger.info("ws closed (4001): session ended for user %s", self.user.pk)
            await self._close(CLOSE_SESSION_ENDED)
            return
        if kind == "watchlist.revoked":
            watchlist_id = int(event.get("id") or 0)
            if watchlist_id in self.watchlists:
                self.watchlists -= {watchlist_id}
                await self.channel_layer.group_discard(
                    watchlist_group(watchlist_id), self.channel_name
                )
        elif str(kind).startswith("room."):
            forwarded = await room_event(self.rooms, event)
            if forwarded is None:
                return  # a room this socket has not open (or your own typing)
            event = forwarded
        elif str(kind).startswith("signal."):
            if self.signals is None or not self.signals.accepts(event):
                return  # unsubscribed since, or the copy of an overlapping group
        elif kind == "portfolio.changed":
            if int(event.get("id") or 0) in self.portfolios:
                get_live_portfolios().reload_soon(int(event["id"]))
        elif kind == "watchlist.updated" and event.get("watchlist", {}).get("role") is None:
            from apps.watchlists.selectors import watchlist_snapshot_for_user

            # Group events cannot know each receiver's role; the snapshot's member list can.
            snapshot = watchlist_snapshot_for_user(snapshot=event["watchlist"],
                                                   user_id=self.user.pk)
            if snapshot is None:
                return  # access just ended: the `watchlist.revoked` frame says so
            event = {**event, "watchlist": snapshot}
        await self.send_frame(event)
