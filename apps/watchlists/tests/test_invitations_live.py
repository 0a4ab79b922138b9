"""Invitations over a real socket (`/ws/`, the real Redis channel layer): the invitee's open
pages hear of an invitation and of its withdrawal without subscribing to anything; nobody
else hears of it."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.watchlists import services
from tests.factories import UserFactory, WatchlistFactory, WatchlistMemberFactory
from tests.ws import signed_in_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _seed(market_seed: None) -> None:
    """The consumer's hello reads the NSE calendar, which a transactional flush removes."""


@database_sync_to_async
def _people() -> dict[str, Any]:
    watchlist = WatchlistFactory(name="Banks")
    member = WatchlistMemberFactory(watchlist=watchlist, role="viewer").user
    return {"watchlist": watchlist, "owner": watchlist.owner, "member": member,
            "invitee": UserFactory(), "outsider": UserFactory()}


_socket = signed_in_socket


async def test_the_invitee_hears_the_invitation_and_its_withdrawal(sockets: list[Any]) -> None:
    people = await _people()
    watchlist, owner = people["watchlist"], people["owner"]
    invitee = await _socket(sockets, people["invitee"])
    second_tab = await _socket(sockets, people["invitee"])
    outsider = await _socket(sockets, people["outsider"])
    member = await _socket(sockets, people["member"])  # on the list, not subscribed to it

    invitation = await database_sync_to_async(services.watchlist_member_invite)(
        watchlist_id=watchlist.pk, email=people["invitee"].email, role="editor", by=owner
    )
    for socket in (invitee, second_tab):
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == "watchlist.invited"
        assert frame["seq"] == 2
        assert frame["invitation"]["id"] == invitation.pk
        assert frame["invitation"]["watchlist"] == {
            "id": watchlist.pk, "name": "Banks", "owner": {"id": owner.pk,
                                                          "name": owner.get_short_name()},
        }
        assert (frame["invitation"]["role"], frame["invitation"]["invited_by"]["id"]) == (
            "editor", owner.pk
        )

    await database_sync_to_async(services.watchlist_member_remove)(
        watchlist_id=watchlist.pk, member_id=invitation.pk, by=owner
    )
    closed = await invitee.receive_json_from(timeout=5)
    assert {k: closed[k] for k in ("type", "id", "watchlist_id", "reason")} == {
        "type": "watchlist.invitation_closed", "id": invitation.pk,
        "watchlist_id": watchlist.pk, "reason": "withdrawn",
    }
    assert await outsider.receive_nothing(timeout=0.5)
    assert await member.receive_nothing(timeout=0.1)


async def test_accepting_in_one_tab_updates_the_others(sockets: list[Any]) -> None:
    people = await _people()
    watchlist = people["watchlist"]
    invitation = await database_sync_to_async(services.watchlist_member_invite)(
        watchlist_id=watchlist.pk, email=people["invitee"].email, role="viewer",
        by=people["owner"],
    )
    other_tab = await _socket(sockets, people["invitee"])

    await database_sync_to_async(services.watchlist_member_respond)(
        member_id=invitation.pk, accept=True, by=people["invitee"]
    )
    closed = await other_tab.receive_json_from(timeout=5)
    assert (closed["type"], closed["id"], closed["reason"]) == (
        "watchlist.invitation_closed", invitation.pk, "accepted"
    )
    joined = await other_tab.receive_json_from(timeout=5)
    assert (joined["type"], joined["watchlist"]["id"], joined["watchlist"]["role"]) == (
        "watchlist.updated", watchlist.pk, "viewer"
    )
