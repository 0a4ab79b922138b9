"""Real-browser tests of a room against a real WebSocket server (`ws_server`): two people
(two browser contexts) chat live, see each other's presence and typing, a `$RELIANCE` chip
follows ticks, older messages load on scroll-up, "jump to first unread", a moderator deletes
a message for everyone, and the phone layout's tabs. Assertions are on what a user sees."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Dialog, Locator, Page, expect

from apps.accounts.models import User
from apps.market import ingest
from apps.market.models import DataSource
from apps.realtime.quotes import quotes_publish
from apps.rooms import services
from apps.rooms.models import Message, Room, RoomMember, Visibility
from apps.watchlists import services as watchlist_services
from tests.browser.helpers import as_server, sign_in, verified_user
from tests.browser.helpers import simulated_quote as quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Bank-Nifty-48k-2026!"


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _user(email: str, name: str) -> User:
    return verified_user(email, PASSWORD, display_name=name)



def _room(owner: User, *members: User, symbols: tuple[str, ...] = ("RELIANCE",)) -> Room:
    """A discoverable room of `owner` that `members` joined, its watchlist holding `symbols`."""
    room = as_server(
        services.room_create,
        by=owner, name="Swing traders", description="Daily setups",
        visibility=Visibility.DISCOVERABLE,
    )  # fmt: skip
    for member in members:
        as_server(services.room_join, room_id=room.pk, by=member)
    for symbol in symbols:
        as_server(
            watchlist_services.watchlist_item_add,
            watchlist_id=room.watchlist_id, symbol=symbol, by=owner,
        )  # fmt: skip
    return room


def _open_room(page: Page, base: str, user: User, room: Room) -> Locator:
    """Sign in, open the room and wait until its subscription's snapshot arrived."""
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/rooms/{room.pk}/")
    root = page.locator("[data-room-page]")
    expect(root).to_have_attribute("data-room-state", "live")
    return root


def _message(page: Page, text: str) -> Locator:
    return page.locator("[data-messages] > .room-msg").filter(has_text=text)


def _body(page: Page, text: str) -> Locator:
    """The body of the message whose text is exactly `text`."""
    return page.locator("[data-messages] [data-body]").filter(
        has_text=re.compile(rf"^{re.escape(text)}$")
    )


def _no_horizontal_overflow(page: Page, what: str) -> None:
    scroll_width, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert client_width == 375
    assert scroll_width <= 375, f"{what} is {scroll_width}px wide"


def _accept_confirm(page: Page, button: Locator) -> str:
    shown: list[str] = []

    def answer(dialog: Dialog) -> None:
        shown.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    button.click()
    assert shown, "no confirmation was asked"
    return shown[0]


