"""Invitations: to a user by e-mail address or name (notified in the app), and by link
(expiry, revocation, maximum uses)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.rooms import services
from apps.rooms.models import INVITE_LINK_DAYS, RoomInvitation, RoomMember

from .conftest import client_for, new_user

pytestmark = pytest.mark.django_db


def _invite(room: Any, by: Any, who: str) -> Any:
    return client_for(by).post(f"/api/v1/rooms/{room.pk}/invitations/", {"user": who})


def test_a_moderator_invites_by_email_and_the_invitee_is_notified_in_the_app(
    room: Any, moderator: Any
) -> None:
    invitee = new_user(email="Neha.Kapoor@example.com")
    response = _invite(room, moderator, "neha.kapoor@EXAMPLE.com")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["id"] == invitee.pk
    assert body["status"] == "pending"
    assert body["invited_by"]["id"] == moderator.pk
    notification = Notification.objects.get(user=invitee, source="rooms")
    assert "Swing traders" in notification.body
    assert notification.data["invitation"] == body["id"]
    assert invitee.destinations.filter(kind="in_app").exists()


def test_an_invitation_by_display_name_finds_the_one_account(room: Any, owner: Any) -> None:
    invitee = new_user(display_name="Rohan Mehta")
    response = _invite(room, owner, "rohan mehta")
    assert response.status_code == 201
    assert response.json()["user"]["id"] == invitee.pk


def test_an_ambiguous_name_asks_for_the_email_address(room: Any, owner: Any) -> None:
    new_user(display_name="Amit Shah")
    new_user(display_name="Amit Shah")
    response = _invite(room, owner, "Amit Shah")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["user"] == [
        "Several people are called “Amit Shah”: invite by e-mail address."
    ]


def test_inviting_an_unknown_account_says_so(room: Any, owner: Any) -> None:
    response = _invite(room, owner, "nobody@example.com")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["user"] == [
        "No StockSense account matches “nobody@example.com”."
    ]


def test_members_and_pending_invitees_are_not_invited_twice(
    room: Any, owner: Any, member: Any
) -> None:
    assert _invite(room, owner, member.email).status_code == 400
    invitee = new_user()
    assert _invite(room, owner, invitee.email).status_code == 201
    again = _invite(room, owner, invitee.email)
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["user"] == [
        f"{invitee.get_short_name()} is already invited."
    ]


def test_a_plain_member_cannot_invite(room: Any, member: Any) -> None:
    assert _invite(room, member, new_user().email).status_code == 403


def test_the_invitee_lists_accepts_and_joins(room: Any, owner: Any) -> None:
    invitee = new_user()
    invitation_id = _invite(room, owner, invitee.email).json()["id"]
    client = client_for(invitee)
    mine = client.get("/api/v1/rooms/invitations/").json()
    assert [i["id"] for i in mine] == [invitation_id]
    assert mine[0]["room"]["name"] == "Swing traders"

    response = client.post(f"/api/v1/rooms/invitations/{invitation_id}/accept/")
    assert response.status_code == 200
    assert response.json()["role"] == "member"
    assert RoomMember.objects.filter(room=room, user=invitee).exists()
    assert RoomInvitation.objects.get(pk=invitation_id).status == "accepted"
    assert client.get("/api/v1/rooms/invitations/").json() == []
    # The room's shared watchlist came with it.
    assert client.get(f"/api/v1/watchlists/{room.watchlist_id}/").status_code == 200


def test_declining_leaves_the_room_alone(room: Any, owner: Any) -> None:
    invitee = new_user()
    invitation_id = _invite(room, owner, invitee.email).json()["id"]
    response = client_for(invitee).post(f"/api/v1/rooms/invitations/{invitation_id}/decline/")
    assert response.status_code == 204
    assert not RoomMember.objects.filter(room=room, user=invitee).exists()
    assert RoomInvitation.objects.get(pk=invitation_id).status == "declined"
    # Declined: can be invited again.
    assert _invite(room, owner, invitee.email).status_code == 201


def test_nobody_else_can_answer_an_invitation(room: Any, owner: Any, outsider: Any) -> None:
    invitation_id = _invite(room, owner, new_user().email).json()["id"]
    url = f"/api/v1/rooms/invitations/{invitation_id}/accept/"
    assert client_for(outsider).post(url).status_code == 404
    assert not RoomMember.objects.filter(room=room, user=outsider).exists()


def test_a_revoked_invitation_can_no_longer_be_accepted(room: Any, owner: Any) -> None:
    invitee = new_user()
    invitation_id = _invite(room, owner, invitee.email).json()["id"]
    listed = client_for(owner).get(f"/api/v1/rooms/{room.pk}/invitations/").json()
    assert [i["id"] for i in listed] == [invitation_id]
    response = client_for(owner).delete(f"/api/v1/rooms/{room.pk}/invitations/{invitation_id}/")
    assert response.status_code == 204
    accept = client_for(invitee).post(f"/api/v1/rooms/invitations/{invitation_id}/accept/")
    assert accept.status_code == 404
    assert client_for(owner).get(f"/api/v1/rooms/{room.pk}/invitations/").json() == []


# --- links --------------------------------------------------------------------------------------


def _link(room: Any, by: Any, **body: Any) -> dict[str, Any]:
    response = client_for(by).post(f"/api/v1/rooms/{room.pk}/invite-links/", body)
    assert response.status_code == 201, response.content
    return dict(response.json())


def _join(token: str, user: Any) -> Any:
    return client_for(user).post(f"/api/v1/rooms/join/{token}/")


def test_an_invite_link_lets_anyone_signed_in_join_a_private_room(
    room: Any, moderator: Any
) -> None:
    link = _link(room, moderator)
    assert link["state"] == "active"
    assert link["url"] == f"http://testserver/rooms/join/{link['token']}/"
    expires = datetime.fromisoformat(link["expires_at"])
    assert abs(expires - timezone.now() - timedelta(days=INVITE_LINK_DAYS)) < timedelta(minutes=1)

    newcomer = new_user()
    response = _join(link["token"], newcomer)
    assert response.status_code == 200
    assert response.json()["id"] == room.pk
    assert RoomMember.objects.filter(room=room, user=newcomer, role="member").exists()
    assert RoomInvitation.objects.get(pk=link["id"]).uses == 1


def test_an_expired_link_is_gone_with_a_clear_message(room: Any, owner: Any) -> None:
    link = _link(room, owner)
    RoomInvitation.objects.filter(pk=link["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = _join(link["token"], new_user())
    assert response.status_code == 410
    assert response.json()["error"] == {
        "code": "gone",
        "message": "This invite link has expired. Ask for a new one.",
        "fields": {},
    }


def test_a_revoked_link_is_gone(room: Any, owner: Any) -> None:
    link = _link(room, owner)
    response = client_for(owner).delete(f"/api/v1/rooms/{room.pk}/invite-links/{link['id']}/")
    assert response.status_code == 204
    joined = _join(link["token"], new_user())
    assert joined.status_code == 410
    assert joined.json()["error"]["message"] == (
        "This invite link was withdrawn. Ask for a new one."
    )
    assert client_for(owner).get(f"/api/v1/rooms/{room.pk}/invite-links/").json() == []


def test_a_link_stops_after_its_maximum_uses(room: Any, owner: Any) -> None:
    link = _link(room, owner, max_uses=2)
    assert _join(link["token"], new_user()).status_code == 200
    assert _join(link["token"], new_user()).status_code == 200
    third = _join(link["token"], new_user())
    assert third.status_code == 410
    assert third.json()["error"]["message"] == (
        "This invite link has been used as many times as allowed."
    )
    assert (
        client_for(owner).get(f"/api/v1/rooms/{room.pk}/invite-links/").json()[0]["state"]
        == "used_up"
    )


def test_a_member_using_the_link_again_uses_nothing(room: Any, owner: Any, member: Any) -> None:
    link = _link(room, owner, max_uses=1)
    assert _join(link["token"], member).status_code == 200
    assert RoomInvitation.objects.get(pk=link["id"]).uses == 0


def test_an_unknown_token_is_404(owner: Any) -> None:
    assert _join("not-a-token", owner).status_code == 404


def test_a_plain_member_cannot_make_or_see_links(room: Any, member: Any) -> None:
    client = client_for(member)
    assert client.post(f"/api/v1/rooms/{room.pk}/invite-links/", {}).status_code == 403
    assert client.get(f"/api/v1/rooms/{room.pk}/invite-links/").status_code == 403


def test_link_max_uses_must_be_positive(room: Any, owner: Any) -> None:
    response = client_for(owner).post(f"/api/v1/rooms/{room.pk}/invite-links/", {"max_uses": 0})
    assert response.status_code == 400


def test_joining_by_link_respects_the_member_cap(
    room: Any, owner: Any, member: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("apps.rooms.services.rooms.MAX_MEMBERS_PER_ROOM", 2)
    link = _link(room, owner)
    response = _join(link["token"], new_user())
    assert response.status_code == 400
    assert RoomInvitation.objects.get(pk=link["id"]).uses == 0


def test_services_refuse_a_gone_link_without_changing_anything(room: Any, owner: Any) -> None:
    link = services.room_invite_link_create(room_id=room.pk, by=owner, max_uses=1)
    RoomInvitation.objects.filter(pk=link.pk).update(uses=1)
    with pytest.raises(services.InviteLinkGone) as caught:
        services.room_join_by_link(token=link.token, by=new_user())
    assert caught.value.state == "used_up"
