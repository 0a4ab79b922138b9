"""Events: published after commit, to the right groups, with the documented payload.

Read from the real Redis channel layer by a channel subscribed to the group.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from apps.realtime.events import user_group, watchlist_group
from apps.watchlists import selectors, services
from apps.watchlists.models import Watchlist
from tests.events import published

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _by(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.get_short_name()}


def test_adding_an_item_publishes_the_new_state_after_commit(
    owner: Any, editor: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    def add() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return services.watchlist_item_add(
                watchlist_id=watchlist.pk, symbol="BSE:SENSEX", by=editor
            )

    item, events = published([watchlist_group(watchlist.pk)], add)
    watchlist.refresh_from_db()
    assert events[watchlist_group(watchlist.pk)] == [{
        "type": "watchlist.updated",
        "watchlist": selectors.watchlist_snapshot(watchlist=watchlist, role=None),
        "by": _by(editor),
        "change": {"action": "item_added", "item_id": item.pk, "symbol": "SENSEX",
                   "exchange": "BSE"},
    }]
    assert events[watchlist_group(watchlist.pk)][0]["watchlist"]["items"][-1]["symbol"] == (
        "SENSEX"
    )


def test_nothing_is_sent_before_the_transaction_commits(
    owner: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    def add_without_commit() -> Any:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner)
        return callbacks

    callbacks, events = published([watchlist_group(watchlist.pk)], add_without_commit)
    assert len(callbacks) == 1
    assert events[watchlist_group(watchlist.pk)] == []


def test_a_rolled_back_change_sends_nothing(
    owner: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    def add_then_fail() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    services.watchlist_item_add(
                        watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner
                    )
                    raise RuntimeError("boom")
            except RuntimeError:
                pass

    _, events = published([watchlist_group(watchlist.pk)], add_then_fail)
    assert events[watchlist_group(watchlist.pk)] == []


def test_reorder_rename_note_and_remove_name_their_action(
    owner: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    ids = list(watchlist.items.order_by("position").values_list("id", flat=True))

    def changes() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_items_reorder(
                watchlist_id=watchlist.pk, item_ids=ids[::-1], by=owner
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_item_note(
                watchlist_id=watchlist.pk, item_id=ids[0], note="hold", by=owner
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_rename(watchlist_id=watchlist.pk, name="Core", by=owner)
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_item_remove(watchlist_id=watchlist.pk, item_id=ids[1], by=owner)

    _, events = published([watchlist_group(watchlist.pk)], changes)
    got = events[watchlist_group(watchlist.pk)]
    assert [e["change"] for e in got] == [
        {"action": "items_reordered", "item_ids": ids[::-1]},
        {"action": "item_note", "item_id": ids[0], "symbol": "TCS", "exchange": "NSE",
         "note": "hold"},
        {"action": "renamed", "name": "Core", "old_name": "Long term"},
        {"action": "item_removed", "item_id": ids[1], "symbol": "INFY", "exchange": "NSE"},
    ]
    assert [i["id"] for i in got[0]["watchlist"]["items"]] == ids[::-1]
    stamps = [e["watchlist"]["updated_at"] for e in got]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4


def test_accepting_tells_the_list_and_the_new_members_other_tabs(
    owner: Any, other_user: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    member = services.watchlist_member_invite(
        watchlist_id=watchlist.pk, email=other_user.email, role="editor", by=owner
    )

    def accept() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_member_respond(member_id=member.pk, accept=True, by=other_user)

    groups = [watchlist_group(watchlist.pk), user_group(other_user.pk)]
    _, events = published(groups, accept)
    change = {"action": "members_changed", "user": _by(other_user), "status": "accepted",
              "role": "editor"}
    assert [e["change"] for e in events[groups[0]]] == [change]
    assert events[groups[0]][0]["watchlist"]["role"] is None
    closed, joined = events[groups[1]]
    assert closed == {"type": "watchlist.invitation_closed", "id": member.pk,
                      "watchlist_id": watchlist.pk, "reason": "accepted"}
    assert (joined["type"], joined["change"], joined["watchlist"]["role"]) == (
        "watchlist.updated", change, "editor"
    )


def test_removing_a_member_revokes_their_access_first(
    owner: Any, viewer: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    member = watchlist.members.get(user=viewer)

    def remove() -> None:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.watchlist_member_remove(
                watchlist_id=watchlist.pk, member_id=member.pk, by=owner
            )
        assert len(callbacks) == 2

    groups = [user_group(viewer.pk), watchlist_group(watchlist.pk)]
    _, events = published(groups, remove)
    assert events[groups[0]] == [{"type": "watchlist.revoked", "id": watchlist.pk}]
    (update,) = events[groups[1]]
    assert update["change"]["status"] == "removed"
    assert update["watchlist"]["members"] == []


def test_deleting_revokes_the_list_for_everyone_who_could_see_it(
    owner: Any, editor: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    pending = services.watchlist_member_invite(
        watchlist_id=watchlist.pk, email=services.User.objects.create_user("p@example.in").email,
        role="viewer", by=owner,
    )

    def delete() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_delete(watchlist_id=watchlist.pk, by=owner)

    groups = [user_group(owner.pk), user_group(editor.pk), user_group(pending.user_id)]
    watchlist_id = watchlist.pk
    _, events = published(groups, delete)
    revoked = [{"type": "watchlist.revoked", "id": watchlist_id}]
    # The invitee never saw the list: their pending invitation closes instead.
    closed = [{"type": "watchlist.invitation_closed", "id": pending.pk,
               "watchlist_id": watchlist_id, "reason": "deleted"}]
    assert [events[g] for g in groups] == [revoked, revoked, closed]


def test_creating_tells_the_owners_other_tabs(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def create() -> Watchlist:
        with django_capture_on_commit_callbacks(execute=True):
            return services.watchlist_create(name="Fresh", by=user)

    created, events = published([user_group(user.pk)], create)
    (event,) = events[user_group(user.pk)]
    assert (event["change"], event["watchlist"]["id"], event["watchlist"]["role"]) == (
        {"action": "created"}, created.pk, "owner"
    )


def test_a_refused_change_publishes_nothing(
    viewer: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    def attempt() -> None:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(services.WatchlistPermissionDenied),
        ):
            services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="HDFCBANK",
                                            by=viewer)
        assert callbacks == []

    _, events = published([watchlist_group(watchlist.pk)], attempt)
    assert events[watchlist_group(watchlist.pk)] == []


# --- invitations, on the invitee's own group ----------------------------------------------


def test_inviting_tells_the_invitee_and_nobody_else(
    owner: Any, other_user: Any, outsider: Any, viewer: Any, watchlist: Watchlist,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def invite() -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return services.watchlist_member_invite(
                watchlist_id=watchlist.pk, email=other_user.email, role="editor", by=owner
            )

    groups = [user_group(u.pk) for u in (other_user, outsider, viewer, owner)]
    member, events = published(groups, invite)
    (frame,) = events[user_group(other_user.pk)]
    assert frame["type"] == "watchlist.invited"
    assert frame["invitation"] == {
        "id": member.pk,
        "watchlist": {"id": watchlist.pk, "name": "Long term", "owner": _by(owner)},
        "role": "editor",
        "invited_by": _by(owner),
        "created_at": frame["invitation"]["created_at"],
    }
    # The same object as the invitee's REST list, so the page can treat both alike.
    rest = client_for(other_user).get("/api/v1/invitations/").json()["results"]
    assert rest == [frame["invitation"]]
    assert [events[user_group(u.pk)] for u in (outsider, viewer, owner)] == [[], [], []]


def test_withdrawing_an_invitation_closes_it_for_the_invitee(
    owner: Any, other_user: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    member = services.watchlist_member_invite(
        watchlist_id=watchlist.pk, email=other_user.email, role="viewer", by=owner
    )

    def withdraw() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_member_remove(
                watchlist_id=watchlist.pk, member_id=member.pk, by=owner
            )

    member_id = member.pk
    groups = [user_group(other_user.pk), watchlist_group(watchlist.pk)]
    _, events = published(groups, withdraw)
    # Not `watchlist.revoked`: the invitee never had access.
    assert events[groups[0]] == [{"type": "watchlist.invitation_closed", "id": member_id,
                                  "watchlist_id": watchlist.pk, "reason": "withdrawn"}]
    assert [e["change"]["status"] for e in events[groups[1]]] == ["removed"]


def test_declining_closes_the_invitation_in_the_invitees_other_tabs(
    owner: Any, other_user: Any, watchlist: Watchlist, django_capture_on_commit_callbacks: Any
) -> None:
    member = services.watchlist_member_invite(
        watchlist_id=watchlist.pk, email=other_user.email, role="viewer", by=owner
    )

    def decline() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_member_respond(member_id=member.pk, accept=False, by=other_user)

    _, events = published([user_group(other_user.pk)], decline)
    assert events[user_group(other_user.pk)] == [
        {"type": "watchlist.invitation_closed", "id": member.pk, "watchlist_id": watchlist.pk,
         "reason": "declined"}
    ]


def test_a_changed_role_or_name_resends_the_pending_invitation(
    owner: Any, other_user: Any, viewer: Any, watchlist: Watchlist,
    django_capture_on_commit_callbacks: Any,
) -> None:
    member = services.watchlist_member_invite(
        watchlist_id=watchlist.pk, email=other_user.email, role="viewer", by=owner
    )
    accepted = watchlist.members.get(user=viewer)

    def change() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_member_set_role(
                watchlist_id=watchlist.pk, member_id=member.pk, role="editor", by=owner
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.watchlist_rename(watchlist_id=watchlist.pk, name="Core", by=owner)
        with django_capture_on_commit_callbacks(execute=True):
            # An accepted member's role change is no invitation.
            services.watchlist_member_set_role(
                watchlist_id=watchlist.pk, member_id=accepted.pk, role="editor", by=owner
            )

    groups = [user_group(other_user.pk), user_group(viewer.pk)]
    _, events = published(groups, change)
    assert [(e["type"], e["invitation"]["id"], e["invitation"]["role"],
             e["invitation"]["watchlist"]["name"]) for e in events[groups[0]]] == [
        ("watchlist.invited", member.pk, "editor", "Long term"),
        ("watchlist.invited", member.pk, "editor", "Core"),
    ]
    assert events[groups[1]] == []
