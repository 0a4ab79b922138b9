"""Live portfolio values in the `ws` process: `portfolio.update` frames from quote ticks.

A socket that subscribes to a portfolio (`{"type": "subscribe", "topic": "portfolio",
"id": N}`) joins the process's `LivePortfolio` for N, made on first use: the portfolio's
ledger is replayed once from the database, and the `LivePortfolio` registers with the quote
hub (apps/realtime/hub.py) for the held symbols like any socket does. Each tick only stores
the new price; at most once per PORTFOLIO_LIVE_INTERVAL the holdings are revalued in memory
(`valuation.portfolio_valuation`, no database) and one frame is offered to every socket of
that portfolio in this process. So the cost of a tick does not grow with the sockets of a
portfolio, and a portfolio nobody has open costs nothing.

A transaction change publishes `portfolio.changed` to the owner's `user.<id>` group; the
consumer forwards it and asks the registry to replay the ledger again and push at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings

from apps.realtime.hub import QuoteBatch, get_hub
from apps.realtime.loops import PerLoop, task_stop
from apps.realtime.protocol import SymbolKey
from apps.realtime.sync import ws_sync

logger = logging.getLogger(__name__)


class FrameSink(Protocol):
    def offer_frame(self, frame: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class LiveQuote:
    last_price: Decimal
    prev_close: Decimal
    at: datetime
    simulated: bool = False


@dataclass(slots=True)
class LiveState:
    """What revaluing needs, loaded once per (re)load; see `live_state_load`."""

    owner_id: int
    ledger: Any
    instruments: dict[int, Any]
    quotes: dict[int, Any]
    keys: dict[SymbolKey, int]  # held symbol → instrument id


@ws_sync
def live_state_load(*, portfolio_id: int, user_id: int) -> LiveState | None:
    """The owner's portfolio, replayed; None when it does not exist or is not theirs."""
    from apps.portfolios import selectors

    found = selectors.portfolio_live_inputs(portfolio_id=portfolio_id, owner_id=user_id)
    if found is None:
        return None
    ledger, instruments, quotes = found
    keys = {
        (instrument.exchange.code, instrument.symbol): instrument_id
        for instrument_id, instrument in instruments.items()
    }
    return LiveState(
        owner_id=user_id, ledger=ledger, instruments=instruments, quotes=quotes, keys=keys
    )


def update_frame(*, portfolio_id: int, state: LiveState) -> dict[str, Any]:
    from apps.portfolios.valuation import portfolio_valuation, valuation_live_data

    valuation = portfolio_valuation(
        ledger=state.ledger, instruments=state.instruments, quotes=state.quotes
    )
    return {"type": "portfolio.update", "portfolio": portfolio_id,
            **valuation_live_data(valuation)}


