"""The room pages: sign-in required, members see them, anyone else gets the same 404 as for a
missing room, and the invite-link landing page explains every state of its link."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.rooms import services
from apps.rooms.models import (
    InvitationStatus,
    Message,
    Room,
    RoomInvitation,
    RoomMember,
    Visibility,
)
from apps.rooms.tests.conftest import new_user

pytestmark = pytest.mark.django_db


def _data(response: Any, script_id: str) -> dict[str, Any]:
    content = response.content.decode()
    start = content.index(f'<script id="{script_id}" type="application/json">')
    start = content.index(">", start) + 1
    return json.loads(content[start : content.index("</script>", start)])


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link(room: Room, by: Any, **fields: Any) -> RoomInvitation:
    return services.room_invite_link_create(
        room_id=room.pk, by=by, max_uses=fields.pop("max_uses", None)
    )


# --- sign-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rooms", "room", "room_join"])
def test_pages_require_sign_in(client: Client, room: Room, owner: Any, name: str) -> None:
    args: dict[str, list[Any]] = {"rooms": [], "room": [room.pk], "room_join": ["sometoken"]}

    response = client.get(reverse(name, args=args[name]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_invite_link_sends_a_signed_out_visitor_back_to_it_after_sign_in(
    client: Client, room: Room, owner: Any
) -> None:
    link = _link(room, owner)
    path = reverse("room_join", args=[link.token])

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={path}"


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_my_rooms_with_unread_counts_and_the_last_message(
    room: Room, owner: Any, member: Any, outsider: Any
) -> None:
    services.message_create(room=room, author=member, body="Nifty looks heavy today")
    services.message_create(room=room, author=member, body="Watching $RELIANCE")
    services.room_create(by=outsider, name="Somebody else's room")

    response = _client(owner).get(reverse("rooms"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Swing traders" in html
    assert "Somebody else&#x27;s room" not in html
    assert "2 unread" in html
    assert "Arjun Rao: Watching $RELIANCE" in html
    data = _data(response, "rooms-data")
    [row] = data["rooms"]
    assert (row["id"], row["unread_count"], row["role"]) == (room.pk, 2, "owner")
    assert row["last_message"]["body"] == "Watching $RELIANCE"
    assert data["urls"]["page"] == "/rooms/{room}/"
    assert data["urls"]["messages"] == "/api/v1/rooms/{room}/messages/"
    assert data["urls"]["reactions"] == "/api/v1/rooms/{room}/messages/{message}/reactions/"
    assert data["urls"]["member"] == "/api/v1/rooms/{room}/members/{user}/"
    assert data["strings"]["join"] == "Join"


def test_the_list_shows_my_pending_invitations(room: Room, owner: Any, outsider: Any) -> None:
    services.room_invitation_create(room_id=room.pk, user=outsider.email, by=owner)

    response = _client(outsider).get(reverse("rooms"))

    assert response.status_code == 200
    [invitation] = _data(response, "rooms-data")["invitations"]
    assert invitation["room"]["name"] == "Swing traders"
    assert "You are not in any room yet." in response.content.decode()


def test_the_create_form_offers_only_my_own_watchlists(room: Room, owner: Any, member: Any) -> None:
    # `member` can see the room's watchlist but does not own it: it cannot be linked.
    response = _client(member).get(reverse("rooms"))

    assert response.status_code == 200
    assert response.context["watchlists"] == []
    own = _client(owner).get(reverse("rooms")).context["watchlists"]
    assert [w["id"] for w in own] == [room.watchlist_id]


# --- one room -----------------------------------------------------------------------------------


def test_a_member_sees_the_room_with_its_first_state_embedded(room: Room, owner: Any) -> None:
    member = new_user(display_name="Arjun Rao")
    services.room_join_by_link(token=_link(room, owner).token, by=member)
    message = services.message_create(room=room, author=owner, body="<b>Hello</b> $TCS")

    response = _client(member).get(reverse("room", args=[room.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1 data-room-name>Swing traders</h1>" in html
    # The body is data for the script, never markup in the page.
    assert "<b>Hello</b>" not in html
    data = _data(response, "room-data")
    assert data["me"] == {"id": member.pk, "name": "Arjun Rao"}
    snapshot = data["snapshot"]
    assert snapshot["role"] == "member"
    assert [m["id"] for m in snapshot["messages"]] == [message.pk]
    assert snapshot["messages"][0]["body"] == "<b>Hello</b> $TCS"
    assert snapshot["messages"][0]["symbols"] == ["NSE:TCS"]
    assert snapshot["unread_count"] == 1
    assert snapshot["first_unread_id"] == message.pk
    assert [(m["user"]["id"], m["role"]) for m in data["members"]] == [
        (owner.pk, "owner"),
        (member.pk, "member"),
    ]
    assert data["watchlist"]["id"] == room.watchlist_id
    assert data["watchlist"]["role"] == "editor"
    assert data["maxLength"] == 4000
    # Members do not get the moderation tools.
    assert "data-moderator-only hidden" in html


def test_the_owner_gets_the_moderation_tools(room: Room, owner: Any) -> None:
    response = _client(owner).get(reverse("room", args=[room.pk]))

    assert response.status_code == 200
    assert "data-moderator-only hidden" not in response.content.decode()
    assert _data(response, "room-data")["snapshot"]["role"] == "owner"


def test_an_outsider_gets_the_same_404_as_for_a_missing_room(room: Room, outsider: Any) -> None:
    client = _client(outsider)

    hidden = client.get(reverse("room", args=[room.pk]))
    missing = client.get(reverse("room", args=[room.pk + 1000]))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_a_discoverable_room_is_a_404_until_joined(
    owner: Any, outsider: Any, instruments: Any
) -> None:
    room = services.room_create(
        by=owner, name="Open floor", description="", visibility=Visibility.DISCOVERABLE
    )
    client = _client(outsider)
    assert client.get(reverse("room", args=[room.pk])).status_code == 404

    services.room_join(room_id=room.pk, by=outsider)

    assert client.get(reverse("room", args=[room.pk])).status_code == 200


def test_a_removed_member_gets_a_404(room: Room, owner: Any, member: Any) -> None:
    services.room_member_remove(room_id=room.pk, user_id=member.pk, by=owner)

    response = _client(member).get(reverse("room", args=[room.pk]))

    assert response.status_code == 404


def test_the_room_page_embeds_the_last_50_messages(room: Room, owner: Any) -> None:
    Message.objects.bulk_create(
        Message(room=room, author=owner, body=f"message {n}") for n in range(60)
    )

    snapshot = _data(_client(owner).get(reverse("room", args=[room.pk])), "room-data")["snapshot"]

    assert len(snapshot["messages"]) == 50
    assert snapshot["has_more"] is True
    assert snapshot["messages"][-1]["body"] == "message 59"


# --- the invite-link page -----------------------------------------------------------------------


def test_an_active_link_shows_the_room_and_a_join_button(
    room: Room, owner: Any, outsider: Any
) -> None:
    link = _link(room, owner)

    response = _client(outsider).get(reverse("room_join", args=[link.token]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Swing traders" in html
    assert "Join the room" in html
    assert 'method="post"' in html
    # Looking at the page joins nobody.
    assert not RoomMember.objects.filter(room=room, user=outsider).exists()


def test_joining_by_link_is_a_post_that_opens_the_room(
    room: Room, owner: Any, outsider: Any
) -> None:
    link = _link(room, owner)
    client = _client(outsider)

    response = client.post(reverse("room_join", args=[link.token]))

    assert response.status_code == 302
    assert response["Location"] == reverse("room", args=[room.pk])
    assert RoomMember.objects.get(room=room, user=outsider).role == "member"
    assert client.get(reverse("room", args=[room.pk])).status_code == 200


def test_a_member_opening_the_link_is_told_and_nothing_is_counted(
    room: Room, owner: Any, member: Any
) -> None:
    link = _link(room, owner)
    client = _client(member)

    page = client.get(reverse("room_join", args=[link.token]))
    again = client.post(reverse("room_join", args=[link.token]))

    assert page.status_code == 200
    assert "You are already a member of this room." in page.content.decode()
    assert again.status_code == 302
    link.refresh_from_db()
    assert link.uses == 0


@pytest.mark.parametrize(
    ("state", "text"),
    [
        ("expired", "This invite link has expired. Ask for a new one."),
        ("revoked", "This invite link was withdrawn. Ask for a new one."),
        ("used_up", "This invite link has been used as many times as allowed."),
    ],
)
def test_a_dead_link_explains_why_and_joins_nobody(
    room: Room, owner: Any, outsider: Any, state: str, text: str
) -> None:
    link = _link(room, owner, max_uses=1)
    if state == "expired":
        RoomInvitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    elif state == "revoked":
        services.room_invite_link_revoke(room_id=room.pk, link_id=link.pk, by=owner)
    else:
        services.room_join_by_link(token=link.token, by=new_user())
    client = _client(outsider)

    page = client.get(reverse("room_join", args=[link.token]))
    posted = client.post(reverse("room_join", args=[link.token]))

    for response in (page, posted):
        assert response.status_code == 410
        html = response.content.decode()
        assert text in html
        assert "Swing traders" in html
        assert "Join the room" not in html
    assert not RoomMember.objects.filter(room=room, user=outsider).exists()
    assert RoomInvitation.objects.get(pk=link.pk).status in (
        InvitationStatus.PENDING,
        InvitationStatus.REVOKED,
    )


def test_an_unknown_link_is_a_clear_404_page(outsider: Any) -> None:
    client = _client(outsider)

    page = client.get(reverse("room_join", args=["no-such-token"]))
    posted = client.post(reverse("room_join", args=["x" * 80]))

    for response in (page, posted):
        assert response.status_code == 404
        assert "This invite link does not work" in response.content.decode()
