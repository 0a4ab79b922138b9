"""Who may do what: the owner / moderator / member / outsider matrix over every room endpoint.

Outsiders get 404 with the body of a missing id (even for discoverable rooms: join first);
members whose role does not allow an action get 403; anonymous callers 401.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.rooms import services
from apps.rooms.models import Room, Visibility

from .conftest import add_member, client_for, new_room, new_user

pytestmark = pytest.mark.django_db

RANK = {"outsider": -1, "member": 0, "moderator": 1, "owner": 2}

# (method, path under /api/v1/rooms/{id}/, body, least role that succeeds, success status)
ENDPOINTS = [
    ("get", "", None, "member", 200),
    ("patch", "", {"name": "Renamed", "description": "new"}, "moderator", 200),
    ("patch", "", {"visibility": "discoverable"}, "owner", 200),
    ("delete", "", None, "owner", 204),
    ("post", "join/", None, "member", 200),
    ("post", "transfer/", {"user": "{target}"}, "owner", 200),
    ("get", "members/", None, "member", 200),
    ("patch", "members/{target}/", {"role": "moderator"}, "owner", 200),
    ("delete", "members/{target}/", None, "moderator", 204),
    ("get", "invitations/", None, "moderator", 200),
    ("post", "invitations/", {"user": "{spare}"}, "moderator", 201),
    ("delete", "invitations/{invitation}/", None, "moderator", 204),
    ("get", "invite-links/", None, "moderator", 200),
    ("post", "invite-links/", {"max_uses": 5}, "moderator", 201),
    ("delete", "invite-links/{link}/", None, "moderator", 204),
    ("get", "messages/", None, "member", 200),
    ("post", "messages/", {"body": "hello"}, "member", 201),
    ("get", "messages/{message}/", None, "member", 200),
    ("delete", "messages/{message}/", None, "moderator", 204),
    ("post", "messages/{message}/reactions/", {"emoji": "👍"}, "member", 200),
    ("post", "messages/{message}/copy-alert/", None, "member", 400),  # not an alert card
    ("post", "read/", {"message_id": "{message}"}, "member", 200),
    ("get", "activity/", None, "member", 200),
]


@pytest.fixture
def actors(owner: Any, moderator: Any, member: Any, outsider: Any) -> dict[str, Any]:
    return {"owner": owner, "moderator": moderator, "member": member, "outsider": outsider}


def _request(
    actor: Any, room: Room, method: str, path: str, body: Any, room_id: int | None = None
) -> Any:
    target = add_member(room)
    message = services.message_create(room=room, author=target, body="by the target")
    invitation = services.room_invitation_create(
        room_id=room.pk, user=new_user().email, by=room.owner
    )
    link = services.room_invite_link_create(room_id=room.pk, by=room.owner)
    values = {
        "target": target.pk,
        "message": message.pk,
        "invitation": invitation.pk,
        "link": link.pk,
        "spare": new_user().email,
    }
    url = f"/api/v1/rooms/{room_id or room.pk}/{path.format(**values)}"
    if body is not None:
        body = {
            key: (
                values[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
            )
            for key, value in body.items()
        }
    return getattr(client_for(actor), method)(url, body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "least", "ok"), ENDPOINTS)
@pytest.mark.parametrize("who", ["owner", "moderator", "member", "outsider"])
def test_each_endpoint_allows_exactly_the_roles_it_should(
    actors: dict[str, Any],
    room: Room,
    who: str,
    method: str,
    path: str,
    body: Any,
    least: str,
    ok: int,
) -> None:
    response = _request(actors[who], room, method, path, body)
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
def test_outsider_gets_the_same_404_as_for_a_missing_room(
    outsider: Any,
    owner: Any,
    room: Room,
    method: str,
    path: str,
    body: Any,
    least: str,
    ok: int,
) -> None:
    hidden = _request(outsider, room, method, path, body)
    missing = _request(owner, room, method, path, body, room_id=room.pk + 10_000)
    assert hidden.status_code == missing.status_code == 404
    assert (
        hidden.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    )


def test_a_discoverable_room_is_as_hidden_as_a_private_one_until_joined(outsider: Any) -> None:
    room = new_room(visibility=Visibility.DISCOVERABLE)
    client = client_for(outsider)
    for url in ("", "messages/", "members/", "activity/"):
        assert client.get(f"/api/v1/rooms/{room.pk}/{url}").status_code == 404
    assert client.post(f"/api/v1/rooms/{room.pk}/messages/", {"body": "hi"}).status_code == 404


def test_the_rooms_list_and_activity_of_an_outsider_show_nothing_of_the_room(
    room: Room, owner: Any, outsider: Any
) -> None:
    services.message_create(room=room, author=owner, body="members only")
    client = client_for(outsider)
    assert client.get("/api/v1/rooms/").json()["results"] == []
    assert client.get("/api/v1/rooms/activity/").json()["results"] == []
    assert client.get("/api/v1/rooms/discover/").json()["results"] == []  # private


def test_only_the_author_edits_whatever_the_role(
    room: Room, owner: Any, moderator: Any, member: Any
) -> None:
    message = services.message_create(room=room, author=member, body="mine")
    url = f"/api/v1/rooms/{room.pk}/messages/{message.pk}/"
    assert client_for(owner).patch(url, {"body": "x"}).status_code == 403
    assert client_for(moderator).patch(url, {"body": "x"}).status_code == 403
    assert client_for(member).patch(url, {"body": "edited"}).status_code == 200


def test_a_member_who_left_is_an_outsider_again(room: Room, member: Any) -> None:
    client = client_for(member)
    assert client.post(f"/api/v1/rooms/{room.pk}/leave/").status_code == 204
    assert client.get(f"/api/v1/rooms/{room.pk}/messages/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/rooms/",
        "/api/v1/rooms/discover/",
        "/api/v1/rooms/activity/",
        "/api/v1/rooms/invitations/",
        "/api/v1/rooms/{room}/",
        "/api/v1/rooms/{room}/messages/",
        "/api/v1/rooms/{room}/members/",
        "/api/v1/rooms/{room}/activity/",
    ],
)
def test_anonymous_callers_get_401(api_client: Any, room: Room, url: str) -> None:
    assert api_client.get(url.format(room=room.pk)).status_code == 401


def test_anonymous_callers_cannot_post_or_join(api_client: Any, room: Room) -> None:
    assert api_client.post(f"/api/v1/rooms/{room.pk}/messages/", {"body": "x"}).status_code == 401
    assert api_client.post("/api/v1/rooms/join/whatever/").status_code == 401
    assert api_client.post("/api/v1/rooms/", {"name": "x"}).status_code == 401


def test_a_message_of_another_room_is_404_even_for_its_author(room: Room, owner: Any) -> None:
    other = new_room(owner=owner)
    message = services.message_create(room=other, author=owner, body="elsewhere")
    url = f"/api/v1/rooms/{room.pk}/messages/{message.pk}/"
    assert client_for(owner).get(url).status_code == 404
    assert client_for(owner).delete(url).status_code == 404
