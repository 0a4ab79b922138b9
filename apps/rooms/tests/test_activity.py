"""The activity feed: one row per room event, published as `room.activity`, paginated newest
first per room (members only) and per user (the rooms they are in)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.realtime.events import room_group
from apps.rooms import selectors, services
from apps.rooms.models import Activity, Room, Visibility

from .conftest import client_for, new_user

pytestmark = pytest.mark.django_db


def _verbs(room: Room) -> list[str]:
    return list(Activity.objects.filter(room=room).order_by("id").values_list("verb", flat=True))


def test_every_membership_event_leaves_a_row(owner: Any, instruments: Any) -> None:
    room = services.room_create(by=owner, name="Feed", visibility=Visibility.DISCOVERABLE)
    alice, bob = new_user(), new_user()
    services.room_join(room_id=room.pk, by=alice)
    services.room_join(room_id=room.pk, by=bob)
    services.room_member_role_set(room_id=room.pk, user_id=alice.pk, role="moderator", by=owner)
    services.room_member_remove(room_id=room.pk, user_id=bob.pk, by=alice)
    services.room_owner_transfer(room_id=room.pk, user_id=alice.pk, by=owner)
    services.room_leave(room_id=room.pk, by=owner)
    assert _verbs(room) == [
        "created",
        "joined",
        "joined",
        "role_changed",
        "removed",
        "owner_changed",
        "left",
    ]
    removed = Activity.objects.get(room=room, verb="removed")
    assert removed.actor == alice
    assert removed.data == {"user": {"id": bob.pk, "name": bob.get_short_name()}, "role": "member"}
    changed = Activity.objects.get(room=room, verb="role_changed")
    assert changed.data["role"] == "moderator"
    assert changed.data["previous"] == "member"


def test_a_share_leaves_a_row_naming_what_was_shared(
    room: Room, member: Any, instruments: Any, capture: Any
) -> None:
    def share() -> Any:
        return services.message_create(
            room=room,
            author=member,
            body="",
            share={"type": "chart", "symbol": "TCS", "timeframe": "1d"},
        )

    message, events = capture([room_group(room.pk)], share)
    activity = Activity.objects.get(room=room, verb="shared")
    assert activity.actor == member
    assert activity.data == {"message": message.pk, "share_type": "chart", "title": "NSE:TCS 1d"}
    assert [e["type"] for e in events[room_group(room.pk)]] == ["room.activity", "room.message"]
    assert events[room_group(room.pk)][0] == {
        "type": "room.activity",
        "activity": selectors.activity_data(activity),
    }
    # A plain message is chat, not activity.
    services.message_create(room=room, author=member, body="just talk")
    assert Activity.objects.filter(room=room, verb="shared").count() == 1


def test_each_new_row_is_published_with_its_json(
    room: Room, owner: Any, member: Any, capture: Any
) -> None:
    _, events = capture(
        [room_group(room.pk)],
        lambda: services.room_member_role_set(
            room_id=room.pk, user_id=member.pk, role="moderator", by=owner
        ),
    )
    activity = events[room_group(room.pk)][0]["activity"]
    assert activity["verb"] == "role_changed"
    assert activity["text"] == "role changed"
    assert activity["room"] == {"id": room.pk, "name": "Swing traders"}
    assert activity["actor"] == {"id": owner.pk, "name": owner.get_short_name()}
    assert activity["data"]["user"]["id"] == member.pk


def test_the_room_feed_pages_newest_first(room: Room, owner: Any) -> None:
    for n in range(5):
        services.activity_record(room=room, actor=owner, verb="shared", data={"n": n})
    client = client_for(owner)
    url = f"/api/v1/rooms/{room.pk}/activity/"
    first = client.get(url, {"limit": 3}).json()
    assert [a["data"].get("n") for a in first["results"]] == [4, 3, 2]
    assert first["has_more"] is True
    rest = client.get(url, {"limit": 3, "before": first["results"][-1]["id"]}).json()
    assert [a["data"].get("n") for a in rest["results"]] == [1, 0, None]  # None: created
    assert rest["has_more"] is False


def test_my_feed_covers_the_rooms_i_am_in_now(owner: Any, instruments: Any) -> None:
    mine = services.room_create(by=owner, name="Mine")
    theirs = services.room_create(by=new_user(), name="Theirs")
    left = services.room_create(by=new_user(), name="Left", visibility=Visibility.DISCOVERABLE)
    services.room_join(room_id=left.pk, by=owner)
    services.room_leave(room_id=left.pk, by=owner)
    feed = client_for(owner).get("/api/v1/rooms/activity/").json()["results"]
    assert {a["room"]["id"] for a in feed} == {mine.pk}
    assert theirs.pk not in {a["room"]["id"] for a in feed}


def test_outsiders_cannot_read_a_rooms_feed(room: Room, outsider: Any) -> None:
    assert client_for(outsider).get(f"/api/v1/rooms/{room.pk}/activity/").status_code == 404


def test_the_feed_reads_in_a_constant_number_of_queries(
    room: Room, owner: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        services.activity_record(room=room, actor=new_user(), verb="shared", data={"n": n})
    client = client_for(owner)
    with django_assert_max_num_queries(2):  # membership, page (rooms and actors joined)
        client.get(f"/api/v1/rooms/{room.pk}/activity/")
