from __future__ import annotations

from typing import Any, TypeVar

import pytest
from rest_framework.test import APIClient

from apps.market.models import Exchange, Instrument, InstrumentKind
from apps.watchlists import services
from apps.watchlists.models import Watchlist
from tests.factories import UserFactory, WatchlistFactory, WatchlistMemberFactory

T = TypeVar("T")


@pytest.fixture
def instruments(db: Any) -> dict[str, Instrument]:
    """The migrations seed these; created here too because a transactional test elsewhere
    may have flushed the seed before this one runs."""
    nse, _ = Exchange.objects.get_or_create(code="NSE", defaults={"name": "NSE"})
    bse, _ = Exchange.objects.get_or_create(code="BSE", defaults={"name": "BSE"})
    found = {}
    for exchange, symbol, kind in [
        (nse, "TCS", InstrumentKind.EQUITY),
        (nse, "INFY", InstrumentKind.EQUITY),
        (nse, "RELIANCE", InstrumentKind.EQUITY),
        (nse, "HDFCBANK", InstrumentKind.EQUITY),
        (bse, "SENSEX", InstrumentKind.INDEX),
    ]:
        found[f"{exchange.code}:{symbol}"], _ = Instrument.objects.get_or_create(
            exchange=exchange, symbol=symbol, defaults={"name": symbol.title(), "kind": kind}
        )
    return found


@pytest.fixture
def owner(user: Any) -> Any:
    return user


@pytest.fixture
def watchlist(owner: Any, instruments: dict[str, Instrument]) -> Watchlist:
    """Owned by `owner`, holding TCS, INFY, RELIANCE (in that order)."""
    watchlist: Watchlist = WatchlistFactory(owner=owner, name="Long term")  # type: ignore[assignment]
    for symbol in ("TCS", "INFY", "RELIANCE"):
        services.watchlist_item_add(watchlist_id=watchlist.pk, symbol=symbol, by=owner)
    watchlist.refresh_from_db()
    return watchlist


@pytest.fixture
def editor(watchlist: Watchlist) -> Any:
    return WatchlistMemberFactory(watchlist=watchlist, role="editor").user


@pytest.fixture
def viewer(watchlist: Watchlist) -> Any:
    return WatchlistMemberFactory(watchlist=watchlist, role="viewer").user


@pytest.fixture
def outsider(db: Any) -> Any:
    return UserFactory()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
