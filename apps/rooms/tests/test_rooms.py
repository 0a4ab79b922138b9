"""Rooms: create, update, delete, the room list with unread counts, discovery, joining, and
the shared watchlist room members see and edit."""

from __future__ import annotations

from typing import Any

import pytest

from apps.realtime.events import room_group, user_group, watchlist_group
from apps.rooms import selectors, services
from apps.rooms.models import MAX_ROOMS_OWNED, Activity, Message, Room, RoomMember, Visibility
from apps.watchlists import services as watchlist_services
from apps.watchlists.models import Watchlist, WatchlistMember
from tests.factories import WatchlistMemberFactory

from .conftest import add_member, client_for, new_room, new_user, new_watchlist, types

pytestmark = pytest.mark.django_db


# --- create -------------------------------------------------------------------------------------


def test_creating_a_room_makes_the_caller_owner_and_creates_a_shared_watchlist(
    owner: Any, instruments: Any
) -> None:
    response = client_for(owner).post(
        "/api/v1/rooms/", {"name": "  Banking   bulls ", "description": "PSU and private banks"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Banking bulls"
    assert body["role"] == "owner"
    assert body["visibility"] == "private"
    assert body["member_count"] == 1
    assert body["unread_count"] == 0
    watchlist = Watchlist.objects.get(pk=body["watchlist"])
    assert watchlist.owner == owner
    assert watchlist.name == "Banking bulls"
    room = Room.objects.get(pk=body["id"])
    assert room.owner == owner
    assert list(room.members.values_list("user_id", "role")) == [(owner.pk, "owner")]


def test_a_new_rooms_watchlist_gets_a_free_name_when_the_owner_has_one_like_it(
    owner: Any, instruments: Any
) -> None:
    new_watchlist(owner=owner, name="banking bulls")
    room = services.room_create(by=owner, name="Banking Bulls")
    assert room.watchlist is not None
    assert room.watchlist.name == "Banking Bulls (2)"


def test_a_room_can_share_one_of_the_owners_watchlists(owner: Any, instruments: Any) -> None:
    mine = new_watchlist(owner=owner)
    response = client_for(owner).post("/api/v1/rooms/", {"name": "Mine", "watchlist": mine.pk})
    assert response.status_code == 201
    assert response.json()["watchlist"] == mine.pk


def test_a_room_cannot_share_someone_elses_watchlist(owner: Any, other_user: Any) -> None:
    theirs = new_watchlist(owner=other_user)
    response = client_for(owner).post("/api/v1/rooms/", {"name": "Theirs", "watchlist": theirs.pk})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["watchlist"] == ["Link one of your own watchlists."]


def test_a_room_needs_a_name(owner: Any) -> None:
    response = client_for(owner).post("/api/v1/rooms/", {"name": "   "})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_nobody_owns_more_than_the_cap_of_rooms(owner: Any) -> None:
    for _ in range(MAX_ROOMS_OWNED):
        new_room(owner=owner)
    response = client_for(owner).post("/api/v1/rooms/", {"name": "One too many"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["name"] == [
        f"{owner.get_short_name()} already owns {MAX_ROOMS_OWNED} rooms, the most allowed."
    ]


# --- update and delete --------------------------------------------------------------------------


def test_a_moderator_renames_the_room_and_members_hear_of_it(
    room: Room, moderator: Any, capture: Any
) -> None:
    def rename() -> Any:
        return client_for(moderator).patch(
            f"/api/v1/rooms/{room.pk}/", {"name": "Swing & positional"}
        )

    response, events = capture([room_group(room.pk)], rename)
    assert response.status_code == 200
    assert response.json()["name"] == "Swing & positional"
    assert types(events[room_group(room.pk)]) == ["room.updated"]
    assert events[room_group(room.pk)][0]["room"]["name"] == "Swing & positional"


def test_only_the_owner_changes_visibility(room: Room, moderator: Any, owner: Any) -> None:
    url = f"/api/v1/rooms/{room.pk}/"
    assert client_for(moderator).patch(url, {"visibility": "discoverable"}).status_code == 403
    response = client_for(owner).patch(url, {"visibility": "discoverable"})
    assert response.status_code == 200
    assert response.json()["visibility"] == "discoverable"


def test_deleting_a_room_tells_every_member_and_keeps_the_watchlist(
    room: Room, owner: Any, member: Any, capture: Any
) -> None:
    services.watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[member.pk], by=owner)
    watchlist_id = room.watchlist_id
    assert watchlist_id is not None

    response, events = capture(
        [user_group(member.pk), user_group(owner.pk)],
        lambda: client_for(owner).delete(f"/api/v1/rooms/{room.pk}/"),
    )
    assert response.status_code == 204
    assert not Room.objects.filter(pk=room.pk).exists()
    assert {"type": "room.revoked", "id": room.pk} in events[user_group(member.pk)]
    assert {"type": "room.revoked", "id": room.pk} in events[user_group(owner.pk)]
    assert Watchlist.objects.filter(pk=watchlist_id, owner=owner).exists()
    assert not WatchlistMember.objects.filter(watchlist_id=watchlist_id, user=member).exists()


# --- list, detail, discover ---------------------------------------------------------------------


def test_my_rooms_show_unread_counts_and_the_last_message_newest_first(
    owner: Any, instruments: Any, django_assert_max_num_queries: Any
) -> None:
    quiet = services.room_create(by=owner, name="Quiet")
    busy = services.room_create(by=owner, name="Busy")
    friend = add_member(busy, display_name="Kavya")
    services.room_mark_read(
        member=RoomMember.objects.get(room=busy, user=owner),
        message_id=services.message_create(room=busy, author=owner, body="mine").pk,
    )
    for n in range(3):
        services.message_create(room=busy, author=friend, body=f"news {n}")
    new_room()  # someone else's room: not listed

    client = client_for(owner)
    with django_assert_max_num_queries(4):  # count, page, previews (+ auth none: forced)
        response = client.get("/api/v1/rooms/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["Busy", "Quiet"]
    assert rows[0]["unread_count"] == 3
    assert rows[0]["last_message"]["body"] == "news 2"
    assert rows[0]["last_message"]["author"]["name"] == "Kavya"
    assert rows[0]["member_count"] == 2
    assert rows[1]["unread_count"] == 0
    assert rows[1]["last_message"] is None
    assert quiet.pk == rows[1]["id"]


def test_a_long_last_message_is_shortened_in_the_list(room: Room, owner: Any) -> None:
    services.message_create(room=room, author=owner, body="x" * 500)
    row = client_for(owner).get("/api/v1/rooms/").json()["results"][0]
    assert len(row["last_message"]["body"]) == selectors.PREVIEW_LENGTH
    assert row["last_message"]["body"].endswith("…")


def test_discover_lists_discoverable_rooms_i_am_not_in(owner: Any, other_user: Any) -> None:
    open_room = new_room(owner=other_user, name="Options flow", visibility=Visibility.DISCOVERABLE)
    new_room(owner=other_user, name="Secret options", visibility=Visibility.PRIVATE)
    new_room(owner=owner, name="My options", visibility=Visibility.DISCOVERABLE)
    new_room(owner=other_user, name="Dividends", visibility=Visibility.DISCOVERABLE)

    response = client_for(owner).get("/api/v1/rooms/discover/", {"q": "OPTIONS"})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [open_room.pk]
    assert response.json()["results"][0]["member_count"] == 1
    assert set(response.json()["results"][0]) == {
        "id",
        "name",
        "description",
        "owner",
        "member_count",
        "created_at",
    }


def test_a_discoverable_room_is_readable_only_after_joining(
    other_user: Any, owner: Any, capture: Any
) -> None:
    room = new_room(owner=other_user, visibility=Visibility.DISCOVERABLE)
    client = client_for(owner)
    assert client.get(f"/api/v1/rooms/{room.pk}/").status_code == 404

    response, events = capture(
        [room_group(room.pk)], lambda: client.post(f"/api/v1/rooms/{room.pk}/join/")
    )
    assert response.status_code == 200
    assert response.json()["role"] == "member"
    assert client.get(f"/api/v1/rooms/{room.pk}/").status_code == 200
    assert types(events[room_group(room.pk)]) == ["room.activity", "room.member"]
    assert events[room_group(room.pk)][1] == {
        "type": "room.member",
        "room": room.pk,
        "action": "joined",
        "user": {"id": owner.pk, "name": owner.get_short_name()},
        "role": "member",
    }
    # Joining twice changes nothing.
    assert client.post(f"/api/v1/rooms/{room.pk}/join/").status_code == 200
    assert RoomMember.objects.filter(room=room, user=owner).count() == 1


def test_a_newcomer_starts_with_nothing_unread(other_user: Any, owner: Any) -> None:
    room = new_room(owner=other_user, visibility=Visibility.DISCOVERABLE)
    for n in range(3):
        Message.objects.create(room=room, author=other_user, body=f"old {n}")
    client_for(owner).post(f"/api/v1/rooms/{room.pk}/join/")
    assert client_for(owner).get(f"/api/v1/rooms/{room.pk}/").json()["unread_count"] == 0


def test_a_private_room_cannot_be_joined_without_an_invitation(owner: Any, other_user: Any) -> None:
    room = new_room(owner=other_user, visibility=Visibility.PRIVATE)
    missing = client_for(owner).post(f"/api/v1/rooms/{room.pk + 1000}/join/")
    hidden = client_for(owner).post(f"/api/v1/rooms/{room.pk}/join/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert not RoomMember.objects.filter(room=room, user=owner).exists()


# --- the shared watchlist -----------------------------------------------------------------------


def test_members_see_and_edit_the_rooms_watchlist_through_the_watchlist_api(
    other_user: Any, owner: Any, instruments: Any
) -> None:
    room = services.room_create(by=other_user, name="Open", visibility=Visibility.DISCOVERABLE)
    url = f"/api/v1/watchlists/{room.watchlist_id}/"
    client = client_for(owner)
    assert client.get(url).status_code == 404

    client.post(f"/api/v1/rooms/{room.pk}/join/")
    assert client.get(url).status_code == 200
    assert client.get(url).json()["role"] == "editor"
    assert client.post(f"{url}items/", {"symbol": "TCS"}).status_code == 201

    client.post(f"/api/v1/rooms/{room.pk}/leave/")
    assert client.get(url).status_code == 404


def test_a_joining_member_hears_of_the_watchlist_and_its_subscribers_of_the_member(
    other_user: Any, owner: Any, instruments: Any, capture: Any
) -> None:
    room = services.room_create(by=other_user, name="Open", visibility=Visibility.DISCOVERABLE)
    assert room.watchlist_id is not None
    groups = [watchlist_group(room.watchlist_id), user_group(owner.pk)]
    _, events = capture(groups, lambda: services.room_join(room_id=room.pk, by=owner))
    [update] = events[watchlist_group(room.watchlist_id)]
    assert update["change"]["action"] == "members_changed"
    assert update["change"]["status"] == "accepted"
    assert update["change"]["user"]["id"] == owner.pk
    [mine] = [e for e in events[user_group(owner.pk)] if e["type"] == "watchlist.updated"]
    assert mine["watchlist"]["role"] == "editor"


def test_a_manual_share_survives_leaving_the_room(
    other_user: Any, owner: Any, instruments: Any
) -> None:
    room = services.room_create(by=other_user, name="Open", visibility=Visibility.DISCOVERABLE)
    WatchlistMemberFactory(watchlist=room.watchlist, user=owner, role="editor")
    services.room_join(room_id=room.pk, by=owner)
    services.room_leave(room_id=room.pk, by=owner)
    assert client_for(owner).get(f"/api/v1/watchlists/{room.watchlist_id}/").status_code == 200


def test_a_viewer_share_becomes_editor_access_while_in_the_room(
    other_user: Any, owner: Any, instruments: Any
) -> None:
    room = services.room_create(by=other_user, name="Open", visibility=Visibility.DISCOVERABLE)
    WatchlistMemberFactory(watchlist=room.watchlist, user=owner, role="viewer")
    services.room_join(room_id=room.pk, by=owner)
    row = WatchlistMember.objects.get(watchlist=room.watchlist, user=owner)
    assert (row.role, row.status, row.invited_by_id) == ("editor", "accepted", None)


def test_relinking_the_watchlist_moves_the_members_access(
    room: Room, owner: Any, member: Any, instruments: Any
) -> None:
    services.watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[member.pk], by=owner)
    old_id = room.watchlist_id
    new = new_watchlist(owner=owner)
    response = client_for(owner).patch(f"/api/v1/rooms/{room.pk}/", {"watchlist": new.pk})
    assert response.status_code == 200
    assert response.json()["watchlist"] == new.pk
    member_client = client_for(member)
    assert member_client.get(f"/api/v1/watchlists/{old_id}/").status_code == 404
    assert member_client.get(f"/api/v1/watchlists/{new.pk}/").status_code == 200


def test_access_stays_while_another_room_still_shares_the_watchlist(
    room: Room, owner: Any, member: Any, instruments: Any
) -> None:
    second = services.room_create(by=owner, name="Second", watchlist_id=room.watchlist_id)
    RoomMember.objects.create(room=second, user=member)
    services.watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[member.pk], by=owner)
    services.room_member_remove(room_id=room.pk, user_id=member.pk, by=owner)
    assert client_for(member).get(f"/api/v1/watchlists/{room.watchlist_id}/").status_code == 200


def test_watchlist_changes_are_logged_in_the_rooms_sharing_it(
    room: Room, owner: Any, capture: Any
) -> None:
    assert room.watchlist_id is not None
    _, events = capture(
        [room_group(room.pk)],
        lambda: watchlist_services.watchlist_item_add(
            watchlist_id=room.watchlist_id, symbol="RELIANCE", by=owner
        ),
    )
    activity = Activity.objects.filter(room=room, verb="watchlist_changed").get()
    assert activity.actor == owner
    assert activity.data["change"]["action"] == "item_added"
    assert activity.data["change"]["symbol"] == "RELIANCE"
    assert activity.data["watchlist"] == {"id": room.watchlist_id, "name": "Swing traders"}
    assert types(events[room_group(room.pk)]) == ["room.activity"]
    assert events[room_group(room.pk)][0]["activity"]["verb"] == "watchlist_changed"


def test_a_watchlist_no_room_shares_logs_nothing(owner: Any, instruments: Any) -> None:
    mine = new_watchlist(owner=owner)
    watchlist_services.watchlist_item_add(watchlist_id=mine.pk, symbol="TCS", by=owner)
    assert not Activity.objects.filter(verb="watchlist_changed").exists()


def test_an_id_too_large_for_the_database_is_404(owner: Any) -> None:
    assert client_for(owner).get(f"/api/v1/rooms/{10**30}/").status_code == 404
    assert client_for(owner).post(f"/api/v1/rooms/{10**30}/join/").status_code == 404


def test_other_users_rooms_stay_out_of_my_list(owner: Any) -> None:
    new_room(owner=new_user())
    assert client_for(owner).get("/api/v1/rooms/").json()["results"] == []
