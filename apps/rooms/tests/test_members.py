"""Members and roles: leaving, removing, promoting, transferring ownership, the member cap."""

from __future__ import annotations

from typing import Any

import pytest

from apps.realtime.events import room_group, user_group
from apps.rooms import services
from apps.rooms.models import Room, RoomMember, Visibility

from .conftest import add_member, client_for, new_room, new_user, types

pytestmark = pytest.mark.django_db


def _role(room: Room, user: Any) -> str | None:
    return RoomMember.objects.filter(room=room, user=user).values_list("role", flat=True).first()


def test_the_member_list_shows_the_owner_then_moderators_then_members(
    room: Room, owner: Any, moderator: Any, member: Any
) -> None:
    response = client_for(member).get(f"/api/v1/rooms/{room.pk}/members/")
    assert response.status_code == 200
    assert [(m["user"]["id"], m["role"]) for m in response.json()] == [
        (owner.pk, "owner"),
        (moderator.pk, "moderator"),
        (member.pk, "member"),
    ]
    assert set(response.json()[0]["user"]) == {"id", "name"}  # never the e-mail address


def test_a_member_leaves_and_stops_hearing_from_the_room(
    room: Room, member: Any, capture: Any
) -> None:
    groups = [room_group(room.pk), user_group(member.pk)]
    response, events = capture(
        groups, lambda: client_for(member).post(f"/api/v1/rooms/{room.pk}/leave/")
    )
    assert response.status_code == 204
    assert _role(room, member) is None
    assert events[user_group(member.pk)] == [{"type": "room.revoked", "id": room.pk}]
    assert types(events[room_group(room.pk)]) == ["room.activity", "room.member"]
    assert events[room_group(room.pk)][1]["action"] == "left"
    assert client_for(member).get(f"/api/v1/rooms/{room.pk}/").status_code == 404


def test_the_owner_must_transfer_ownership_before_leaving(room: Room, owner: Any) -> None:
    response = client_for(owner).post(f"/api/v1/rooms/{room.pk}/leave/")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["room"] == [
        "You own this room: transfer ownership to another member before leaving, "
        "or delete the room."
    ]
    assert _role(room, owner) == "owner"


def test_a_moderator_removes_a_member(
    room: Room, moderator: Any, member: Any, capture: Any
) -> None:
    response, events = capture(
        [room_group(room.pk), user_group(member.pk)],
        lambda: client_for(moderator).delete(f"/api/v1/rooms/{room.pk}/members/{member.pk}/"),
    )
    assert response.status_code == 204
    assert _role(room, member) is None
    assert events[user_group(member.pk)] == [{"type": "room.revoked", "id": room.pk}]
    member_event = events[room_group(room.pk)][-1]
    assert member_event["action"] == "removed"
    assert member_event["user"]["id"] == member.pk


def test_a_moderator_cannot_remove_another_moderator_or_the_owner(
    room: Room, owner: Any, moderator: Any
) -> None:
    other_moderator = add_member(room, "moderator")
    client = client_for(moderator)
    assert (
        client.delete(f"/api/v1/rooms/{room.pk}/members/{other_moderator.pk}/").status_code == 403
    )
    assert client.delete(f"/api/v1/rooms/{room.pk}/members/{owner.pk}/").status_code == 403
    assert _role(room, other_moderator) == "moderator"
    assert _role(room, owner) == "owner"


def test_the_owner_removes_a_moderator(room: Room, owner: Any, moderator: Any) -> None:
    response = client_for(owner).delete(f"/api/v1/rooms/{room.pk}/members/{moderator.pk}/")
    assert response.status_code == 204
    assert _role(room, moderator) is None


def test_removing_someone_who_is_not_a_member_is_404(room: Room, owner: Any) -> None:
    stranger = new_user()
    assert (
        client_for(owner).delete(f"/api/v1/rooms/{room.pk}/members/{stranger.pk}/").status_code
        == 404
    )


