"""Shared fixtures of the room tests: instruments, a room with an owner, a moderator and a
member (and an outsider), clients, and a way to catch what is published after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from rest_framework.test import APIClient

from apps.market.models import Exchange, Instrument, InstrumentKind
from apps.rooms import services
from apps.rooms.models import Room, RoomMember, RoomRole
from tests.events import published
from tests.factories import RoomFactory, UserFactory, WatchlistFactory

T = TypeVar("T")

# symbol: (name, sector) — NSE equities as in the NIFTY 50 seed.
EQUITIES = {
    "RELIANCE": ("Reliance Industries Ltd.", "Oil Gas & Consumable Fuels"),
    "TCS": ("Tata Consultancy Services Ltd.", "Information Technology"),
    "INFY": ("Infosys Ltd.", "Information Technology"),
    "HDFCBANK": ("HDFC Bank Ltd.", "Financial Services"),
    "M&M": ("Mahindra & Mahindra Ltd.", "Automobile and Auto Components"),
}


@pytest.fixture
def instruments(db: Any) -> dict[str, Instrument]:
    """NSE equities above, NIFTY 50 and BSE:SENSEX, keyed "NSE:TCS". The migrations seed
    them; made here too because a transactional test elsewhere may have flushed the seed."""
    nse, _ = Exchange.objects.get_or_create(code="NSE", defaults={"name": "NSE"})
    bse, _ = Exchange.objects.get_or_create(code="BSE", defaults={"name": "BSE"})
    found: dict[str, Instrument] = {}
    for symbol, (name, sector) in EQUITIES.items():
        found[f"NSE:{symbol}"], _ = Instrument.objects.update_or_create(
            exchange=nse,
            symbol=symbol,
            defaults={
                "name": name,
                "sector": sector,
                "market_cap": "large",
                "kind": InstrumentKind.EQUITY,
                "active": True,
            },
        )
    found["NSE:NIFTY 50"], _ = Instrument.objects.update_or_create(
        exchange=nse,
        symbol="NIFTY 50",
        defaults={
            "name": "Nifty 50",
            "kind": InstrumentKind.INDEX,
            "active": True,
            "sector": "",
            "market_cap": "",
        },
    )
    found["BSE:SENSEX"], _ = Instrument.objects.update_or_create(
        exchange=bse,
        symbol="SENSEX",
        defaults={"name": "Sensex", "kind": InstrumentKind.INDEX, "active": True},
    )
    return found


def new_user(**fields: Any) -> Any:
    """A saved user (factories are typed as themselves, not as the model they build)."""
    return UserFactory(**fields)


def new_room(**fields: Any) -> Any:
    """A room made directly (with its owner's member row): no events, caps or watchlist."""
    return RoomFactory(**fields)


def new_watchlist(**fields: Any) -> Any:
    return WatchlistFactory(**fields)


@pytest.fixture
def owner(user: Any) -> Any:
    return user


@pytest.fixture
def room(owner: Any, instruments: Any) -> Room:
    """ "Swing traders", private, owned by `owner`, with a new shared watchlist."""
    return services.room_create(by=owner, name="Swing traders", description="Daily setups")


def add_member(room: Room, role: str = RoomRole.MEMBER, **user: Any) -> Any:
    """A new user in `room` with `role` (directly: no events, no watchlist access)."""
    account = new_user(**user)
    RoomMember.objects.create(room=room, user=account, role=role)
    return account


@pytest.fixture
def moderator(room: Room) -> Any:
    return add_member(room, RoomRole.MODERATOR, display_name="Meera Iyer")


@pytest.fixture
def member(room: Room) -> Any:
    return add_member(room, RoomRole.MEMBER, display_name="Arjun Rao")


@pytest.fixture
def outsider(db: Any) -> Any:
    return new_user(display_name="Outsider Singh")


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def capture(
    django_capture_on_commit_callbacks: Any,
) -> Callable[[list[str], Callable[[], T]], tuple[T, dict[str, list[Any]]]]:
    """`capture(groups, action)`: run `action` as if its transaction committed; return its
    result and the events each group received on the real (Redis) channel layer."""

    def run(groups: list[str], action: Callable[[], T]) -> tuple[T, dict[str, list[Any]]]:
        def committed() -> T:
            with django_capture_on_commit_callbacks(execute=True):
                return action()

        return published(groups, committed)

    return run


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]
