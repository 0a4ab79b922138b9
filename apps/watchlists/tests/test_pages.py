"""The dashboard page: sign-in required, the user's lists rendered in a few queries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.watchlists import services
from apps.watchlists.models import Watchlist, WatchlistMember
from tests.factories import UserFactory, WatchlistFactory, WatchlistMemberFactory

pytestmark = pytest.mark.django_db


def _data(response: Any) -> dict[str, Any]:
    content = response.content.decode()
    start = content.index('<script id="dashboard-data" type="application/json">')
    start = content.index(">", start) + 1
    return json.loads(content[start:content.index("</script>", start)])


def test_dashboard_requires_login(client: Any) -> None:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_dashboard_renders_own_and_shared_lists(client: Any, user: Any, instruments: Any) -> None:
    mine: Watchlist = WatchlistFactory(owner=user, name="Long term")  # type: ignore[assignment]
    services.watchlist_item_add(watchlist_id=mine.pk, symbol="TCS", note="core", by=user)
    services.watchlist_item_add(watchlist_id=mine.pk, symbol="BSE:SENSEX", by=user)
    shared: WatchlistMember = WatchlistMemberFactory(user=user, role="viewer")  # type: ignore[assignment]
    pending: WatchlistMember = WatchlistMemberFactory(  # type: ignore[assignment]
        user=user, role="editor", status="invited"
    )
    WatchlistFactory(name="Somebody else's")  # not visible
    client.force_login(user)

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Long term" in html
    assert shared.watchlist.name in html
    assert "Somebody else" not in html
    data = _data(response)
    assert data["me"]["id"] == user.pk
    by_id = {w["id"]: w for w in data["watchlists"]}
    assert list(by_id) == [mine.pk, shared.watchlist_id]
    assert by_id[mine.pk]["role"] == "owner"
    assert [(i["exchange"], i["symbol"], i["note"]) for i in by_id[mine.pk]["items"]] == [
        ("NSE", "TCS", "core"), ("BSE", "SENSEX", ""),
    ]
    assert by_id[shared.watchlist_id]["role"] == "viewer"
    assert [i["id"] for i in data["invitations"]] == [pending.pk]
    assert data["strings"]["changedBy"] == "Changed by {name}"
    assert data["urls"]["watchlist"] == "/api/v1/watchlists/{id}/"
    assert data["urls"]["candles"] == "/api/v1/instruments/{symbol}/candles/"
    # The nav links to the dashboard.
    assert f'href="{reverse("dashboard")}"' in html


def test_dashboard_snapshot_matches_the_api(client: Any, user: Any, watchlist: Any) -> None:
    client.force_login(user)
    page = _data(client.get(reverse("dashboard")))["watchlists"][0]
    api = client.get(reverse("api-watchlist", args=[watchlist.pk])).json()
    assert page == api


def test_dashboard_queries_do_not_grow_with_lists(client: Any, user: Any, instruments: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("dashboard")).status_code == 200
        return len(queries)

    client.force_login(user)
    first: Watchlist = WatchlistFactory(owner=user)  # type: ignore[assignment]
    services.watchlist_item_add(watchlist_id=first.pk, symbol="TCS", by=user)
    WatchlistMemberFactory(watchlist=first, user=UserFactory())
    WatchlistMemberFactory(user=user)
    WatchlistMemberFactory(user=user, status="invited")
    count()  # the first request also loads the session and warms caches
    baseline = count()
    for n in range(4):
        extra: Watchlist = WatchlistFactory(owner=user)  # type: ignore[assignment]
        for symbol in ("INFY", "RELIANCE", "HDFCBANK"):
            services.watchlist_item_add(watchlist_id=extra.pk, symbol=symbol, by=user)
        WatchlistMemberFactory(watchlist=extra, user=UserFactory())
        WatchlistMemberFactory(user=user, role="editor" if n % 2 else "viewer")
        WatchlistMemberFactory(user=user, status="invited")
    assert count() == baseline


def test_staff_see_the_system_link(client: Any, user: Any) -> None:
    client.force_login(user)
    assert f'href="{reverse("system")}"' not in client.get(reverse("dashboard")).content.decode()
    user.is_staff = True
    user.save()
    assert f'href="{reverse("system")}"' in client.get(reverse("dashboard")).content.decode()