def test_two_members_chat_live_with_presence_typing_and_a_live_price_chip(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    asha = _user("asha.rao@example.in", "Asha")
    vikram = _user("vikram.shah@example.in", "Vikram")
    room = _room(asha, vikram)
    ingest.quotes_ingest(batch=[quote("RELIANCE", "2951.20", "2900")], source=DataSource.SIMULATED)

    _open_room(second_page, base, vikram, room)
    second_page.evaluate("() => { window.__sameDocument = true; }")
    _open_room(page, base, asha, room)

    # Vikram sees Asha arrive, with the chart she has open (the watchlist's first symbol).
    asha_online = second_page.locator(f'[data-presence] [data-user-id="{asha.pk}"]')
    expect(asha_online).to_contain_text("Asha", timeout=10_000)
    expect(asha_online).to_contain_text("viewing RELIANCE 15m", timeout=10_000)
    expect(page.locator(f'[data-presence] [data-user-id="{vikram.pk}"]')).to_contain_text(
        "Vikram", timeout=10_000
    )
    # Two tabs of one person show once.
    expect(second_page.locator(f'[data-presence] [data-user-id="{asha.pk}"]')).to_have_count(1)

    # Asha types: Vikram sees it.
    composer = page.get_by_role("combobox", name="Message")
    composer.press_sequentially("Watching $RELIANCE above 2,950", delay=20)
    typing = second_page.locator("[data-typing]")
    expect(typing).to_have_text("Asha is typing…", timeout=5_000)

    # Enter sends; the message reaches Vikram without a reload, and the typing line goes.
    composer.press("Enter")
    expect(composer).to_have_value("")
    received = _message(second_page, "Watching")
    expect(received).to_be_visible(timeout=5_000)
    expect(received.locator("[data-body]")).to_have_text(
        "Watching $RELIANCE ₹2,951.20 ▲ +1.77% above 2,950"
    )
    expect(typing).to_have_text("")
    assert Message.objects.get(room=room).body == "Watching $RELIANCE above 2,950"

    # The chip shows the price and follows ticks, on both pages.
    chips = [p.locator('[data-messages] [data-chip="NSE:RELIANCE"]') for p in (page, second_page)]
    for chip in chips:
        expect(chip.locator("[data-chip-price]")).to_have_text("₹2,951.20")
        expect(chip).to_have_attribute("href", "/markets/RELIANCE/")
    for p in (page, second_page):
        expect(p.locator("[data-room-page]")).to_have_attribute(
            "data-quotes", re.compile(r"(^| )NSE:RELIANCE( |$)")
        )
    tick = quote("RELIANCE", "2999.95", "2900")
    ingest.quotes_ingest(batch=[tick], source=DataSource.SIMULATED)
    quotes_publish([tick])
    for chip in chips:
        expect(chip.locator("[data-chip-price]")).to_have_text("₹2,999.95", timeout=5_000)
        expect(chip).to_have_class(re.compile(r"\bprice-up\b"))
    # The watchlist table follows the same tick.
    row = second_page.locator('[data-watchlist-body] tr[data-key="NSE:RELIANCE"]')
    expect(row.locator('[data-field="price"]')).to_have_text("₹2,999.95")

    # Vikram answers in a thread under Asha's message; Asha sees the reply count.
    received.get_by_role("button", name="Reply").click()
    reply = received.get_by_role("textbox", name="Reply in thread…")
    reply.fill("Agreed, stop at 2,900")
    reply.press("Enter")
    expect(received.locator(".room-replies")).to_contain_text("Agreed, stop at 2,900")
    expect(_message(page, "Watching").locator("[data-thread-toggle]")).to_have_text(
        "1 reply", timeout=5_000
    )
    # And reacts: both see the count.
    own = received.locator(":scope > .room-msg-main")  # not the reply's
    own.get_by_role("button", name="React", exact=True).click()
    own.get_by_role("button", name="React with 👍").click()
    expect(_message(page, "Watching").locator('[data-emoji="👍"]')).to_have_text(
        "👍 1", timeout=5_000
    )
    # Both have seen everything: nothing is left unread.
    for p in (page, second_page):
        expect(p.locator("[data-room-page]")).to_have_attribute("data-unread", "0")
        expect(p.locator("[data-jump-unread]")).to_be_hidden()
    assert second_page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    screenshot(page, "room-desktop")


def test_older_messages_load_on_scroll_up_and_jump_to_first_unread(
    live_server: Any, ws_server: str, page: Page, second_page: Page
) -> None:
    base = live_server.url
    asha = _user("meera.iyer@example.in", "Meera")
    vikram = _user("arjun.nair@example.in", "Arjun")
    room = _room(asha, vikram)
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            room=room, author=asha, body=f"Setup number {n}",
            created_at=now - timedelta(minutes=70 - n),
        )
        for n in range(70)
    )  # fmt: skip
    ids = list(Message.objects.filter(room=room).order_by("id").values_list("id", flat=True))

    root = _open_room(page, base, asha, room)
    messages = page.locator("[data-messages] > .room-msg")
    expect(messages).to_have_count(50)
    expect(messages.last).to_contain_text("Setup number 69")
    expect(messages.last).to_be_in_viewport()

    # Scrolled to the top, the page before loads and the reader keeps their place.
    page.locator("[data-scroll]").evaluate("(box) => { box.scrollTop = 0; }")
    expect(messages).to_have_count(70)
    expect(root).to_have_attribute("data-older-loads", "1")
    expect(messages.first).to_contain_text("Setup number 0")
    expect(_body(page, "Setup number 20")).to_be_in_viewport()
    expect(page.get_by_text("This is the beginning of the room.")).to_be_attached()
    # A notification's link to one message scrolls to it (and marks it).
    page.goto(f"{base}/rooms/{room.pk}/#message-{ids[60]}")
    expect(page.locator(f"#message-{ids[60]}")).to_be_in_viewport()
    page.goto(f"{base}/rooms/{room.pk}/#message-{ids[1]}")
    expect(_body(page, "Setup number 1")).to_be_in_viewport()

    # Arjun has read up to message 4: 65 unread, the first not among the last 50.
    RoomMember.objects.filter(room=room, user=vikram).update(last_read_message_id=ids[4])
    other = _open_room(second_page, base, vikram, room)
    jump = second_page.get_by_role("button", name="Jump to first unread (65)")
    expect(jump).to_be_visible()
    jump.click()
    divider = second_page.locator("[data-unread-divider]")
    expect(divider).to_have_text("New messages")
    expect(divider).to_be_in_viewport()
    expect(_body(second_page, "Setup number 5")).to_be_in_viewport()
    # What was on screen is marked read, on the server too.
    expect(other).not_to_have_attribute("data-unread", "65", timeout=5_000)
    member = RoomMember.objects.get(room=room, user=vikram)
    assert member.last_read_message_id is not None
    assert member.last_read_message_id > ids[4]


