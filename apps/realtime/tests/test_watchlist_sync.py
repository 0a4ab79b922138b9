"""Watchlists over the socket: who may subscribe, live updates to every member, revocation."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.watchlists import services
from tests.factories import UserFactory, WatchlistFactory, WatchlistMemberFactory
from tests.ws import signed_in_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _seed(market_seed: None) -> None:
    pass


@database_sync_to_async
def _team() -> dict[str, Any]:
    watchlist = WatchlistFactory()
    editor = WatchlistMemberFactory(watchlist=watchlist, role="editor").user
    viewer = WatchlistMemberFactory(watchlist=watchlist, role="viewer").user
    invited = WatchlistMemberFactory(watchlist=watchlist, status="invited").user
    return {"watchlist": watchlist, "owner": watchlist.owner, "editor": editor,
            "viewer": viewer, "invited": invited, "outsider": UserFactory()}


_socket = signed_in_socket


async def _next(communicator: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    for _ in range(10):
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind}")


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("owner", True), ("editor", True), ("viewer", True), ("invited", False),
     ("outsider", False)],
)
async def test_only_members_may_subscribe(sockets: list[Any], who: str, allowed: bool) -> None:
    team = await _team()
    socket = await _socket(sockets, team[who])
    await socket.send_json_to({"type": "subscribe", "topic": "watchlist",
                               "id": team["watchlist"].pk})
    frame = await socket.receive_json_from(timeout=5)
    if allowed:
        assert frame["type"] == "subscribed"
        snapshot = await _next(socket, "watchlist.snapshot")
        assert snapshot["watchlist"]["role"] == who
    else:
        # The same answer as for a list that does not exist.
        assert (frame["type"], frame["code"]) == ("error", "not_found")


async def test_an_editors_change_reaches_every_member_with_their_own_role(
    sockets: list[Any],
) -> None:
    team = await _team()
    watchlist_id = team["watchlist"].pk
    viewer = await _socket(sockets, team["viewer"])
    owner = await _socket(sockets, team["owner"])
    for socket in (viewer, owner):
        await socket.send_json_to({"type": "subscribe", "topic": "watchlist", "id": watchlist_id})
        await _next(socket, "watchlist.snapshot")

    await database_sync_to_async(services.watchlist_item_add)(
        watchlist_id=watchlist_id, symbol="RELIANCE", by=team["editor"]
    )
    for socket, role in ((viewer, "viewer"), (owner, "owner")):
        update = await _next(socket, "watchlist.updated")
        assert update["change"]["action"] == "item_added"
        assert update["by"]["id"] == team["editor"].pk
        assert update["watchlist"]["role"] == role
        assert [i["symbol"] for i in update["watchlist"]["items"]] == ["RELIANCE"]


async def test_a_removed_member_is_told_and_hears_nothing_more(sockets: list[Any]) -> None:
    team = await _team()
    watchlist_id = team["watchlist"].pk
    viewer = await _socket(sockets, team["viewer"])
    await viewer.send_json_to({"type": "subscribe", "topic": "watchlist", "id": watchlist_id})
    await _next(viewer, "watchlist.snapshot")

    def remove_viewer() -> None:
        member = team["watchlist"].members.get(user=team["viewer"])
        services.watchlist_member_remove(watchlist_id=watchlist_id, member_id=member.pk,
                                         by=team["owner"])

    await database_sync_to_async(remove_viewer)()
    revoked = await _next(viewer, "watchlist.revoked")
    assert revoked["id"] == watchlist_id
    await database_sync_to_async(services.watchlist_item_add)(
        watchlist_id=watchlist_id, symbol="TCS", by=team["owner"]
    )
    assert await viewer.receive_nothing(timeout=0.5)
