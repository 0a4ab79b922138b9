"""Watchlist pages: the dashboard (live tables of the user's watchlists).

The page is rendered from a handful of queries whatever the number of lists (lists, their
items, their members, pending invitations); `frontend/js/dashboard.js` draws the tables from
the embedded JSON and keeps them live over the WebSocket, writing through the REST API.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.accounts.models import User
from apps.market.calendar import DEFAULT_EXCHANGE, UnknownExchangeError, market_status
from apps.watchlists import selectors
from apps.watchlists.models import Watchlist, WatchlistItem, WatchlistMember
from apps.watchlists.serializers import InvitationOutputSerializer


def dashboard_snapshots(*, user: User) -> list[dict[str, Any]]:
    """Every watchlist the user can see, each shaped like `selectors.watchlist_snapshot`
    (the Watchlist object of docs/websocket.md), in the API's order. Three queries."""
    lists: list[Watchlist] = list(selectors.watchlist_list_for_user(user=user))
    ids = [w.pk for w in lists]
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in (
        WatchlistItem.objects.filter(watchlist_id__in=ids)
        .select_related("instrument__exchange")
        .order_by("position", "id")
    ):
        items[item.watchlist_id].append(selectors.item_data(item))
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for member in (
        WatchlistMember.objects.filter(watchlist_id__in=ids)
        .select_related("user")
        .order_by("created_at", "id")
    ):
        members[member.watchlist_id].append(
            {"user": selectors.user_brief(member.user), "role": member.role,
             "status": member.status}
        )
    return [
        {
            "id": w.pk,
            "name": w.name,
            "owner": selectors.user_brief(w.owner),
            "role": w.role,  # type: ignore[attr-defined]
            "items": items[w.pk],
            "members": members[w.pk],
            "updated_at": timezone.localtime(w.updated_at).isoformat(),
        }
        for w in lists
    ]


def _strings() -> dict[str, str]:
    """Every text dashboard.js shows, in the request's language ({name} etc. are filled in
    by the script)."""
    return {
        "owner": _("Owner"),
        "editor": _("Editor"),
        "viewer": _("Viewer"),
        "invited": _("Invited"),
        "accepted": _("Accepted"),
        "declined": _("Declined"),
        "ownedBy": _("Shared by {name}"),
        "readOnly": _("View only"),
        "changedBy": _("Changed by {name}"),
        "revoked": _("You no longer have access to “{name}”."),
        "deleted": _("Watchlist deleted."),
        "confirmDelete": _("Delete the watchlist “{name}”? This cannot be undone."),
        "confirmRemoveMember": _("Stop sharing this watchlist with {name}?"),
        "leave": _("Leave list"),
        "confirmLeave": _(
            "Leave “{name}”? It disappears from your dashboard until {owner} invites you again."
        ),
        "left": _("You left “{name}”."),
        "invitationArrived": _("{owner} invited you to “{name}”."),
        "invitationWithdrawn": _("The invitation to “{name}” was withdrawn."),
        "rename": _("Rename"),
        "delete": _("Delete"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "remove": _("Remove"),
        "removeItem": _("Remove {symbol}"),
        "moveUp": _("Move {symbol} up"),
        "moveDown": _("Move {symbol} down"),
        "dragHandle": _("Drag to reorder {symbol}"),
        "editNote": _("Edit note"),
        "noteFor": _("Note for {symbol}"),
        "addNote": _("Add note"),
        "note": pgettext("watchlist item", "Note"),
        "symbol": _("Symbol"),
        "name": _("Name"),
        "lastPrice": _("Last price"),
        "change": pgettext("price change", "Change"),
        "percent": _("%% change") % {},  # the same msgid as the templates' "% change"
        "dayHigh": _("Day high"),
        "dayLow": _("Day low"),
        "volume": _("Volume"),
        "trend": _("30 days"),
        "actions": _("Actions"),
        "trendLabel": _("{symbol}, last {count} daily closes"),
        "noTrend": _("No daily prices yet"),
        "empty": _("This watchlist is empty."),
        "emptyEditor": _("This watchlist is empty. Search for a symbol above to add one."),
        "noLists": _("You have no watchlists yet. Create one to start tracking prices."),
        "addLabel": _("Add a symbol"),
        "addPlaceholder": _("Search symbol or company, e.g. TCS"),
        "add": _("Add"),
        "noMatches": _("No instruments match."),
        "sharing": _("Sharing"),
        "sharingHelp": _("Editors can add, remove, reorder and annotate; viewers can only look."),
        "inviteEmail": _("E-mail address"),
        "inviteRole": _("Role"),
        "invite": _("Invite"),
        "notShared": _("Not shared with anyone yet."),
        "changeRole": _("Role of {name}"),
        "up": _("up"),
        "down": _("down"),
        "unchanged": _("unchanged"),
        "networkError": _("Could not reach StockSense. Check your connection and try again."),
        "genericError": _("Something went wrong. Please try again."),
        "listsLabel": _("Your watchlists"),
        "tableCaption": _("Prices of the instruments on “{name}”, in Indian rupees."),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    invitations = InvitationOutputSerializer(
        selectors.watchlist_invitation_list_for_user(user=user), many=True
    ).data
    try:
        status = market_status(timezone.now(), exchange=DEFAULT_EXCHANGE)
    except UnknownExchangeError:  # an empty database: no exchanges seeded yet
        status = None
    snapshots = dashboard_snapshots(user=user)
    data = {
        "me": selectors.user_brief(user),
        "watchlists": snapshots,
        "invitations": invitations,
        "strings": _strings(),
        "urls": {
            "watchlists": reverse("api-watchlists"),
            "invitations": reverse("api-invitations"),
            "instruments": reverse("api-instruments"),
            "quotes": reverse("api-quotes"),
            # Filled in by the script: {id}, {item}, {member}, {symbol}.
            "watchlist": reverse("api-watchlist", args=[0]).replace("/0/", "/{id}/"),
            "instrument": reverse("instrument", args=["SYMBOL"]).replace("SYMBOL", "{symbol}"),
            "candles": reverse("api-instrument-candles", args=["SYMBOL"]).replace(
                "SYMBOL", "{symbol}"
            ),
        },
    }
    return render(
        request,
        "watchlists/dashboard.html",
        {"data": data, "watchlists": snapshots, "invitations": invitations, "status": status},
    )
