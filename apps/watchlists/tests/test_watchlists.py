"""Creating, listing, renaming and deleting watchlists; the snapshot shape; query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.watchlists import selectors, services
from apps.watchlists.models import MAX_WATCHLISTS_PER_OWNER, Watchlist
from tests.factories import WatchlistFactory, WatchlistMemberFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_creating_a_watchlist_returns_it_empty_and_owned(auth_client: Any, user: Any) -> None:
    response = auth_client.post("/api/v1/watchlists/", {"name": "  Banks  "})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Banks"
    assert body["owner"] == {"id": user.pk, "name": user.get_short_name()}
    assert (body["role"], body["items"], body["members"]) == ("owner", [], [])


def test_new_watchlists_go_after_the_owners_others(user: Any) -> None:
    first = services.watchlist_create(name="One", by=user)
    second = services.watchlist_create(name="Two", by=user)
    assert second.position == first.position + 1


def test_names_are_unique_per_owner_ignoring_case(auth_client: Any, user: Any) -> None:
    services.watchlist_create(name="Banks", by=user)
    response = auth_client.post("/api/v1/watchlists/", {"name": "BANKS"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["You already have a watchlist named “BANKS”."]
    }


def test_two_owners_may_use_the_same_name(user: Any, other_user: Any) -> None:
    services.watchlist_create(name="Banks", by=user)
    services.watchlist_create(name="banks", by=other_user)


@pytest.mark.parametrize(("name", "message"), [
    ("", "This field may not be blank."),
    ("x" * 81, "Ensure this field has no more than 80 characters."),
])
def test_bad_names_are_400_with_a_field_message(auth_client: Any, name: str, message: str) -> None:
    response = auth_client.post("/api/v1/watchlists/", {"name": name})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": [message]}


def test_an_owner_can_have_at_most_20_watchlists(auth_client: Any, user: Any) -> None:
    for n in range(MAX_WATCHLISTS_PER_OWNER):
        services.watchlist_create(name=f"List {n}", by=user)
    response = auth_client.post("/api/v1/watchlists/", {"name": "One too many"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["name"] == [
        "You can have at most 20 watchlists. Delete one to create another."
    ]


def test_lists_shared_with_you_do_not_count_towards_your_limit(user: Any) -> None:
    for _ in range(MAX_WATCHLISTS_PER_OWNER):
        WatchlistMemberFactory(user=user)
    services.watchlist_create(name="Mine", by=user)


def test_renaming_to_another_of_your_names_is_refused(user: Any) -> None:
    services.watchlist_create(name="Banks", by=user)
    it = services.watchlist_create(name="IT", by=user)
    with pytest.raises(ValidationError) as excinfo:
        services.watchlist_rename(watchlist_id=it.pk, name="banks", by=user)
    assert excinfo.value.message_dict == {"name": ["You already have a watchlist named “banks”."]}


def test_renaming_changes_only_the_case_is_allowed(user: Any) -> None:
    banks = services.watchlist_create(name="banks", by=user)
    assert services.watchlist_rename(watchlist_id=banks.pk, name="Banks", by=user).name == "Banks"


def test_deleting_a_watchlist_deletes_its_items_and_members(
    owner: Any, viewer: Any, watchlist: Watchlist
) -> None:
    assert client_for(owner).delete(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 204
    assert not Watchlist.objects.filter(pk=watchlist.pk).exists()


def test_the_list_has_your_lists_in_order_then_shared_ones_with_roles(user: Any) -> None:
    second: Any = WatchlistFactory(owner=user, name="B", position=2)
    first: Any = WatchlistFactory(owner=user, name="A", position=1)
    shared: Any = WatchlistMemberFactory(user=user, role="editor").watchlist
    WatchlistMemberFactory(user=user, status="invited")  # not accepted: not listed
    WatchlistFactory()  # someone else's
    body = client_for(user).get("/api/v1/watchlists/").json()
    assert [(w["id"], w["role"]) for w in body["results"]] == [
        (first.pk, "owner"), (second.pk, "owner"), (shared.pk, "editor")
    ]


def test_an_owned_list_with_many_members_is_listed_once(watchlist: Watchlist, owner: Any) -> None:
    for _ in range(3):
        WatchlistMemberFactory(watchlist=watchlist)
    body = client_for(owner).get("/api/v1/watchlists/").json()
    assert [(w["id"], w["item_count"]) for w in body["results"]] == [(watchlist.pk, 3)]


def test_listing_takes_a_bounded_number_of_queries(
    user: Any, instruments: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        watchlist: Any = WatchlistFactory(owner=user)
        watchlist.items.create(instrument=instruments["NSE:TCS"], position=0)
        WatchlistMemberFactory(user=user)
        WatchlistMemberFactory(watchlist=watchlist, status="accepted" if n % 2 else "invited")
    client = client_for(user)
    with django_assert_max_num_queries(3):  # count, page (+ savepoints none)
        body = client.get("/api/v1/watchlists/").json()
    assert body["count"] == 20


def test_snapshot_is_the_documented_watchlist_object(
    owner: Any, editor: Any, watchlist: Watchlist, django_assert_max_num_queries: Any
) -> None:
    found = selectors.watchlist_get_for_user(user=editor, watchlist_id=watchlist.pk)
    assert found is not None
    loaded, role = found
    with django_assert_max_num_queries(2):  # owner comes with the watchlist
        snapshot = selectors.watchlist_snapshot(watchlist=loaded, role=role)
    assert snapshot == {
        "id": watchlist.pk,
        "name": "Long term",
        "owner": {"id": owner.pk, "name": owner.get_short_name()},
        "role": "editor",
        "items": [
            {"id": item.pk, "symbol": item.instrument.symbol, "exchange": "NSE",
             "name": item.instrument.name, "note": "", "position": n}
            for n, item in enumerate(watchlist.items.order_by("position"))
        ],
        "members": [
            {"user": {"id": editor.pk, "name": editor.get_short_name()},
             "role": "editor", "status": "accepted"}
        ],
        "updated_at": snapshot["updated_at"],
    }
    assert snapshot["updated_at"].endswith("+05:30")
    assert client_for(editor).get(f"/api/v1/watchlists/{watchlist.pk}/").json() == snapshot


def test_snapshot_queries_do_not_grow_with_the_list(
    watchlist: Watchlist, instruments: Any, django_assert_max_num_queries: Any
) -> None:
    for symbol in ("NSE:HDFCBANK", "BSE:SENSEX"):
        watchlist.items.create(instrument=instruments[symbol], position=9)
    for _ in range(10):
        WatchlistMemberFactory(watchlist=watchlist)
    loaded, role = selectors.watchlist_get_for_user(user=watchlist.owner, watchlist_id=watchlist.pk)  # type: ignore[misc]
    with django_assert_max_num_queries(2):
        snapshot = selectors.watchlist_snapshot(watchlist=loaded, role=role)
    assert (len(snapshot["items"]), len(snapshot["members"])) == (5, 10)


def test_get_for_user_is_one_query_and_none_without_access(
    watchlist: Watchlist, viewer: Any, outsider: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        assert selectors.watchlist_get_for_user(user=viewer, watchlist_id=watchlist.pk) == (
            watchlist, "viewer"
        )
    assert selectors.watchlist_get_for_user(user=outsider, watchlist_id=watchlist.pk) is None
    assert selectors.watchlist_get_for_user(user=viewer, watchlist_id=10**9) is None


def test_snapshot_for_user_sets_each_receivers_role(
    watchlist: Watchlist, owner: Any, viewer: Any, outsider: Any
) -> None:
    snapshot = selectors.watchlist_snapshot(watchlist=watchlist, role=None)
    for_user = selectors.watchlist_snapshot_for_user
    assert for_user(snapshot=snapshot, user_id=owner.pk)["role"] == "owner"  # type: ignore[index]
    assert for_user(snapshot=snapshot, user_id=viewer.pk)["role"] == "viewer"  # type: ignore[index]
    assert for_user(snapshot=snapshot, user_id=outsider.pk) is None
