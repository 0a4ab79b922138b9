"""Real-browser tests of sharing and editing watchlists on the dashboard, against a real
WebSocket server (`ws_server`): the owner's sharing panel (invite, change role, revoke), the
invitee seeing an invitation arrive (and go) without a reload, leaving a list, and the
owner's own edits (reorder, note, rename, delete). Assertions are on what a user sees."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from apps.accounts.models import User
from apps.market import ingest
from apps.watchlists import services
from apps.watchlists.models import Watchlist
from tests.browser.helpers import as_server, sign_in, verified_user
from tests.factories import WatchlistMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sensex-80k-2026!"


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    ingest._instrument_ids.clear()  # cached per process; a flush may have changed the ids


def _user(email: str, name: str) -> User:
    return verified_user(email, PASSWORD, display_name=name)



def _list(owner: User, name: str, *symbols: str) -> Watchlist:
    watchlist = as_server(services.watchlist_create, name=name, by=owner)
    for symbol in symbols:
        as_server(services.watchlist_item_add, watchlist_id=watchlist.pk, symbol=symbol, by=owner)
    return watchlist


def _open_dashboard(page: Page, base: str, user: User) -> None:
    """Sign in, open the dashboard and wait for its socket to be live."""
    sign_in(page, base, user.email, PASSWORD)
    page.goto(f"{base}/dashboard/")
    expect(page.locator("[data-rt-status]")).to_have_attribute("data-state", "live")


def _subscribed(page: Page, watchlist: Watchlist) -> None:
    """Wait until the server confirmed the page's subscription to the list."""
    expect(page.locator("[data-dashboard]")).to_have_attribute(
        "data-subscribed", re.compile(rf"(^| )watchlist:{watchlist.pk}( |$)")
    )


def _confirm(page: Page, button: Locator, *, accept: bool = True) -> str:
    """Click `button`, answer the confirm() it opens; returns the question shown."""
    shown: list[str] = []

    def answer(dialog: Dialog) -> None:
        shown.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    button.click()  # returns once the dialog was answered
    assert shown, "no confirmation was asked"
    return shown[0]


def _tab(page: Page, name: str) -> Locator:
    """The list's tab; a shared list's tab also names the user's role."""
    return page.get_by_role("navigation", name="Your watchlists").get_by_role(
        "link", name=re.compile(rf"^{re.escape(name)}( (Editor|Viewer))?$")
    )


def _symbols(page: Page, watchlist: Watchlist) -> Locator:
    """The symbol links of the list's table, top to bottom."""
    return page.locator(f'[data-watchlist-table="{watchlist.pk}"] tbody').get_by_role("link")


