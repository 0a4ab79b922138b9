"""Signals over /ws/ (real Redis channel layer) and notifications to followers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.market.models import Instrument
from apps.notifications.models import Notification
from apps.realtime import consumers
from apps.realtime.events import publish_now, signals_all_group
from apps.signals import realtime
from apps.signals.generation import signals_generate
from apps.signals.models import Action, FollowKind, Signal, SignalFollow
from apps.signals.tests.conftest import candles_insert
from apps.signals.tests.factories import SignalFactory
from apps.signals.tests.test_generation import _after_close, _rising_at_the_end
from tests.factories import UserFactory
from tests.ws import signed_in_socket

Socket = Any  # channels.testing.WebsocketCommunicator (untyped)


async def _next(socket: Socket, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next frame of `kind`, skipping others (feed status…)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (left := end - loop.time()) > 0:
        frame: dict[str, Any] = await socket.receive_json_from(timeout=left)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


async def _signal_frames(socket: Socket, count: int = 0, wait: float = 1.0) -> list[dict[str, Any]]:
    """The `signal.*` frames that arrive: ``count`` of them, then any more until ``wait``
    seconds pass in silence (events come through Redis, so silence is the only proof that
    nothing else is coming). `receive_nothing`, not a receive timeout, which would cancel
    the consumer."""
    frames: list[dict[str, Any]] = []
    while len(frames) < count or not await socket.receive_nothing(timeout=wait):
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"].startswith("signal."):
            frames.append(frame)
    return frames


@database_sync_to_async
def _generate() -> list[Signal]:
    """RELIANCE's bars end on an SMA 20/50 cross up: signals_generate issues its signals."""
    reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    return signals_generate(timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
class TestSignalsTopic:
    @pytest.fixture(autouse=True)
    def _fresh(self, market_seed: None) -> None:
        consumers._known["at"] = 0.0

    async def test_subscribers_to_all_get_a_snapshot_then_each_new_signal(
        self, sockets: list[Any]
    ) -> None:
        user = await database_sync_to_async(UserFactory)()
        older = await database_sync_to_async(self._two_stored_signals)()
        socket = await signed_in_socket(sockets, user)

        await socket.send_json_to({"type": "subscribe", "topic": "signals", "ref": 1})
        assert (await _next(socket, "subscribed"))["topic"] == "signals"
        snapshot = await _next(socket, "signal.snapshot")
        assert snapshot["topic"] == "signals"
        assert [s["id"] for s in snapshot["signals"]] == [older[1].pk, older[0].pk]
        assert snapshot["signals"][0]["stock"] == "TCS"
        assert "type" not in snapshot["signals"][0]

        created = await _generate()
        frames = await _signal_frames(socket, len(created))

        assert created
        assert sorted(f["id"] for f in frames) == sorted(s.pk for s in created)
        assert {f["type"] for f in frames} == {"signal.new"}
        sma = next(f for f in frames if f["strategy"] == "sma_crossover")
        signal = await database_sync_to_async(Signal.objects.get)(pk=sma["id"])
        day = signal.bar_time.astimezone(realtime_ist()).date().isoformat()
        assert sma == {
            **sma,
            "stock": "RELIANCE",
            "exchange": "NSE",
            "action": "BUY",
            "confidence": None,
            "entry_price": f"{signal.entry_price:.2f}",
            "target_price": f"{signal.target_price:.2f}",
            "stop_loss": f"{signal.stop_loss:.2f}",
            "risk_reward": "2.00",
            "strength": signal.strength,
            "strategy_name": "SMA crossover",
            "params": {"fast": 20, "slow": 50},
            "timeframe": "1d",
            "explanation": signal.explanation,
            "evidence": signal.evidence,
            "timestamp": f"{day}T15:30:00+05:30",
            "bar_time": f"{day}T00:00:00+05:30",
        }
        assert sma["entry_price"].count(".") == 1

    @staticmethod
    def _two_stored_signals() -> list[Signal]:
        reliance = Instrument.objects.get(symbol="RELIANCE", exchange__code="NSE")
        tcs = Instrument.objects.get(symbol="TCS", exchange__code="NSE")
        first: Any = SignalFactory(instrument=reliance)
        second: Any = SignalFactory(instrument=tcs, bar_time=first.bar_time + timedelta(1))
        return [first, second]

    async def test_a_symbol_or_strategy_subscription_gets_only_its_signals_and_each_once(
        self, sockets: list[Any]
    ) -> None:
        user = await database_sync_to_async(UserFactory)()
        overlapping = await signed_in_socket(sockets, user)
        other_symbol = await signed_in_socket(sockets, user)
        other_strategy = await signed_in_socket(sockets, user)
        for frame in (
            {"symbol": "RELIANCE"},
            {"strategy": "sma_crossover"},
            {},
        ):
            await overlapping.send_json_to({"type": "subscribe", "topic": "signals", **frame})
            await _next(overlapping, "signal.snapshot")
        await other_symbol.send_json_to(
            {"type": "subscribe", "topic": "signals", "symbol": "NSE:TCS"}
        )
        tcs_snapshot = await _next(other_symbol, "signal.snapshot")
        assert (tcs_snapshot["symbol"], tcs_snapshot["signals"]) == ("NSE:TCS", [])
        await other_strategy.send_json_to(
            {"type": "subscribe", "topic": "signals", "strategy": "rsi_reversion"}
        )
        assert (await _next(other_strategy, "signal.snapshot"))["strategy"] == "rsi_reversion"

        created = await _generate()

        received = await _signal_frames(overlapping, len(created))
        assert sorted(f["id"] for f in received) == sorted(s.pk for s in created)
        assert await _signal_frames(other_symbol) == []
        assert all(s.strategy != "rsi_reversion" for s in created)
        assert await _signal_frames(other_strategy) == []

    async def test_after_unsubscribing_no_signal_arrives(self, sockets: list[Any]) -> None:
        user = await database_sync_to_async(UserFactory)()
        socket = await signed_in_socket(sockets, user)
        await socket.send_json_to({"type": "subscribe", "topic": "signals"})
        await _next(socket, "signal.snapshot")
        await socket.send_json_to({"type": "unsubscribe", "topic": "signals", "ref": "u"})
        assert (await _next(socket, "unsubscribed"))["ref"] == "u"

        await database_sync_to_async(publish_now)(
            signals_all_group(), {"type": "signal.new", "id": 1, "stock": "TCS"}
        )

        assert await _signal_frames(socket) == []

    @pytest.mark.parametrize(
        ("frame", "code"),
        [
            ({"symbol": "RELIANCE", "strategy": "sma_crossover"}, "bad_frame"),
            ({"strategy": "astrology"}, "unknown_strategy"),
            ({"strategy": 7}, "bad_frame"),
            ({"symbol": "NSE:NOSUCH"}, "bad_symbol"),
            ({"symbol": "LSE:VOD"}, "bad_symbol"),
        ],
    )
    async def test_bad_subscriptions_get_an_error_frame_and_the_socket_stays_usable(
        self, sockets: list[Any], frame: dict[str, Any], code: str
    ) -> None:
        user = await database_sync_to_async(UserFactory)()
        socket = await signed_in_socket(sockets, user)

        await socket.send_json_to({"type": "subscribe", "topic": "signals", "ref": 9, **frame})

        error = await _next(socket, "error")
        assert (error["code"], error["ref"]) == (code, 9)
        await socket.send_json_to({"type": "subscribe", "topic": "signals"})
        assert (await _next(socket, "signal.snapshot"))["signals"] == []

    async def test_subscriptions_per_connection_are_capped(
        self, sockets: list[Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(realtime, "MAX_SUBSCRIPTIONS", 2)
        user = await database_sync_to_async(UserFactory)()
        socket = await signed_in_socket(sockets, user)
        for extra in ({}, {"strategy": "supertrend"}, {"strategy": "supertrend"}):
            await socket.send_json_to({"type": "subscribe", "topic": "signals", **extra})
            await _next(socket, "signal.snapshot")  # the same one again is no new subscription

        await socket.send_json_to({"type": "subscribe", "topic": "signals", "symbol": "TCS"})

        assert (await _next(socket, "error"))["code"] == "too_many_subscriptions"


def realtime_ist() -> Any:
    from apps.signals.clock import IST

    return IST


@pytest.mark.django_db
def test_a_follower_of_both_the_strategy_and_the_instrument_gets_one_notification(
    reliance: Instrument, tcs: Instrument, django_capture_on_commit_callbacks: Any
) -> None:
    users: list[Any] = [UserFactory() for _ in range(4)]
    both, strategy_15m, tcs_follower, bystander = users
    SignalFollow.objects.create(user=both, kind=FollowKind.STRATEGY, strategy="sma_crossover")
    SignalFollow.objects.create(
        user=both, kind=FollowKind.INSTRUMENT, instrument=reliance, timeframe="1d"
    )
    SignalFollow.objects.create(
        user=strategy_15m, kind=FollowKind.STRATEGY, strategy="sma_crossover", timeframe="15m"
    )
    SignalFollow.objects.create(user=tcs_follower, kind=FollowKind.INSTRUMENT, instrument=tcs)
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)

    with django_capture_on_commit_callbacks(execute=False):
        created = signals_generate(
            timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk]
        )

    sma = next(s for s in created if s.strategy == "sma_crossover")
    assert sma.action == Action.BUY
    mine = Notification.objects.filter(user=both, data__strategy="sma_crossover")
    assert mine.count() == 1
    notification = mine.get()
    assert notification.title == "BUY RELIANCE (SMA crossover, 1d)"
    assert f"Entry ₹{sma.entry_price:.2f}" in notification.body
    assert f"stop-loss ₹{sma.stop_loss:.2f}" in notification.body
    assert f"/signals/{sma.pk}/" in notification.body
    assert notification.data["url"] == f"/signals/{sma.pk}/"
    assert notification.source == "signals"
    # Following RELIANCE: one notification per RELIANCE signal, whatever its strategy.
    assert Notification.objects.filter(user=both).count() == len(created)
    for user in (strategy_15m, tcs_follower, bystander):
        assert not Notification.objects.filter(user=user).exists()
