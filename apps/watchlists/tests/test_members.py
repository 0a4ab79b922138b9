"""Sharing: invite by e-mail, accept, decline, change role, revoke, leave; the 50 limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.watchlists import selectors, services
from apps.watchlists.models import MAX_MEMBERS_PER_WATCHLIST, Watchlist, WatchlistMember
from tests.factories import UserFactory, WatchlistMemberFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _invite(owner: Any, watchlist: Watchlist, email: str, role: str = "viewer") -> Any:
    return client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/members/", {"email": email, "role": role}
    )


def test_invite_accept_then_the_list_is_visible_with_the_role(
    owner: Any, other_user: Any, watchlist: Watchlist
) -> None:
    response = _invite(owner, watchlist, other_user.email.upper(), "editor")
    assert response.status_code == 201
    member = response.json()
    assert (member["user"]["id"], member["role"], member["status"]) == (
        other_user.pk, "editor", "invited"
    )
    invitee = client_for(other_user)
    invitations = invitee.get("/api/v1/invitations/").json()["results"]
    assert [(i["id"], i["watchlist"]["name"], i["role"]) for i in invitations] == [
        (member["id"], "Long term", "editor")
    ]
    accepted = invitee.post(f"/api/v1/invitations/{member['id']}/accept/")
    assert accepted.status_code == 200
    assert (accepted.json()["id"], accepted.json()["role"]) == (watchlist.pk, "editor")
    assert invitee.get("/api/v1/invitations/").json()["results"] == []
    listed = invitee.get("/api/v1/watchlists/").json()["results"]
    assert [(w["id"], w["role"]) for w in listed] == [(watchlist.pk, "editor")]


def test_declining_hides_the_invitation_and_grants_nothing(
    owner: Any, other_user: Any, watchlist: Watchlist
) -> None:
    member_id = _invite(owner, watchlist, other_user.email).json()["id"]
    invitee = client_for(other_user)
    assert invitee.post(f"/api/v1/invitations/{member_id}/decline/").status_code == 204
    assert invitee.get("/api/v1/invitations/").json()["results"] == []
    assert invitee.get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 404
    assert invitee.post(f"/api/v1/invitations/{member_id}/accept/").status_code == 404


def test_a_declined_user_can_be_invited_again(owner: Any, other_user: Any,
                                              watchlist: Watchlist) -> None:
    member_id = _invite(owner, watchlist, other_user.email).json()["id"]
    client_for(other_user).post(f"/api/v1/invitations/{member_id}/decline/")
    again = _invite(owner, watchlist, other_user.email, "editor")
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["status"], again.json()["role"]) == (
        member_id, "invited", "editor"
    )


def test_only_the_invitee_can_answer_an_invitation(
    owner: Any, other_user: Any, outsider: Any, watchlist: Watchlist
) -> None:
    member_id = _invite(owner, watchlist, other_user.email).json()["id"]
    for intruder in (outsider, owner):
        assert client_for(intruder).post(
            f"/api/v1/invitations/{member_id}/accept/"
        ).status_code == 404
    assert WatchlistMember.objects.get(pk=member_id).status == "invited"


def test_unknown_email_is_a_field_error(owner: Any, watchlist: Watchlist) -> None:
    response = _invite(owner, watchlist, "nobody@example.com")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "email": ["No StockSense account uses this e-mail address."]
    }


def test_inviting_yourself_is_refused(owner: Any, watchlist: Watchlist) -> None:
    response = _invite(owner, watchlist, owner.email)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "email": ["You own this watchlist: invite someone else."]
    }


def test_inviting_a_member_twice_is_refused(owner: Any, viewer: Any, watchlist: Watchlist) -> None:
    response = _invite(owner, watchlist, viewer.email)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"email": [f"{viewer.email} is already a member."]}


@pytest.mark.parametrize(
    "body", [{}, {"email": "not-an-email"}, {"email": "a@b.in", "role": "owner"}]
)
def test_bad_invitations_are_400(owner: Any, watchlist: Watchlist, body: Any) -> None:
    response = client_for(owner).post(f"/api/v1/watchlists/{watchlist.pk}/members/", body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_a_watchlist_is_shared_with_at_most_50_people(owner: Any, watchlist: Watchlist) -> None:
    for n in range(MAX_MEMBERS_PER_WATCHLIST):
        WatchlistMemberFactory(watchlist=watchlist, status="accepted" if n % 2 else "invited")
    WatchlistMemberFactory(watchlist=watchlist, status="declined")  # does not count
    with pytest.raises(ValidationError) as excinfo:
        services.watchlist_member_invite(
            watchlist_id=watchlist.pk, email=str(UserFactory().email), role="viewer", by=owner
        )
    assert excinfo.value.message_dict == {"email": [
        "A watchlist can be shared with at most 50 people. Remove someone to invite another."
    ]}


def test_owner_changes_a_members_role(owner: Any, viewer: Any, watchlist: Watchlist) -> None:
    member = watchlist.members.get(user=viewer)
    response = client_for(owner).patch(
        f"/api/v1/watchlists/{watchlist.pk}/members/{member.pk}/", {"role": "editor"}
    )
    assert response.json()["role"] == "editor"
    assert selectors.watchlist_get_for_user(user=viewer, watchlist_id=watchlist.pk) == (
        watchlist, "editor"
    )


def test_owner_revokes_access(owner: Any, viewer: Any, watchlist: Watchlist) -> None:
    member = watchlist.members.get(user=viewer)
    url = f"/api/v1/watchlists/{watchlist.pk}/members/{member.pk}/"
    assert client_for(owner).delete(url).status_code == 204
    assert client_for(viewer).get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 404


def test_a_member_can_leave_but_not_remove_others(
    viewer: Any, editor: Any, watchlist: Watchlist
) -> None:
    mine = watchlist.members.get(user=viewer)
    theirs = watchlist.members.get(user=editor)
    client = client_for(viewer)
    base = f"/api/v1/watchlists/{watchlist.pk}/members/"
    assert client.delete(f"{base}{theirs.pk}/").status_code == 403
    assert client.delete(f"{base}{mine.pk}/").status_code == 204
    assert client.get(f"/api/v1/watchlists/{watchlist.pk}/").status_code == 404
    assert watchlist.members.filter(pk=theirs.pk).exists()


def test_members_see_who_else_is_on_the_list(viewer: Any, editor: Any,
                                             watchlist: Watchlist) -> None:
    body = client_for(viewer).get(f"/api/v1/watchlists/{watchlist.pk}/members/").json()
    assert {(m["user"]["id"], m["role"]) for m in body} == {(editor.pk, "editor"),
                                                            (viewer.pk, "viewer")}