def test_owner_shares_and_the_invitee_accepts_live(
    live_server: Any, ws_server: str, page: Page, second_page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("asha.rao@example.in", "Asha")
    invitee = _user("vikram.shah@example.in", "Vikram")
    watchlist = _list(owner, "Banks", "HDFCBANK")
    _open_dashboard(second_page, base, invitee)
    invitations = second_page.get_by_role("region", name="Invitations")
    expect(invitations).to_be_hidden()
    expect(second_page.get_by_text("You have no watchlists yet.")).to_be_visible()
    second_page.evaluate("() => { window.__sameDocument = true; }")

    _open_dashboard(page, base, owner)
    sharing = page.get_by_role("region", name="Sharing")
    expect(sharing.get_by_text("Not shared with anyone yet.")).to_be_visible()
    _subscribed(page, watchlist)

    # The owner invites by e-mail, as an editor.
    sharing.get_by_label("E-mail address").fill("VIKRAM.SHAH@example.in")
    sharing.get_by_label("Role", exact=True).select_option(label="Editor")
    sharing.get_by_role("button", name="Invite").click()
    member = sharing.get_by_role("listitem").filter(has_text="Vikram")
    expect(member).to_contain_text("Invited")
    expect(sharing.get_by_label("E-mail address")).to_have_value("")

    # The invitation appears on the invitee's open dashboard, without a reload.
    expect(invitations).to_be_visible(timeout=5_000)
    invitation = invitations.get_by_role("listitem").filter(has_text="Banks")
    expect(invitation).to_have_text(re.compile("Asha invited you to “Banks” as Editor."))
    screenshot(second_page, "sharing-invitation")
    invitation.get_by_role("button", name="Accept").click()
    expect(invitations).to_be_hidden()
    expect(_tab(second_page, "Banks")).to_be_visible()
    expect(second_page.get_by_role("heading", name="Banks")).to_be_visible()
    expect(_symbols(second_page, watchlist)).to_have_text(["HDFCBANK"])
    expect(second_page.get_by_text("Shared by Asha")).to_be_visible()
    expect(second_page.get_by_role("combobox", name="Add a symbol")).to_be_visible()

    # The owner's panel follows: no longer "Invited".
    expect(member).not_to_contain_text("Invited", timeout=5_000)

    # Owner makes the editor a viewer: the member's page turns read-only, live.
    _subscribed(second_page, watchlist)
    member.get_by_role("combobox", name="Role of Vikram").select_option(label="Viewer")
    expect(second_page.get_by_text("View only")).to_be_visible(timeout=5_000)
    expect(second_page.get_by_role("combobox", name="Add a symbol")).to_have_count(0)
    expect(member.get_by_role("combobox", name="Role of Vikram")).to_have_value("viewer")

    # Owner revokes access (after confirming): the list leaves the member's dashboard.
    asked = _confirm(page, member.get_by_role("button", name="Remove"))
    assert asked == "Stop sharing this watchlist with Vikram?"
    expect(sharing.get_by_text("Not shared with anyone yet.")).to_be_visible()
    expect(_tab(second_page, "Banks")).to_have_count(0, timeout=5_000)
    expect(second_page.get_by_text("You have no watchlists yet.")).to_be_visible()
    assert second_page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def test_an_invitation_changes_and_goes_away_live(
    live_server: Any, ws_server: str, page: Page
) -> None:
    base = live_server.url
    owner = _user("kavya.menon@example.in", "Kavya")
    invitee = _user("rohan.das@example.in", "Rohan")
    watchlist = _list(owner, "Pharma", "SUNPHARMA")
    _open_dashboard(page, base, invitee)
    invitations = page.get_by_role("region", name="Invitations")
    expect(invitations).to_be_hidden()

    member = as_server(
        services.watchlist_member_invite,
        watchlist_id=watchlist.pk, email=invitee.email, role="viewer", by=owner,
    )
    item = invitations.get_by_role("listitem")
    expect(item).to_have_text(
        re.compile("Kavya invited you to “Pharma” as Viewer."), timeout=5_000
    )

    # The owner renames the list and makes the offer an editor's: the same invitation changes.
    as_server(services.watchlist_rename, watchlist_id=watchlist.pk, name="Healthcare", by=owner)
    as_server(
        services.watchlist_member_set_role,
        watchlist_id=watchlist.pk, member_id=member.pk, role="editor", by=owner,
    )
    expect(item).to_have_text(re.compile("Kavya invited you to “Healthcare” as Editor."))
    expect(item).to_have_count(1)

    # Withdrawn: it disappears, and nothing was shared.
    as_server(
        services.watchlist_member_remove,
        watchlist_id=watchlist.pk, member_id=member.pk, by=owner,
    )
    expect(invitations).to_be_hidden(timeout=5_000)
    expect(page.get_by_text("You have no watchlists yet.")).to_be_visible()

    # Invited again, then declined.
    as_server(
        services.watchlist_member_invite,
        watchlist_id=watchlist.pk, email=invitee.email, role="viewer", by=owner,
    )
    expect(item).to_have_text(re.compile("“Healthcare” as Viewer."), timeout=5_000)
    item.get_by_role("button", name="Decline").click()
    expect(invitations).to_be_hidden()
    expect(_tab(page, "Healthcare")).to_have_count(0)


def test_a_member_leaves_a_list(
    live_server: Any, ws_server: str, page: Page, second_page: Page
) -> None:
    base = live_server.url
    owner = _user("meera.iyer@example.in", "Meera")
    member = _user("arjun.nair@example.in", "Arjun")
    watchlist = _list(owner, "Autos", "MARUTI", "TATAMOTORS")
    WatchlistMemberFactory(watchlist=watchlist, user=member, role="editor")
    _open_dashboard(page, base, owner)
    sharing = page.get_by_role("region", name="Sharing")
    expect(sharing.get_by_role("listitem").filter(has_text="Arjun")).to_be_visible()
    _subscribed(page, watchlist)

    _open_dashboard(second_page, base, member)
    expect(_tab(second_page, "Autos")).to_be_visible()
    leave = second_page.get_by_role("button", name="Leave list")
    # The owner has no such button: owners delete.
    expect(page.get_by_role("button", name="Leave list")).to_have_count(0)

    # Cancelling the confirmation keeps the list.
    asked = _confirm(second_page, leave, accept=False)
    assert asked.startswith("Leave “Autos”?")
    expect(_tab(second_page, "Autos")).to_be_visible()
    expect(_symbols(second_page, watchlist)).to_have_text(["MARUTI", "TATAMOTORS"])

    _confirm(second_page, leave)
    expect(_tab(second_page, "Autos")).to_have_count(0)
    expect(second_page.get_by_text("You have no watchlists yet.")).to_be_visible()
    # The owner's sharing panel follows, live.
    expect(sharing.get_by_text("Not shared with anyone yet.")).to_be_visible(timeout=5_000)
    expect(sharing.get_by_text("Arjun")).to_have_count(0)
    # Gone for good: a reload does not bring it back.
    second_page.reload()
    expect(second_page.get_by_text("You have no watchlists yet.")).to_be_visible()


def test_owner_reorders_annotates_renames_and_deletes(
    live_server: Any, ws_server: str, page: Page, screenshot: Any
) -> None:
    base = live_server.url
    owner = _user("nisha.kapoor@example.in", "Nisha")
    watchlist = _list(owner, "Core", "TCS", "INFY", "RELIANCE")
    _list(owner, "Later")
    _open_dashboard(page, base, owner)
    symbols = _symbols(page, watchlist)
    expect(symbols).to_have_text(["TCS", "INFY", "RELIANCE"])

    # Drag RELIANCE onto the top half of the first row: it becomes first.
    _subscribed(page, watchlist)
    table = page.locator(f'[data-watchlist-table="{watchlist.pk}"]')
    for attempt in range(3):
        table.locator('tr[data-key="NSE:RELIANCE"] .dash-name').drag_to(
            table.locator('tr[data-key="NSE:TCS"]'), target_position={"x": 40, "y": 3}
        )
        try:
            expect(symbols).to_have_text(["RELIANCE", "TCS", "INFY"], timeout=3_000)
            break
        except AssertionError:
            # The table is redrawn when the subscription's snapshot lands, which cancels a
            # drag in flight (for a person too, who then drags again).
            if attempt == 2:
                raise
    # The keyboard alternative: "Move INFY up".
    page.get_by_role("button", name="Move INFY up").click()
    expect(symbols).to_have_text(["RELIANCE", "INFY", "TCS"])
    expect(page.get_by_role("button", name="Move INFY up")).to_be_focused()
    # The new order is kept.
    page.reload()
    expect(symbols).to_have_text(["RELIANCE", "INFY", "TCS"])

    # A note on TCS.
    page.get_by_role("button", name="Note for TCS").click()
    note = page.get_by_role("textbox", name="Note for TCS")
    note.fill("Results on Friday")
    note.press("Enter")
    tcs = table.locator('tr[data-key="NSE:TCS"]')
    expect(tcs.get_by_text("Results on Friday")).to_be_visible()
    expect(tcs.get_by_role("button", name="Note for TCS")).to_have_text("Edit note")
    screenshot(page, "watchlist-edited")

    # Rename: the heading and the tab follow.
    page.get_by_role("button", name="Rename", exact=True).click()
    name = page.get_by_role("textbox", name="Rename")
    name.fill("Core holdings")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Core holdings")).to_be_visible()
    expect(_tab(page, "Core holdings")).to_be_visible()
    expect(_tab(page, "Core")).to_have_count(0)
    # A name already used by another list is refused with a message.
    page.get_by_role("button", name="Rename", exact=True).click()
    page.get_by_role("textbox", name="Rename").fill("later")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("You already have a watchlist named")
    page.get_by_role("button", name="Cancel").click()

    # Delete, after confirming: the other list is shown instead.
    asked = _confirm(page, page.get_by_role("button", name="Delete", exact=True))
    assert asked == "Delete the watchlist “Core holdings”? This cannot be undone."
    expect(_tab(page, "Core holdings")).to_have_count(0)
    expect(page.get_by_role("heading", name="Later")).to_be_visible()
    page.reload()
    expect(_tab(page, "Later")).to_be_visible()
    expect(_tab(page, "Core holdings")).to_have_count(0)