def test_a_moderator_deletes_a_message_for_everyone(
    live_server: Any, ws_server: str, page: Page, second_page: Page
) -> None:
    base = live_server.url
    owner = _user("kavya.menon@example.in", "Kavya")
    member = _user("rohan.das@example.in", "Rohan")
    room = _room(owner, member)
    as_server(services.message_create, room=room, author=owner, body="Results on Friday")
    as_server(
        services.message_create, room=room, author=member, body="Buy this penny stock now!!!"
    )

    _open_room(page, base, owner, room)
    _open_room(second_page, base, member, room)
    spam_for_owner = _message(page, "penny stock")
    spam_for_member = _message(second_page, "penny stock")
    # A member may delete only their own messages; the owner any.
    expect(
        _message(second_page, "Results on Friday").get_by_role("button", name="Delete")
    ).to_have_count(0)
    expect(spam_for_member.get_by_role("button", name="Delete")).to_have_count(1)

    asked = _accept_confirm(page, spam_for_owner.get_by_role("button", name="Delete"))
    assert asked.startswith("Delete this message?")

    deleted = re.compile("Message deleted", re.IGNORECASE)
    placeholder = page.locator("[data-messages] [data-deleted-text]")
    expect(placeholder).to_have_text(deleted)
    expect(second_page.locator("[data-messages] [data-deleted-text]")).to_have_text(
        deleted, timeout=5_000
    )
    expect(_message(second_page, "penny stock")).to_have_count(0)
    expect(_message(second_page, "Results on Friday")).to_be_visible()
    message = Message.objects.get(room=room, author=member)
    assert message.deleted_at is not None
    assert message.deleted_by == owner
    # Still deleted after a reload (the database is the record).
    second_page.reload()
    expect(second_page.locator("[data-messages] [data-deleted-text]")).to_have_text(deleted)
    expect(second_page.locator("[data-room-page]")).to_have_attribute("data-room-state", "live")

    # The owner removes the member: their open page says so and stops taking messages.
    people = page.locator(f'[data-members] [data-user-id="{member.pk}"]')
    asked = _accept_confirm(page, people.get_by_role("button", name="Remove"))
    assert asked == "Remove Rohan from the room?"
    expect(people).to_have_count(0)
    expect(second_page.get_by_role("alert").filter(has_text="no longer a member")).to_be_visible(
        timeout=5_000
    )
    expect(second_page.get_by_role("combobox", name="Message")).to_be_disabled()
    as_server(services.message_create, room=room, author=owner, body="Members only from now")
    expect(_message(page, "Members only from now")).to_be_visible()
    second_page.wait_for_timeout(500)
    expect(_message(second_page, "Members only from now")).to_have_count(0)