class LivePortfolio:
    """One portfolio open in this process: a quote sink of the hub, a frame source for its
    sockets."""

    def __init__(self, portfolio_id: int, state: LiveState) -> None:
        self.portfolio_id = portfolio_id
        self.state = state
        self.sockets: set[FrameSink] = set()
        self.last_push = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.changed = False

    # QuoteSink ----------------------------------------------------------------------------
    def quotes_ready(self, batch: QuoteBatch, body: bytes) -> None:
        for key, payload in batch.subset(self.state.keys).items():
            self.offer_quote(key, payload)
        if self.changed:
            self.schedule()

    def offer_quote(self, key: SymbolKey, payload: str) -> None:
        """Take one tick of a held symbol (the latest price wins)."""
        instrument_id = self.state.keys.get(key)
        if instrument_id is None:
            return
        try:
            data = json.loads(payload)
            self.state.quotes[instrument_id] = LiveQuote(
                last_price=Decimal(data["last_price"]),
                prev_close=Decimal(data["prev_close"]),
                at=datetime.fromisoformat(data["at"]),
                simulated=bool(data.get("simulated")),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError):
            logger.warning("portfolio live: unreadable tick for %s", key)
            return
        self.changed = True

    # Pushing ------------------------------------------------------------------------------
    def schedule(self) -> None:
        """Push now, or once the interval since the last push has passed."""
        if self.timer is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self.last_push + settings.PORTFOLIO_LIVE_INTERVAL - loop.time()
        if wait <= 0:
            self.push()
        else:
            self.timer = loop.call_later(wait, self._timer_fired)

    def _timer_fired(self) -> None:
        self.timer = None
        self.push()

    def push(self) -> None:
        self.changed = False
        self.last_push = asyncio.get_running_loop().time()
        try:
            frame = self.frame()
        except Exception:  # a push is a courtesy: never break the hub's loop
            logger.exception("portfolio live: valuing portfolio %s failed", self.portfolio_id)
            return
        for socket in list(self.sockets):
            socket.offer_frame(frame)

    def frame(self) -> dict[str, Any]:
        return update_frame(portfolio_id=self.portfolio_id, state=self.state)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class LivePortfolios:
    """The process's open portfolios, by id."""

    def __init__(self) -> None:
        self.open: dict[int, LivePortfolio] = {}
        self._lock = asyncio.Lock()
        self._reloads: dict[int, asyncio.Task[None]] = {}

    async def join(
        self, socket: FrameSink, *, portfolio_id: int, user_id: int
    ) -> dict[str, Any] | None:
        """Add `socket`; returns the current `portfolio.update` frame for it, or None when
        the user may not see the portfolio (as if it did not exist)."""
        async with self._lock:
            # Checked on every join, not only the first: the portfolio may have been
            # deleted, and another user's socket must never share an owner's object.
            state = await live_state_load(portfolio_id=portfolio_id, user_id=user_id)
            if state is None:
                return None
            live = self.open.get(portfolio_id)
            if live is None:
                live = LivePortfolio(portfolio_id, state)
                await get_hub().watch(live, frozenset(state.keys))
                self.open[portfolio_id] = live
            else:
                await self._replace_state(live, state)
            live.sockets.add(socket)
            # The snapshot counts as a push: the next tick waits for the interval.
            live.last_push = asyncio.get_running_loop().time()
            return live.frame()

    async def leave(self, socket: FrameSink, *, portfolio_id: int) -> None:
        async with self._lock:
            live = self.open.get(portfolio_id)
            if live is None:
                return
            live.sockets.discard(socket)
            if not live.sockets:
                live.cancel()
                del self.open[portfolio_id]
                await get_hub().watch(live, frozenset())

    def reload_soon(self, portfolio_id: int) -> None:
        """After a transaction change: replay again and push at once (coalesced)."""
        if portfolio_id not in self.open:
            return
        running = self._reloads.get(portfolio_id)
        if running is not None and not running.done():
            return
        self._reloads[portfolio_id] = asyncio.get_running_loop().create_task(
            self._reload(portfolio_id)
        )

    async def _reload(self, portfolio_id: int) -> None:
        async with self._lock:
            live = self.open.get(portfolio_id)
            if live is None:
                return
            state = await live_state_load(portfolio_id=portfolio_id, user_id=live.state.owner_id)
            if state is None:  # deleted: its sockets get nothing more
                live.cancel()
                del self.open[portfolio_id]
                await get_hub().watch(live, frozenset())
                return
            await self._replace_state(live, state)
            live.cancel()
            live.push()

    async def _replace_state(self, live: LivePortfolio, state: LiveState) -> None:
        old, new = set(live.state.keys), set(state.keys)
        # Prices that arrived by tick are newer than the database's copy.
        for key, instrument_id in state.keys.items():
            old_id = live.state.keys.get(key)
            if old_id is not None and old_id in live.state.quotes:
                state.quotes[instrument_id] = live.state.quotes[old_id]
        live.state = state
        if new != old:
            await get_hub().watch(live, frozenset(new))

    async def close(self) -> None:
        for task in self._reloads.values():
            await task_stop(task)
        for live in self.open.values():
            live.cancel()
        self.open.clear()


get_live_portfolios = PerLoop(LivePortfolios)
