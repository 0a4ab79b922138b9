"""XSS in a real browser: messages carrying a script, an `onerror` attribute or a
`javascript:` link are shown as the text that was typed — live (sent from one page, received
on another) and after a reload (from the snapshot) — and nothing runs, even when clicked.
Only the http(s) URLs the server lists in `links` become anchors, opened safely."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.market import ingest
from apps.rooms import services
from apps.rooms.models import Message, Room, Visibility
from tests.browser.helpers import as_server, sign_in, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Midcap-Select-2026!"

SCRIPT = "<script>window.__xss=1</script>"
ONERROR = '<img src=x onerror="window.__xss=1">'
MARKDOWN = "[click](javascript:window.__xss=1)"
BARE = "javascript:window.__xss=1"
LINK = "https://example.com/q3?x=1&y=2"
NORMAL = f"Results deck: {LINK} (page 4)"
# The sender's own name is a payload too: it is shown in messages, presence and typing.
EVIL_NAME = '<img src=y onerror="window.__xss=2">Asha'


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids



def _open_room(page: Page, base: str, user: User, room: Room) -> None:
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/rooms/{room.pk}/")
    expect(page.locator("[data-room-page]")).to_have_attribute("data-room-state", "live")


def _assert_inert(page: Page) -> None:
    """Every payload is its literal text, no element was made from it, nothing ran."""
    bodies = page.locator("[data-messages] [data-body]")
    expect(bodies).to_have_count(5)
    expect(bodies).to_have_text([SCRIPT, ONERROR, MARKDOWN, BARE, NORMAL])
    messages = page.locator("[data-messages]")
    assert messages.locator("script").count() == 0
    assert messages.locator("img").count() == 0
    assert page.locator("img[src=x], img[src=y]").count() == 0
    # Only the real link is an anchor; `javascript:` never becomes one.
    anchors = messages.locator("a.room-link")
    expect(anchors).to_have_count(1)
    expect(anchors).to_have_attribute("href", LINK)
    expect(anchors).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(anchors).to_have_attribute("target", "_blank")
    expect(anchors).to_have_text(LINK)
    assert messages.locator('a[href^="javascript" i]').count() == 0
    # The author's name is text as well.
    expect(page.locator("[data-messages] .room-msg-author").first).to_have_text(EVIL_NAME)
    for index in range(4):  # clicking the text runs nothing either
        bodies.nth(index).click()
    page.wait_for_timeout(300)  # an onerror would have fired by now
    assert page.evaluate("() => typeof window.__xss") == "undefined"


def test_html_scripts_and_javascript_links_are_shown_as_text_and_never_run(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    sender = verified_user("asha.rao@example.in", PASSWORD, display_name=EVIL_NAME)
    reader = verified_user("vikram.shah@example.in", PASSWORD, display_name="Vikram")
    room = as_server(
        services.room_create, by=sender, name="Swing traders", description="",
        visibility=Visibility.DISCOVERABLE,
    )  # fmt: skip
    as_server(services.room_join, room_id=room.pk, by=reader)
    _open_room(second_page, base, reader, room)
    _open_room(page, base, sender, room)

    # Typed into the real composer, one after another.
    composer = page.get_by_role("combobox", name="Message")
    for text in (SCRIPT, ONERROR, MARKDOWN, BARE, NORMAL):
        composer.fill(text)
        composer.press("Enter")
        expect(composer).to_have_value("")
    # Stored exactly as typed: escaping is the renderer's job, not the database's.
    stored = Message.objects.filter(room=room).order_by("id").values_list("body", flat=True)
    assert list(stored) == [SCRIPT, ONERROR, MARKDOWN, BARE, NORMAL]

    # The sender's page, the reader's page (live, over the socket), then both reloaded.
    _assert_inert(page)
    _assert_inert(second_page)
    expect(second_page.locator("[data-presence]")).to_contain_text(EVIL_NAME, timeout=10_000)
    second_page.reload()
    expect(second_page.locator("[data-room-page]")).to_have_attribute("data-room-state", "live")
    _assert_inert(second_page)
    page.reload()
    _assert_inert(page)
    screenshot(second_page, "room-xss")
