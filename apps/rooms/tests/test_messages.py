"""Messages: validation, plain-text storage, mentions, $SYMBOLs, idempotency, the flood limit,
replies, edits, soft deletes, reactions, unread counts, history pages and shared cards."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.alerts.models import AlertRule
from apps.notifications.models import Notification
from apps.portfolios import services as portfolio_services
from apps.portfolios.tests.conftest import quote_set, tx_add
from apps.realtime.events import room_group
from apps.rooms import selectors, services
from apps.rooms.models import MAX_MESSAGE_LENGTH, Message, Room, RoomMember

from .conftest import add_member, client_for, new_room, new_user, types

pytestmark = pytest.mark.django_db


def _post(room: Room, user: Any, body: Any = "hello", **extra: Any) -> Any:
    return client_for(user).post(f"/api/v1/rooms/{room.pk}/messages/", {"body": body, **extra})


def _body_error(response: Any) -> list[str]:
    assert response.status_code == 400, response.content
    return list(response.json()["error"]["fields"]["body"])


# --- validation and storage ---------------------------------------------------------------------


def test_a_message_is_stored_then_published_to_the_room(
    room: Room, member: Any, capture: Any
) -> None:
    response, events = capture([room_group(room.pk)], lambda: _post(room, member, "Nifty at ATH"))
    assert response.status_code == 201, response.content
    body = response.json()
    stored = Message.objects.get(pk=body["id"])
    assert stored.body == "Nifty at ATH"
    assert body["author"] == {"id": member.pk, "name": member.get_short_name()}
    assert set(body) == {
        "id",
        "room",
        "author",
        "kind",
        "body",
        "share",
        "parent",
        "reply_count",
        "mentions",
        "symbols",
        "links",
        "reactions",
        "created_at",
        "edited_at",
        "deleted",
        "deleted_by",
    }
    assert events[room_group(room.pk)] == [
        {
            "type": "room.message",
            "client_id": "",
            "message": selectors.message_data(stored),
        }
    ]


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n", "\x00\x07"])
def test_an_empty_message_is_refused(room: Room, member: Any, body: str) -> None:
    assert _body_error(_post(room, member, body)) == ["Write something: the message is empty."]
    assert not Message.objects.exists()


def test_a_message_over_4000_characters_is_refused_and_4000_is_fine(
    room: Room, member: Any
) -> None:
    assert _body_error(_post(room, member, "a" * (MAX_MESSAGE_LENGTH + 1))) == [
        "A message has at most 4000 characters; this one has 4001."
    ]
    assert _post(room, member, "a" * MAX_MESSAGE_LENGTH).status_code == 201
    # Whitespace around the text does not count.
    assert _post(room, member, "  " + "b" * MAX_MESSAGE_LENGTH + "\n ").status_code == 201


def test_control_characters_are_removed_and_newlines_kept(room: Room, member: Any) -> None:
    response = _post(room, member, "buy\x00 the\x1b[31m dip\r\nnow\u202e!\ttab")
    assert response.json()["body"] == "buy the[31m dip\nnow!\ttab"


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "5 < 6 && 7 > 3 \"quoted\" 'single' &amp;",
    ],
)
def test_html_is_stored_and_returned_verbatim_as_text(room: Room, member: Any, html: str) -> None:
    response = _post(room, member, html)
    assert response.status_code == 201
    assert response.json()["body"] == html
    assert Message.objects.get(pk=response.json()["id"]).body == html
    listed = client_for(member).get(f"/api/v1/rooms/{room.pk}/messages/").json()["results"]
    assert listed[0]["body"] == html
    assert response.json()["links"] == []


def test_only_http_links_are_listed_as_links(room: Room, member: Any) -> None:
    response = _post(
        room,
        member,
        "see https://nseindia.com/get-quotes?symbol=TCS. and javascript:alert(1) or "
        "data:text/html,x or (http://example.com/a)",
    )
    assert response.json()["links"] == [
        "https://nseindia.com/get-quotes?symbol=TCS",
        "http://example.com/a",
    ]


def test_a_non_member_cannot_post(room: Room, outsider: Any) -> None:
    assert _post(room, outsider).status_code == 404
    with pytest.raises(services.RoomNotFound):
        services.message_create(room=room, author=outsider, body="sneaky")


# --- mentions and symbols -----------------------------------------------------------------------


def test_mentions_resolve_members_by_name_or_email_and_notify_them(
    room: Room, owner: Any, moderator: Any, member: Any
) -> None:
    quiet = add_member(room, email="quiet.one@example.com", display_name="")
    stranger = new_user(display_name="Stranger")
    response = _post(
        room,
        owner,
        f"@meera iyer and @Arjun Rao, @QUIET.ONE: results today. @Stranger @{owner.display_name}",
    )
    body = response.json()
    assert [m["id"] for m in body["mentions"]] == [moderator.pk, member.pk, quiet.pk]
    assert body["mentions"][2]["name"] == "quiet.one"
    notified = Notification.objects.filter(source="rooms").values_list("user_id", flat=True)
    assert sorted(notified) == sorted([moderator.pk, member.pk, quiet.pk])
    notification = Notification.objects.get(user=member, source="rooms")
    assert notification.priority == "normal"
    assert "results today" in notification.body
    assert notification.data == {
        "room": room.pk,
        "message": body["id"],
        "url": f"/rooms/{room.pk}/#message-{body['id']}",
    }
    assert f"/rooms/{room.pk}/" in notification.body
    assert not Notification.objects.filter(user__in=[owner, stranger], source="rooms").exists()


def test_a_name_two_members_share_mentions_nobody(room: Room, owner: Any) -> None:
    add_member(room, display_name="Ravi")
    add_member(room, display_name="ravi")
    assert _post(room, owner, "@Ravi look").json()["mentions"] == []


def test_an_email_address_in_the_text_is_not_a_mention(room: Room, owner: Any) -> None:
    add_member(room, email="desk@example.com", display_name="Desk")
    assert _post(room, owner, "write to ops@desk.com").json()["mentions"] == []


def test_dollar_symbols_resolve_to_known_instruments(
    room: Room, member: Any, instruments: Any
) -> None:
    response = _post(
        room,
        member,
        "$RELIANCE vs $nse:tcs and $BSE:SENSEX; $M&M too. Not $100, $NOSUCH or US$5. $RELIANCE",
    )
    assert response.json()["symbols"] == ["NSE:RELIANCE", "NSE:TCS", "BSE:SENSEX", "NSE:M&M"]


# --- idempotency and flooding -------------------------------------------------------------------


def test_a_repeated_client_id_returns_the_stored_message_without_a_second_row(
    room: Room, member: Any, capture: Any
) -> None:
    first = _post(room, member, "once", client_id="c-1")
    assert first.status_code == 201

    again, events = capture(
        [room_group(room.pk)], lambda: _post(room, member, "once (retry)", client_id="c-1")
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["body"] == "once"
    assert Message.objects.count() == 1
    assert events[room_group(room.pk)] == []
    # The same key from someone else is theirs.
    assert _post(room, add_member(room), "mine", client_id="c-1").status_code == 201


def test_flooding_is_refused_with_429_then_allowed_again(room: Room, member: Any) -> None:
    for n in range(10):  # the burst
        assert _post(room, member, f"spam {n}").status_code == 201
    refused = _post(room, member, "one more")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "throttled"
    assert refused.json()["error"]["message"] == (
        "You are sending messages too fast. Wait 1 s and try again."
    )
    assert Message.objects.count() == 10
    # Others are not held back, and the sender recovers a message a second.
    assert _post(room, add_member(room), "me too").status_code == 201
    time.sleep(1.05)
    assert _post(room, member, "calm now").status_code == 201


def test_the_flood_limit_counts_per_room(room: Room, owner: Any, instruments: Any) -> None:
    other = services.room_create(by=owner, name="Other")
    for n in range(10):
        services.message_create(room=room, author=owner, body=f"{n}")
    with pytest.raises(services.RoomRateLimited) as caught:
        services.message_create(room=room, author=owner, body="x")
    assert caught.value.retry_after == 1
    assert services.message_create(room=other, author=owner, body="fine")


# --- replies ------------------------------------------------------------------------------------


def test_replies_are_one_level_deep(room: Room, owner: Any, member: Any) -> None:
    top = _post(room, owner, "Top").json()
    reply = _post(room, member, "Reply", parent=top["id"]).json()
    nested = _post(room, owner, "Reply to reply", parent=reply["id"]).json()
    assert reply["parent"] == top["id"]
    assert nested["parent"] == top["id"]  # attached to the thread's top message
    thread = (
        client_for(member)
        .get(f"/api/v1/rooms/{room.pk}/messages/", {"parent": top["id"]})
        .json()["results"]
    )
    assert [m["body"] for m in thread] == ["Reply to reply", "Reply"]
    top_now = client_for(member).get(f"/api/v1/rooms/{room.pk}/messages/{top['id']}/").json()
    assert top_now["reply_count"] == 2


def test_a_reply_to_a_message_of_another_room_is_refused(room: Room, owner: Any) -> None:
    elsewhere = Message.objects.create(room=new_room(owner=owner), author=owner, body="x")
    response = _post(room, owner, "reply", parent=elsewhere.pk)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["parent"] == ["No such message in this room."]


# --- edits and deletes --------------------------------------------------------------------------


def test_the_author_edits_within_the_window(room: Room, member: Any, capture: Any) -> None:
    message = _post(room, member, "TCS results on Thursday").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/"
    response, events = capture(
        [room_group(room.pk)],
        lambda: client_for(member).patch(url, {"body": "TCS results on Friday, $TCS"}),
    )
    assert response.status_code == 200
    assert response.json()["body"] == "TCS results on Friday, $TCS"
    assert response.json()["edited_at"] is not None
    assert types(events[room_group(room.pk)]) == ["room.message_updated"]

    Message.objects.filter(pk=message["id"]).update(
        created_at=timezone.now() - services.MESSAGE_EDIT_WINDOW - timedelta(seconds=1)
    )
    late = client_for(member).patch(url, {"body": "too late"})
    assert _body_error(late) == ["Messages can be edited for 24 hours after sending."]


def test_only_the_author_edits(room: Room, owner: Any, member: Any) -> None:
    message = _post(room, member, "mine").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/"
    assert client_for(owner).patch(url, {"body": "owner's words"}).status_code == 403


def test_an_edit_notifies_only_newly_mentioned_members(
    room: Room, owner: Any, member: Any, moderator: Any
) -> None:
    message = _post(room, owner, "@Arjun Rao look").json()
    client_for(owner).patch(
        f"/api/v1/rooms/{room.pk}/messages/{message['id']}/",
        {"body": "@Arjun Rao and @Meera Iyer look"},
    )
    assert Notification.objects.filter(user=member, source="rooms").count() == 1
    assert Notification.objects.filter(user=moderator, source="rooms").count() == 1


def test_a_moderator_soft_deletes_a_members_message(
    room: Room, moderator: Any, member: Any, capture: Any
) -> None:
    message = _post(room, member, "spam link").json()
    client_for(moderator).post(
        f"/api/v1/rooms/{room.pk}/messages/{message['id']}/reactions/", {"emoji": "👎"}
    )
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/"
    response, events = capture([room_group(room.pk)], lambda: client_for(moderator).delete(url))
    assert response.status_code == 204
    stored = Message.objects.get(pk=message["id"])
    assert stored.deleted_by == moderator
    assert stored.body == ""
    shown = client_for(member).get(url).json()
    assert shown["deleted"] is True
    assert shown["body"] == ""
    assert shown["reactions"] == []
    assert shown["deleted_by"] == {"id": moderator.pk, "name": moderator.get_short_name()}
    [event] = events[room_group(room.pk)]
    assert event["type"] == "room.message_updated"
    assert event["message"]["deleted"] is True
    # Deleted messages take no edits, reactions or replies.
    assert client_for(member).patch(url, {"body": "back"}).status_code == 400
    assert _post(room, member, "reply", parent=message["id"]).status_code == 400


def test_a_member_cannot_delete_someone_elses_message(room: Room, owner: Any, member: Any) -> None:
    message = _post(room, owner, "owner's").json()
    response = client_for(member).delete(f"/api/v1/rooms/{room.pk}/messages/{message['id']}/")
    assert response.status_code == 403
    assert Message.objects.get(pk=message["id"]).deleted_at is None


def test_the_author_deletes_their_own_message(room: Room, member: Any) -> None:
    message = _post(room, member, "oops").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/"
    assert client_for(member).delete(url).status_code == 204
    assert client_for(member).delete(url).status_code == 204  # twice is fine


# --- reactions ----------------------------------------------------------------------------------


def test_reactions_toggle_and_count_per_emoji(
    room: Room, owner: Any, member: Any, capture: Any
) -> None:
    message = _post(room, owner, "Breakout!").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/reactions/"
    client_for(member).post(url, {"emoji": "🚀"})
    response, events = capture(
        [room_group(room.pk)], lambda: client_for(owner).post(url, {"emoji": "🚀"})
    )
    client_for(owner).post(url, {"emoji": "👍🏽"})
    assert response.json()["reactions"] == [
        {"emoji": "🚀", "count": 2, "mine": True, "users": [member.pk, owner.pk]},
    ]
    assert types(events[room_group(room.pk)]) == ["room.message_updated"]
    shown = client_for(member).get(f"/api/v1/rooms/{room.pk}/messages/{message['id']}/").json()
    assert shown["reactions"] == [
        {"emoji": "🚀", "count": 2, "mine": True, "users": [member.pk, owner.pk]},
        {"emoji": "👍🏽", "count": 1, "mine": False, "users": [owner.pk]},
    ]
    again = client_for(member).post(url, {"emoji": "🚀"}).json()
    assert again["reactions"][0] == {"emoji": "🚀", "count": 1, "mine": False, "users": [owner.pk]}


@pytest.mark.parametrize("emoji", ["👍", "❤️", "🇮🇳", "👨‍👩‍👧", "1️⃣", "👍🏽"])
def test_single_emoji_are_accepted(room: Room, owner: Any, emoji: str) -> None:
    message = _post(room, owner, "x").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/reactions/"
    assert client_for(owner).post(url, {"emoji": emoji}).status_code == 200


@pytest.mark.parametrize("emoji", ["", "a", "👍👍", "<b>", "ok", "🇮", "x" * 40])
def test_anything_but_one_emoji_is_refused(room: Room, owner: Any, emoji: str) -> None:
    message = _post(room, owner, "x").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/reactions/"
    response = client_for(owner).post(url, {"emoji": emoji})
    assert response.status_code == 400
    if emoji:
        assert response.json()["error"]["fields"]["emoji"] == ["React with one emoji, e.g. 👍."]


# --- history, unread ----------------------------------------------------------------------------


def test_history_pages_backwards_and_catches_up_forwards(
    room: Room, owner: Any, member: Any, django_assert_max_num_queries: Any
) -> None:
    ids = [
        Message.objects.create(room=room, author=owner, body=f"m{n}", mentions=[member.pk]).pk
        for n in range(7)
    ]
    client = client_for(member)
    url = f"/api/v1/rooms/{room.pk}/messages/"
    with django_assert_max_num_queries(6):
        first = client.get(url, {"limit": 3}).json()
    assert [m["body"] for m in first["results"]] == ["m6", "m5", "m4"]
    assert first["has_more"] is True
    older = client.get(url, {"limit": 3, "before": first["results"][-1]["id"]}).json()
    assert [m["body"] for m in older["results"]] == ["m3", "m2", "m1"]
    oldest = client.get(url, {"limit": 3, "before": older["results"][-1]["id"]}).json()
    assert ([m["body"] for m in oldest["results"]], oldest["has_more"]) == (["m0"], False)
    newer = client.get(url, {"after": ids[3], "limit": 2}).json()
    assert ([m["body"] for m in newer["results"]], newer["has_more"]) == (["m4", "m5"], True)
    assert client.get(url, {"before": 1, "after": 2}).status_code == 400


def test_unread_counts_follow_the_read_mark_which_only_moves_forward(
    room: Room, owner: Any, member: Any
) -> None:
    ids = [services.message_create(room=room, author=owner, body=f"m{n}").pk for n in range(4)]
    services.message_create(room=room, author=member, body="my own: never unread")
    client = client_for(member)
    detail = client.get(f"/api/v1/rooms/{room.pk}/").json()
    assert (detail["unread_count"], detail["first_unread_id"]) == (4, ids[0])

    read = client.post(f"/api/v1/rooms/{room.pk}/read/", {"message_id": ids[1]}).json()
    assert read == {
        "room": room.pk,
        "last_read_message_id": ids[1],
        "unread_count": 2,
        "first_unread_id": ids[2],
    }
    back = client.post(f"/api/v1/rooms/{room.pk}/read/", {"message_id": ids[0]}).json()
    assert back["last_read_message_id"] == ids[1]
    services.message_delete(room=room, message_id=ids[3], by=owner)
    assert client.get("/api/v1/rooms/").json()["results"][0]["unread_count"] == 1


def test_marking_read_a_message_of_another_room_is_refused(room: Room, member: Any) -> None:
    other = Message.objects.create(room=new_room(), body="x")
    response = client_for(member).post(f"/api/v1/rooms/{room.pk}/read/", {"message_id": other.pk})
    assert response.status_code == 400


def test_the_snapshot_has_the_last_messages_oldest_first_and_the_unread_state(
    room: Room, owner: Any, member: Any
) -> None:
    for n in range(55):
        Message.objects.create(room=room, author=owner, body=f"m{n}")
    membership = RoomMember.objects.get(room=room, user=member)
    snapshot = selectors.room_snapshot(room=room, member=membership)
    assert len(snapshot["messages"]) == 50
    assert snapshot["messages"][0]["body"] == "m5"
    assert snapshot["messages"][-1]["body"] == "m54"
    assert snapshot["has_more"] is True
    assert snapshot["unread_count"] == 55
    assert snapshot["role"] == "member"
    assert snapshot["watchlist"] == room.watchlist_id
    assert snapshot["room"]["name"] == "Swing traders"


# --- shares -------------------------------------------------------------------------------------


def test_a_chart_share_is_validated_and_frozen(room: Room, member: Any, instruments: Any) -> None:
    share = {
        "type": "chart",
        "symbol": "reliance",
        "timeframe": "15m",
        "drawings": [
            {"kind": "hline", "points": [{"price": "2950.5"}], "color": "#FF0000"},
            {
                "kind": "trend",
                "points": [
                    {"time": 1717400000, "price": 2990},
                    {"time": 1717300000, "price": "2900"},
                ],
            },
        ],
    }
    response = _post(room, member, "Support here", share=share)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "share"
    assert body["share"] == {
        "type": "chart",
        "symbol": "NSE:RELIANCE",
        "name": "Reliance Industries Ltd.",
        "timeframe": "15m",
        "drawings": [
            {"kind": "hline", "points": [{"price": "2950.5"}], "color": "#ff0000"},
            {
                "kind": "trend",
                "points": [
                    {"time": 1717300000, "price": "2900"},
                    {"time": 1717400000, "price": "2990"},
                ],
                "color": "",
            },
        ],
    }
    assert body["symbols"] == ["NSE:RELIANCE"]


@pytest.mark.parametrize(
    ("share", "field"),
    [
        ({"type": "chart", "symbol": "NOSUCH", "timeframe": "15m"}, "share.symbol"),
        ({"type": "chart", "symbol": "TCS", "timeframe": "2m"}, "share.timeframe"),
        (
            {"type": "chart", "symbol": "TCS", "timeframe": "1d", "drawings": [{"kind": "circle"}]},
            "share.drawings.0.kind",
        ),
        ({"type": "poll"}, "share"),
        ({"type": "alert", "alert_id": "x"}, "share.alert_id"),
        ({"type": "portfolio", "portfolio_id": 10**6}, "share.portfolio_id"),
    ],
)
def test_a_bad_share_is_refused_on_its_field(
    room: Room, member: Any, instruments: Any, share: Any, field: str
) -> None:
    response = _post(room, member, "", share=share)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Message.objects.exists()


def test_an_alert_share_can_be_copied_by_another_member(
    room: Room, owner: Any, member: Any, instruments: Any
) -> None:
    created = (
        client_for(owner)
        .post(
            "/api/v1/alerts/",
            {
                "name": "RELIANCE breakout",
                "symbol": "RELIANCE",
                "conditions": [{"type": "price_above", "value": 3000}],
                "channels": ["email", "sms"],
                "message": "private note {price}",
            },
            format="json",
        )
        .json()
    )
    message = _post(room, owner, "My alert", share={"type": "alert", "alert_id": created["id"]})
    card = message.json()["share"]
    assert card == {
        "type": "alert",
        "alert_id": created["id"],
        "name": "RELIANCE breakout",
        "symbol": "NSE:RELIANCE",
        "watchlist": None,
        "conditions": [{"type": "price_above", "value": "3000.0000"}],
        "combine": "all",
        "trigger_mode": "once",
        "bar_timeframe": "",
        "cooldown_seconds": 0,
    }

    url = f"/api/v1/rooms/{room.pk}/messages/{message.json()['id']}/copy-alert/"
    response = client_for(member).post(url)
    assert response.status_code == 201, response.content
    copy = AlertRule.objects.get(pk=response.json()["id"])
    assert copy.user == member
    assert copy.instrument == instruments["NSE:RELIANCE"]
    assert copy.conditions == [{"type": "price_above", "value": "3000.0000"}]
    assert copy.channels == ["websocket"]
    assert copy.message == ""
    assert AlertRule.objects.filter(user=owner).count() == 1


def test_only_ones_own_alert_can_be_shared(room: Room, owner: Any, member: Any) -> None:
    theirs = (
        client_for(owner)
        .post(
            "/api/v1/alerts/",
            {
                "symbol": "TCS",
                "conditions": [{"type": "price_above", "value": 10}],
            },
            format="json",
        )
        .json()
    )
    response = _post(room, member, "", share={"type": "alert", "alert_id": theirs["id"]})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["share.alert_id"] == ["Share one of your own alerts."]


def test_copy_alert_needs_an_alert_card(room: Room, owner: Any, member: Any) -> None:
    message = _post(room, owner, "plain").json()
    url = f"/api/v1/rooms/{room.pk}/messages/{message['id']}/copy-alert/"
    assert client_for(member).post(url).status_code == 400


def test_a_portfolio_share_shows_only_weights_and_the_chosen_fields(
    room: Room, owner: Any, instruments: Any
) -> None:
    portfolio = portfolio_services.portfolio_create(owner=owner, name="Core")
    tx_add(portfolio, "deposit", date(2024, 1, 1), amount="100000")
    tx_add(portfolio, "buy", date(2024, 1, 2), instruments["NSE:TCS"], quantity="10", price="3000")
    tx_add(
        portfolio, "buy", date(2024, 1, 2), instruments["NSE:RELIANCE"], quantity="10", price="1000"
    )
    quote_set(instruments["NSE:TCS"], "3000", "3000")
    quote_set(instruments["NSE:RELIANCE"], "1000", "1000")

    response = _post(
        room,
        owner,
        "My mix",
        share={
            "type": "portfolio",
            "portfolio_id": portfolio.pk,
            "fields": ["profit_loss_percent"],
        },
    )
    assert response.status_code == 201, response.content
    card = response.json()["share"]
    assert set(card) == {"type", "allocation", "fields"}
    assert card["fields"] == {"profit_loss_percent": "0.00"}
    assert card["allocation"]["instrument"] == [
        {"key": "NSE:TCS", "label": "TCS", "weight": "0.7500"},
        {"key": "NSE:RELIANCE", "label": "RELIANCE", "weight": "0.2500"},
    ]
    assert card["allocation"]["sector"] == [
        {"key": "Information Technology", "label": "Information Technology", "weight": "0.7500"},
        {
            "key": "Oil Gas & Consumable Fuels",
            "label": "Oil Gas & Consumable Fuels",
            "weight": "0.2500",
        },
    ]
    text = str(card)
    for secret in ("30000", "10000", "100000", "3000", "Core", "quantity"):
        assert secret not in text
    assert Decimal(card["allocation"]["instrument"][0]["weight"]) == Decimal("0.75")


def test_only_known_portfolio_fields_can_be_shared(
    room: Room, owner: Any, instruments: Any
) -> None:
    portfolio = portfolio_services.portfolio_create(owner=owner, name="Core")
    response = _post(
        room,
        owner,
        "",
        share={
            "type": "portfolio",
            "portfolio_id": portfolio.pk,
            "fields": ["cash"],
        },
    )
    assert response.status_code == 400
    assert "share.fields" in response.json()["error"]["fields"]


def test_someone_elses_portfolio_cannot_be_shared(
    room: Room, owner: Any, member: Any, instruments: Any
) -> None:
    portfolio = portfolio_services.portfolio_create(owner=owner, name="Core")
    response = _post(room, member, "", share={"type": "portfolio", "portfolio_id": portfolio.pk})
    assert response.status_code == 400


def test_a_watchlist_share_lists_its_instruments_not_its_notes(
    room: Room, owner: Any, instruments: Any
) -> None:
    from apps.watchlists import services as watchlist_services

    assert room.watchlist_id is not None
    watchlist_services.watchlist_item_add(
        watchlist_id=room.watchlist_id, symbol="INFY", note="buy below 1400", by=owner
    )
    response = _post(
        room, owner, "", share={"type": "watchlist", "watchlist_id": room.watchlist_id}
    )
    assert response.status_code == 201
    assert response.json()["share"] == {
        "type": "watchlist",
        "watchlist_id": room.watchlist_id,
        "name": "Swing traders",
        "items": [{"symbol": "NSE:INFY", "name": "Infosys Ltd."}],
    }
    assert response.json()["body"] == ""