def test_the_phone_layout_is_tabs_without_horizontal_overflow(
    live_server: Any, ws_server: str, phone_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("sneha.pillai@example.in", "Sneha Pillai-Krishnamurthy")
    room = _room(owner, symbols=("RELIANCE", "BAJFINANCE", "TCS"))
    ingest.quotes_ingest(batch=[quote("RELIANCE", "2951.20", "2900")], source=DataSource.SIMULATED)
    as_server(
        services.message_create, room=room, author=owner,
        body="A long line without spaces: https://example.com/" + "x" * 120 + " and $RELIANCE",
    )  # fmt: skip

    _open_room(phone_page, base, owner, room)
    tabs = phone_page.get_by_role("tablist", name="Room")
    expect(tabs.get_by_role("tab", name="Chat")).to_have_attribute("aria-selected", "true")
    expect(_message(phone_page, "A long line")).to_be_visible()
    expect(phone_page.locator('[data-panel="watchlist"]')).to_be_hidden()
    _no_horizontal_overflow(phone_page, "the chat tab")
    screenshot(phone_page, "room-phone-chat")

    tabs.get_by_role("tab", name="Watchlist").click()
    expect(phone_page.locator('[data-watchlist-body] tr[data-key="NSE:RELIANCE"]')).to_be_visible()
    expect(phone_page.locator('[data-panel="chat"]')).to_be_hidden()
    _no_horizontal_overflow(phone_page, "the watchlist tab")

    tabs.get_by_role("tab", name="Chart").click()
    chart = phone_page.locator("[data-chart]")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("data-symbol", "NSE:RELIANCE")
    expect(chart.locator("canvas").first).to_be_attached()
    _no_horizontal_overflow(phone_page, "the chart tab")

    tabs.get_by_role("tab", name="People").click()
    expect(phone_page.locator(f'[data-presence] [data-user-id="{owner.pk}"]')).to_be_visible()
    expect(phone_page.locator("[data-members]")).to_contain_text("Owner")
    _no_horizontal_overflow(phone_page, "the people tab")

    tabs.get_by_role("tab", name="Activity").click()
    expect(phone_page.locator("[data-activity]")).to_contain_text("created the room")
    _no_horizontal_overflow(phone_page, "the activity tab")

    tabs.get_by_role("tab", name="Chat").click()
    expect(_message(phone_page, "A long line")).to_be_in_viewport()
    screenshot(phone_page, "room-phone")

    # The room list and an invite link's page fit too.
    phone_page.goto(f"{base}/rooms/")
    expect(phone_page.locator(f'[data-room-list] [data-room-id="{room.pk}"]')).to_be_visible()
    _no_horizontal_overflow(phone_page, "the room list")
    link = as_server(services.room_invite_link_create, room_id=room.pk, by=owner, max_uses=None)
    phone_page.goto(f"{base}/rooms/join/{link.token}/")
    expect(phone_page.get_by_text("You are already a member of this room.")).to_be_visible()
    _no_horizontal_overflow(phone_page, "the invite page")


def _alert(owner: User) -> int:
    """One alert rule of `owner`, made through the API as the alerts page would."""
    from rest_framework.test import APIClient

    def create() -> int:
        client = APIClient()
        client.force_authenticate(owner)
        response = client.post(
            "/api/v1/alerts/",
            {
                "name": "RELIANCE breakout",
                "symbol": "RELIANCE",
                "conditions": [{"type": "price_above", "value": 3000}],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        return int(response.json()["id"])

    return as_server(create)


def test_mentions_edits_and_shared_cards(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    asha = _user("ishita.bose@example.in", "Ishita")
    vikram = _user("farhan.ali@example.in", "Farhan")
    room = _room(asha, vikram)
    _alert(asha)
    _open_room(page, base, asha, room)
    _open_room(second_page, base, vikram, room)

    # @mention from the member list, picked with the keyboard.
    composer = page.get_by_role("combobox", name="Message")
    composer.press_sequentially("@Fa")
    expect(page.get_by_role("option", name="Farhan")).to_be_visible()
    composer.press("Enter")
    expect(composer).to_have_value("@Farhan ")
    composer.press_sequentially("results are out")
    composer.press("Enter")
    mention = _message(second_page, "results are out").locator(".room-mention")
    expect(mention).to_have_text("@Farhan", timeout=5_000)
    expect(mention).to_have_class(re.compile(r"\broom-mention-me\b"))

    # The author edits it; the reader sees the new text, marked as edited.
    mine = page.locator(f"#{_message(page, 'results are out').get_attribute('id')}")
    mine.get_by_role("button", name="Edit").click()
    editor = mine.get_by_role("textbox", name="Edit")
    editor.fill("@Farhan results are out, margins up")
    editor.press("Enter")
    theirs = _message(second_page, "margins up")
    expect(theirs).to_contain_text("(edited)", timeout=5_000)

    # The chart being looked at, shared as a card that links to the instrument page.
    page.get_by_role("button", name="Share…").click()
    dialog = page.get_by_role("dialog", name="Share into the room")
    expect(dialog.get_by_text("RELIANCE · 15m, with your 0 saved drawings")).to_be_visible()
    dialog.get_by_label("Comment (optional)").fill("Look at this base")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog).to_be_hidden()
    card = second_page.locator('[data-messages] [data-share="chart"]')
    expect(card).to_contain_text("Chart: RELIANCE · 15m", timeout=5_000)
    expect(card.get_by_role("link", name="Open chart")).to_have_attribute(
        "href", "/markets/RELIANCE/?tf=15m"
    )

    # An alert, shared and copied by the other member.
    page.get_by_role("button", name="Share…").click()
    dialog.get_by_label("One of my alerts").check()
    expect(dialog.get_by_label("Alert", exact=True)).to_have_value(re.compile(r"^\d+$"))
    dialog.get_by_role("button", name="Share", exact=True).click()
    alert_card = second_page.locator('[data-messages] [data-share="alert"]')
    expect(alert_card).to_contain_text("Alert: RELIANCE breakout", timeout=5_000)
    alert_card.get_by_role("button", name="Copy to my alerts").click()
    expect(alert_card).to_contain_text("Copied to your alerts.")
    from apps.alerts.models import AlertRule

    assert AlertRule.objects.filter(user=vikram, name="RELIANCE breakout").count() == 1
    # Shares show in the activity feed, live.
    expect(second_page.locator("[data-activity]")).to_contain_text(
        "Ishita shared “RELIANCE breakout”"
    )
    expect(second_page.locator("[data-room-page]")).to_have_attribute("data-unread", "0")
    screenshot(second_page, "room-cards")


def test_the_room_list_creates_discovers_joins_and_counts_unread(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("nisha.kapoor@example.in", "Nisha")
    joiner = _user("dev.menon@example.in", "Dev")
    sign_in(page, base, owner.email, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Rooms").click()
    page.wait_for_url(f"{base}/rooms/")
    expect(page.get_by_text("You are not in any room yet.")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Pharma desk")
    page.get_by_label("Description (optional)").fill("Generics and APIs")
    page.get_by_label("Who can join").select_option("discoverable")
    page.get_by_role("button", name="Create room").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/rooms/\d+/$"))
    room = Room.objects.get(owner=owner)
    assert (room.name, room.visibility, room.watchlist is not None) == (
        "Pharma desk", "discoverable", True,
    )  # fmt: skip
    expect(page.get_by_role("heading", name="Pharma desk", exact=True)).to_be_visible()

    # Someone else finds it, joins, and lands in it.
    sign_in(second_page, base, joiner.email, PASSWORD)
    second_page.goto(f"{base}/rooms/")
    found = second_page.locator(f'[data-discover-list] [data-room-id="{room.pk}"]')
    expect(found).to_contain_text("Pharma desk")
    found.get_by_role("button", name="Join").click()
    second_page.wait_for_url(f"{base}/rooms/{room.pk}/")
    expect(second_page.locator("[data-room-page]")).to_have_attribute("data-room-state", "live")

    # The owner's list shows the new message as unread, with its preview.
    page.goto(f"{base}/rooms/")
    item = page.locator(f'[data-room-list] [data-room-id="{room.pk}"]')
    expect(item).to_be_visible()
    expect(item.locator("[data-unread]")).to_have_count(0)
    composer = second_page.get_by_role("combobox", name="Message")
    composer.fill("Sun Pharma results at 4")
    composer.press("Enter")
    expect(composer).to_have_value("")
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    expect(item.locator("[data-unread]")).to_have_text("1 unread", timeout=5_000)
    expect(item.locator("[data-preview]")).to_have_text("Dev: Sun Pharma results at 4")
    screenshot(page, "rooms-list")


def test_the_composer_refuses_too_long_and_too_fast_messages(
    live_server: Any, ws_server: str, page: Page
) -> None:
    base = live_server.url
    owner = _user("tara.joshi@example.in", "Tara")
    room = _room(owner)
    _open_room(page, base, owner, room)
    composer = page.get_by_role("combobox", name="Message")
    send = page.locator("[data-send]")
    error = page.locator("[data-composer-error]")

    # Too long: counted as typed, refused before sending, nothing lost.
    composer.fill("x" * 4001)
    expect(page.locator("[data-counter]")).to_have_text("4,001 / 4,000")
    expect(error).to_have_text("A message has at most 4,000 characters; this one has 4,001.")
    expect(send).to_be_disabled()
    composer.press("Enter")
    expect(composer).to_have_value("x" * 4001)
    composer.fill("Fine now")
    expect(error).to_be_hidden()
    composer.press("Enter")
    expect(_message(page, "Fine now")).to_be_visible()

    # Too fast: the server's flood limit is shown with the time to wait, the text kept.
    settled = """() => document.querySelector("#room-body").value === ""
        || !document.querySelector("[data-composer-error]").hidden"""
    for n in range(30):
        composer.fill(f"Tick {n}")
        composer.press("Enter")
        page.wait_for_function(settled)
        if error.is_visible():
            break
    expect(error).to_contain_text("You are sending messages too fast. Wait")
    expect(send).to_have_text(re.compile(r"^Wait \d+ s$"))
    expect(send).to_be_disabled()
    expect(composer).to_have_value(f"Tick {n}")
    # Once the wait is over, the same text goes.
    expect(send).to_have_text("Send", timeout=10_000)
    expect(error).to_be_hidden()
    composer.press("Enter")
    expect(composer).to_have_value("")
    expect(_body(page, f"Tick {n}")).to_be_visible()
    assert Message.objects.filter(room=room, body__startswith="Tick").count() == n + 1


def test_an_invitation_from_the_people_panel_is_accepted_on_the_room_list(
    live_server: Any, ws_server: str, page: Page, second_page: Page
) -> None:
    base = live_server.url
    owner = _user("leela.nair@example.in", "Leela")
    guest = _user("omar.sheikh@example.in", "Omar")
    room = _room(owner)
    _open_room(page, base, owner, room)

    panel = page.locator('[data-panel="people"]')
    panel.get_by_label("E-mail address or display name").fill("OMAR.SHEIKH@example.in")
    panel.get_by_role("button", name="Invite", exact=True).click()
    expect(panel.locator("[data-pending]")).to_contain_text("Omar")
    # An invite link, too, ready to copy.
    panel.get_by_role("button", name="Create invite link").click()
    link = panel.locator('[data-links] [data-state="active"] input')
    expect(link).to_have_value(re.compile(rf"^{re.escape(base)}/rooms/join/[\w-]+/$"))

    sign_in(second_page, base, guest.email, PASSWORD)
    second_page.goto(f"{base}/rooms/")
    invitation = second_page.get_by_role("region", name="Invitations").get_by_role("listitem")
    expect(invitation).to_contain_text("Leela invited you to “Swing traders”.")
    invitation.get_by_role("button", name="Accept").click()
    second_page.wait_for_url(f"{base}/rooms/{room.pk}/")
    expect(second_page.locator("[data-room-page]")).to_have_attribute("data-room-state", "live")
    # The owner's page follows: a new member, no pending invitation.
    expect(page.locator(f'[data-members] [data-user-id="{guest.pk}"]')).to_contain_text(
        "Member", timeout=5_000
    )
    expect(panel.locator("[data-pending]")).to_contain_text("No pending invitations.")
