"""Who may do what: the owner / editor / viewer / outsider matrix over every endpoint.

Outsiders (and invitees who have not accepted) get 404 with the body of a missing id;
members whose role does not allow a change get 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.watchlists.models import Watchlist
from tests.factories import UserFactory, WatchlistMemberFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db

RANK = {"outsider": -1, "viewer": 0, "editor": 1, "owner": 2}

# (method, path under /api/v1/watchlists/{id}, body, least role that succeeds, success status)
ENDPOINTS = [
    ("get", "", None, "viewer", 200),
    ("patch", "", {"name": "Renamed"}, "owner", 200),
    ("delete", "", None, "owner", 204),
    ("post", "items/", {"symbol": "HDFCBANK", "note": "bank"}, "editor", 201),
    ("patch", "items/{item}/", {"note": "results on Friday"}, "editor", 200),
    ("delete", "items/{item}/", None, "editor", 204),
    ("put", "order/", {"item_ids": "{reversed}"}, "editor", 200),
    ("get", "members/", None, "viewer", 200),
    ("post", "members/", {"email": "{spare}", "role": "viewer"}, "owner", 201),
    ("patch", "members/{member}/", {"role": "editor"}, "owner", 200),
    ("delete", "members/{member}/", None, "owner", 204),
]


@pytest.fixture
def actors(owner: Any, editor: Any, viewer: Any, outsider: Any) -> dict[str, Any]:
    return {"owner": owner, "editor": editor, "viewer": viewer, "outsider": outsider}


def _request(actor: Any, watchlist: Watchlist, method: str, path: str, body: Any,
             watchlist_id: int | None = None) -> Any:
    items = list(watchlist.items.order_by("position").values_list("id", flat=True))
    member: Any = WatchlistMemberFactory(watchlist=watchlist, status="invited")
    values = {"item": items[0], "member": member.pk}
    url = f"/api/v1/watchlists/{watchlist_id or watchlist.pk}/{path.format(**values)}"
    if body is not None:
        body = dict(body)
        for key, value in body.items():
            if value == "{reversed}":
                body[key] = items[::-1]
            elif value == "{spare}":
                body[key] = UserFactory().email
    return getattr(client_for(actor), method)(url, body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "least", "ok"), ENDPOINTS)
@pytest.mark.parametrize("who", ["owner", "editor", "viewer", "outsider"])
def test_each_endpoint_allows_exactly_the_roles_it_should(
    actors: dict[str, Any], watchlist: Watchlist, who: str,
    method: str, path: str, body: Any, least: str, ok: int,
) -> None:
    response = _request(actors[who], watchlist, method, path, body)
    if who == "outsider":
        expected = 404
    elif RANK[who] < RANK[least]:
        expected = 403
    else:
        expected = ok
    assert response.status_code == expected, response.content
    if expected in (403, 404):
        assert response.json()["error"]["code"] in ("permission_denied", "not_found")


@pytest.mark.parametrize(("method", "path", "body", "least", "ok"), ENDPOINTS)
def test_outsider_gets_the_same_404_as_for_a_missing_watchlist(
    outsider: Any, owner: Any, watchlist: Watchlist,
    method: str, path: str, body: Any, least: str, ok: int,
) -> None:
    hidden = _request(outsider, watchlist, method, path, body)
    missing = _request(owner, watchlist, method, path, body, watchlist_id=watchlist.pk + 10_000)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }


def test_pending_invitee_cannot_see_the_watchlist_yet(watchlist: Watchlist) -> None:
    invitee = WatchlistMemberFactory(watchlist=watchlist, status="invited").user
    assert client_for(invitee).get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 404


def test_declined_user_cannot_see_the_watchlist(watchlist: Watchlist) -> None:
    declined = WatchlistMemberFactory(watchlist=watchlist, status="declined").user
    assert client_for(declined).get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 404


def test_anonymous_callers_get_401(api_client: Any, watchlist: Watchlist) -> None:
    assert api_client.get("/api/v1/watchlists/").status_code == 401
    assert api_client.get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 401


def test_item_of_another_watchlist_is_404_even_for_its_owner(
    owner: Any, watchlist: Watchlist, instruments: Any
) -> None:
    other: Any = WatchlistMemberFactory(role="editor", user=owner).watchlist
    foreign_item = other.items.create(instrument=instruments["NSE:TCS"])
    url = f"/api/v1/watchlists/{watchlist.pk}/items/{foreign_item.pk}/"
    assert client_for(owner).delete(url).status_code == 404


def test_an_id_too_large_for_the_database_is_404_not_500(auth_client: Any) -> None:
    assert auth_client.get(f"/api/v1/watchlists/{10**30}/").status_code == 404
    assert auth_client.delete(f"/api/v1/watchlists/{10**30}/").status_code == 404