def test_the_owner_promotes_and_demotes_moderators(
    room: Room, owner: Any, member: Any, capture: Any
) -> None:
    url = f"/api/v1/rooms/{room.pk}/members/{member.pk}/"
    response, events = capture(
        [room_group(room.pk)], lambda: client_for(owner).patch(url, {"role": "moderator"})
    )
    assert response.status_code == 200
    assert response.json()["role"] == "moderator"
    assert _role(room, member) == "moderator"
    assert events[room_group(room.pk)][-1] == {
        "type": "room.member",
        "room": room.pk,
        "action": "role_changed",
        "user": {"id": member.pk, "name": member.get_short_name()},
        "role": "moderator",
    }
    assert client_for(owner).patch(url, {"role": "member"}).json()["role"] == "member"


def test_a_moderator_cannot_change_roles(room: Room, moderator: Any, member: Any) -> None:
    url = f"/api/v1/rooms/{room.pk}/members/{member.pk}/"
    assert client_for(moderator).patch(url, {"role": "moderator"}).status_code == 403


def test_owner_is_not_a_role_one_can_give(room: Room, owner: Any, member: Any) -> None:
    url = f"/api/v1/rooms/{room.pk}/members/{member.pk}/"
    response = client_for(owner).patch(url, {"role": "owner"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["role"] == ["Choose moderator or member."]


def test_ownership_transfer_moves_the_owner_and_both_roles_together(
    room: Room, owner: Any, member: Any, capture: Any
) -> None:
    response, events = capture(
        [room_group(room.pk)],
        lambda: client_for(owner).post(f"/api/v1/rooms/{room.pk}/transfer/", {"user": member.pk}),
    )
    assert response.status_code == 200
    assert response.json()["role"] == "moderator"  # the caller's new role
    assert response.json()["owner"]["id"] == member.pk
    room.refresh_from_db()
    assert room.owner == member
    assert _role(room, member) == "owner"
    assert _role(room, owner) == "moderator"
    published = events[room_group(room.pk)]
    assert [(e["type"], e.get("action")) for e in published] == [
        ("room.activity", None),
        ("room.member", "role_changed"),
        ("room.member", "owner_changed"),
        ("room.updated", None),
    ]
    # The old owner can now leave; the new one cannot.
    assert client_for(owner).post(f"/api/v1/rooms/{room.pk}/leave/").status_code == 204
    assert client_for(member).post(f"/api/v1/rooms/{room.pk}/leave/").status_code == 400


def test_only_the_owner_transfers_and_only_to_a_member(
    room: Room, owner: Any, moderator: Any, member: Any
) -> None:
    url = f"/api/v1/rooms/{room.pk}/transfer/"
    assert client_for(moderator).post(url, {"user": member.pk}).status_code == 403
    assert client_for(owner).post(url, {"user": new_user().pk}).status_code == 404
    assert client_for(owner).post(url, {"user": owner.pk}).status_code == 400


def test_ownership_cannot_go_to_someone_at_the_room_cap(
    room: Room, owner: Any, member: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("apps.rooms.services.rooms.MAX_ROOMS_OWNED", 1)
    new_room(owner=member)
    response = client_for(owner).post(f"/api/v1/rooms/{room.pk}/transfer/", {"user": member.pk})
    assert response.status_code == 400
    assert "user" in response.json()["error"]["fields"]
    assert _role(room, owner) == "owner"


def test_a_full_room_refuses_newcomers_with_a_clear_error(owner: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("apps.rooms.services.rooms.MAX_MEMBERS_PER_ROOM", 3)
    room = new_room(owner=owner, visibility=Visibility.DISCOVERABLE)
    add_member(room)
    add_member(room)
    response = client_for(new_user()).post(f"/api/v1/rooms/{room.pk}/join/")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["room"] == [
        "This room is full: it has 3 members, the most allowed."
    ]
    assert room.members.count() == 3


def test_a_removed_member_loses_the_watchlist_access_the_room_gave(
    room: Room, owner: Any, member: Any, instruments: Any
) -> None:
    services.watchlist_access_sync(watchlist_id=room.watchlist_id, user_ids=[member.pk], by=owner)
    url = f"/api/v1/watchlists/{room.watchlist_id}/"
    assert client_for(member).get(url).status_code == 200
    services.room_member_remove(room_id=room.pk, user_id=member.pk, by=owner)
    assert client_for(member).get(url).status_code == 404
