"""Room pages: the room list (with discovery, invitations and a create form), one room, and
the invite-link landing page.

The views only look up what the caller may see (a room they are not a member of is a 404,
exactly like a missing id) and embed the first state, the texts and the API addresses;
`frontend/js/room*.js` then keep the pages live over the WebSocket (`room.*` frames,
docs/websocket.md) and write through the REST API (`apps/rooms/api.py`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.models import User
from apps.rooms import selectors, services
from apps.rooms.models import (
    MAX_MESSAGE_LENGTH,
    RoomInvitation,
    RoomRole,
    ShareKind,
    Visibility,
)
from apps.rooms.services.shares import PORTFOLIO_FIELDS
from apps.watchlists.models import Role
from apps.watchlists.selectors import (
    user_brief,
    watchlist_get_for_user,
    watchlist_list_for_user,
    watchlist_snapshot,
)

ZERO = "/0/"
LIST_LIMIT = 100  # rooms embedded in the list page (the cap on owned rooms is 50)
EMOJI = ["👍", "🎯", "🚀", "📉", "👀", "❤️"]
CHART_TIMEFRAMES = [("5m", "5m"), ("15m", "15m"), ("1h", "1h"), ("1D", "1d")]


def _urls() -> dict[str, str]:
    """The REST and page addresses the scripts call, ids left as `{room}`, `{message}`,
    `{user}`, `{id}` or `{symbol}` for them to fill in."""
    room = reverse("api-room", args=[0]).replace(ZERO, "/{room}/")

    def in_room(name: str, *more: str) -> str:
        args = [0] * (1 + len(more))
        path = reverse(name, args=args)
        path = path.replace("/rooms/0/", "/rooms/{room}/", 1)
        for placeholder in more:
            path = path.replace(ZERO, f"/{{{placeholder}}}/", 1)
        return path

    return {
        "rooms": reverse("api-rooms"),
        "discover": reverse("api-rooms-discover"),
        "myInvitations": reverse("api-room-invitations-mine"),
        "invitationAccept": reverse("api-room-invitation-accept", args=[0]).replace(ZERO, "/{id}/"),
        "invitationDecline": reverse("api-room-invitation-decline", args=[0]).replace(
            ZERO, "/{id}/"
        ),
        "room": room,
        "join": in_room("api-room-join"),
        "leave": in_room("api-room-leave"),
        "transfer": in_room("api-room-transfer"),
        "members": in_room("api-room-members"),
        "member": in_room("api-room-member", "user"),
        "invitations": in_room("api-room-invitations"),
        "invitation": in_room("api-room-invitation", "id"),
        "inviteLinks": in_room("api-room-invite-links"),
        "inviteLink": in_room("api-room-invite-link", "id"),
        "messages": in_room("api-room-messages"),
        "message": in_room("api-room-message", "message"),
        "reactions": in_room("api-room-message-reactions", "message"),
        "copyAlert": in_room("api-room-message-copy-alert", "message"),
        "read": in_room("api-room-read"),
        "activity": in_room("api-room-activity"),
        "page": reverse("room", args=[0]).replace(ZERO, "/{room}/"),
        "list": reverse("rooms"),
        "watchlist": reverse("api-watchlist", args=[0]).replace(ZERO, "/{id}/"),
        "watchlistItems": reverse("api-watchlist-items", args=[0]).replace(ZERO, "/{id}/"),
        "watchlists": reverse("api-watchlists"),
        "quotes": reverse("api-quotes"),
        "instruments": reverse("api-instruments"),
        "candles": reverse("api-instrument-candles", args=["SYMBOL"]).replace("SYMBOL", "{symbol}"),
        "drawings": reverse("api-instrument-drawings", args=["SYMBOL"]).replace(
            "SYMBOL", "{symbol}"
        ),
        "instrument": reverse("instrument", args=["SYMBOL"]).replace("SYMBOL", "{symbol}"),
        "alerts": reverse("api-alerts"),
        "alertsPage": reverse("alerts"),
        "portfolios": reverse("api-portfolios"),
    }


def _common_strings() -> dict[str, str]:
    return {
        "networkError": _("Could not reach StockSense. Check your connection and try again."),
        "genericError": _("Something went wrong. Please try again."),
        "invalidFields": _("Please correct the fields marked below."),
        "role_owner": str(RoomRole.OWNER.label),
        "role_moderator": str(RoomRole.MODERATOR.label),
        "role_member": str(RoomRole.MEMBER.label),
        "private": _("Private"),
        "discoverable": _("Discoverable"),
        "memberCount": _("{n} members"),
        "memberCountOne": _("1 member"),
        "unread": _("{n} unread"),
        "noMessages": _("No messages yet."),
        "deletedPreview": _("Message deleted"),
        "sharedPreview": _("shared a {kind}"),
        "share_chart": _("chart"),
        "share_alert": _("alert"),
        "share_portfolio": _("portfolio allocation"),
        "share_watchlist": _("watchlist"),
        "you": _("You"),
        "someone": _("Someone"),
    }


def _list_strings() -> dict[str, str]:
    return {
        **_common_strings(),
        "empty": _(
            "You are not in any room yet. Create one, join a discoverable room below, "
            "or ask a member for an invitation."
        ),
        "join": _("Join"),
        "joining": _("Joining…"),
        "accept": _("Accept"),
        "decline": _("Decline"),
        "invitedBy": _("{name} invited you to “{room}”."),
        "invited": _("You are invited to “{room}”."),
        "noDiscover": _("No discoverable rooms match."),
        "declined": _("Invitation to “{room}” declined."),
        "created": _("Room “{name}” created."),
        "ownedBy": _("by {name}"),
    }


def _room_strings() -> dict[str, str]:
    return {
        **_common_strings(),
        "send": _("Send"),
        "save": _("Save"),
        "backtestCard": _("Backtest: {name}"),
        "openReport": _("Open the report"),
        "metric_net_return": _("Net return"),
        "metric_cagr": _("CAGR"),
        "metric_sharpe": _("Sharpe"),
        "metric_max_drawdown": _("Max drawdown"),
        "metric_trades": _("Trades"),
        "metric_win_rate": _("Win rate"),
        "cancel": _("Cancel"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "reply": _("Reply"),
        "react": _("React"),
        "reactWith": _("React with {emoji}"),
        "reactionCount": _("{emoji} {n}: {names}"),
        "edited": _("(edited)"),
        "deleted": _("Message deleted"),
        "deletedBy": _("Message deleted by {name}"),
        "confirmDelete": _("Delete this message? Everyone in the room will see “Message deleted”."),
        "replies": _("{n} replies"),
        "repliesOne": _("1 reply"),
        "hideReplies": _("Hide replies"),
        "replyPlaceholder": _("Reply in thread…"),
        "noReplies": _("No replies yet."),
        "newMessages": _("New messages"),
        "loadingOlder": _("Loading older messages…"),
        "beginning": _("This is the beginning of the room."),
        "counter": _("{n} / {max}"),
        "tooLong": _("A message has at most {max} characters; this one has {n}."),
        "empty": _("Write something: the message is empty."),
        "rateLimited": _("You are sending messages too fast. Wait {n} s and try again."),
        "waitSeconds": _("Wait {n} s"),
        "sending": _("Sending…"),
        "typingOne": _("{name} is typing…"),
        "typingTwo": _("{a} and {b} are typing…"),
        "typingMany": _("Several people are typing…"),
        "online": _("{n} online"),
        "viewing": _("viewing {symbol} {timeframe}"),
        "nobodyOnline": _("Nobody else is here right now."),
        "chartCard": _("Chart: {symbol} · {timeframe}"),
        "drawings": _("{n} drawings"),
        "drawingsOne": _("1 drawing"),
        "openChart": _("Open chart"),
        "alertCard": _("Alert: {name}"),
        "copyAlert": _("Copy to my alerts"),
        "copied": _("Copied to your alerts."),
        "openAlerts": _("Open alerts"),
        "portfolioCard": _("Portfolio allocation"),
        "watchlistCard": _("Watchlist: {name}"),
        "noItems": _("No instruments."),
        "conditionsAll": _("All of:"),
        "conditionsAny": _("Any of:"),
        "field_name": _("Name"),
        "field_total_value": _("Value"),
        "field_invested": _("Invested"),
        "field_profit_loss": _("Total P/L"),
        "field_profit_loss_percent": _("Total P/L %"),
        "field_unrealised_pl_percent": _("Unrealised P/L %"),
        "field_day_change_percent": _("Day change %"),
        "shareTitle": _("Share into the room"),
        "shareChartNone": _("Open a chart first: pick a symbol in the watchlist."),
        "shareChartWhat": _("{symbol} · {timeframe}, with your {n} saved drawings"),
        "noAlerts": _("You have no alerts to share."),
        "noPortfolios": _("You have no portfolios to share."),
        "noWatchlists": _("You have no watchlists to share."),
        "loading": _("Loading…"),
        "shared": _("Shared."),
        "memberRemoved": _("{name} was removed from the room."),
        "confirmRemove": _("Remove {name} from the room?"),
        "confirmTransfer": _("Make {name} the owner of this room? You will become a moderator."),
        "confirmLeave": _("Leave “{room}”? You can come back only if invited again."),
        "makeModerator": _("Make moderator"),
        "makeMember": _("Make member"),
        "makeOwner": _("Make owner"),
        "remove": _("Remove"),
        "revoke": _("Revoke"),
        "withdraw": _("Withdraw"),
        "copy": _("Copy"),
        "copiedLink": _("Copied"),
        "linkState_active": _("Active"),
        "linkState_expired": _("Expired"),
        "linkState_used_up": _("Used up"),
        "linkState_revoked": _("Revoked"),
        "linkUses": _("Used {uses} times"),
        "linkExpires": _("expires {date}"),
        "invitationSent": _("Invitation sent to {name}."),
        "noPendingInvitations": _("No pending invitations."),
        "noLinks": _("No invite links."),
        "revoked": _("You are no longer a member of this room."),
        "goToRooms": _("Back to your rooms"),
        "noActivity": _("Nothing has happened here yet."),
        "activityRemoved": _("{user} was removed by {actor}"),
        "activityRole": _("{actor} made {user} {role}"),
        "activityOwner": _("{actor} made {user} the owner"),
        "activityAlert": _("{actor}'s alert fired: {message}"),
        "activityShared": _("{actor} shared “{title}”"),
        "activityAdded": _("{actor} added {symbol} to the watchlist"),
        "activityRemovedSymbol": _("{actor} removed {symbol} from the watchlist"),
        "activityRenamed": _("{actor} renamed the watchlist “{name}”"),
        "watchlistEmpty": _("The shared watchlist is empty. Add a symbol to follow it together."),
        "noWatchlist": _("This room has no shared watchlist."),
        "chartEmpty": _("No price history for this timeframe yet."),
        "chartError": _("The chart could not be loaded."),
        "chartPick": _("Pick a symbol in the watchlist to chart it."),
        "chartLabel": _("{symbol} candles, {timeframe}"),
        "addedSymbol": _("{symbol} added to the watchlist."),
        "up": _("up"),
        "down": _("down"),
        "unchanged": _("unchanged"),
        "noPrice": _("no price yet"),
        "jumpUnread": _("Jump to first unread ({n})"),
        "mentionsLabel": _("Members"),
        "unknownUser": _("Former member"),
        "copyFailed": _("Could not copy: select the link and copy it yourself."),
    }


def _my_watchlists(user: User) -> list[dict[str, Any]]:
    """Lists the user owns (a room links only one of its owner's lists)."""
    return [
        {"id": w.pk, "name": w.name}
        for w in watchlist_list_for_user(user=user)
        if w.role == Role.OWNER  # type: ignore[attr-defined]
    ]


@login_required
def room_list_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rooms = selectors.room_list_data(list(selectors.room_membership_list(user=user)[:LIST_LIMIT]))
    invitations = [
        selectors.invitation_data(i) for i in selectors.room_invitation_list_for_user(user=user)
    ]
    data = {
        "rooms": rooms,
        "invitations": invitations,
        "me": user_brief(user),
        "strings": _list_strings(),
        "urls": _urls(),
    }
    return render(
        request,
        "rooms/list.html",
        {
            "data": data,
            "rooms": rooms,
            "invitations": invitations,
            "visibilities": Visibility.choices,
            "watchlists": _my_watchlists(user),
        },
    )


@login_required
def room_page(request: HttpRequest, room_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    found = selectors.room_get_for_member(user=user, room_id=room_id)
    if found is None:
        raise Http404(_("No such room."))
    room, member = found
    watchlist = None
    if room.watchlist_id is not None:
        shared = watchlist_get_for_user(user=user, watchlist_id=room.watchlist_id)
        if shared is not None:
            watchlist = watchlist_snapshot(watchlist=shared[0], role=shared[1])
    data = {
        "me": user_brief(user),
        # The first paint needs no round trip; the socket's `room.snapshot` follows.
        "snapshot": selectors.room_snapshot(room=room, member=member),
        "members": [selectors.member_data(m) for m in selectors.room_member_list(room=room)],
        "watchlist": watchlist,
        "maxLength": MAX_MESSAGE_LENGTH,
        "emoji": EMOJI,
        "portfolioFields": list(PORTFOLIO_FIELDS),
        "shareKinds": list(ShareKind.values),
        "strings": _room_strings(),
        "urls": _urls(),
    }
    return render(
        request,
        "rooms/room.html",
        {
            "data": data,
            "room": room,
            "member": member,
            "is_moderator": member.role in (RoomRole.OWNER, RoomRole.MODERATOR),
            "timeframes": CHART_TIMEFRAMES,
            "max_length": MAX_MESSAGE_LENGTH,
        },
    )


def _invite_link(token: str) -> RoomInvitation | None:
    if not token or len(token) > 64:
        return None
    return (
        RoomInvitation.objects.select_related("room__owner", "invited_by")
        .filter(token=token, user__isnull=True)
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_join_page(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invite link opens: the room's name and a Join button (a POST, so that a
    link preview or a prefetch never joins anyone). A dead link gets a clear page, not a 500."""
    user: User = request.user  # type: ignore[assignment]
    link = _invite_link(token)
    if link is None:
        return render(request, "rooms/join.html", {"state": "unknown"}, status=404)
    room = link.room
    context: dict[str, Any] = {
        "room": room,
        "link": link,
        "member_count": room.members.count(),
        "state": selectors.invite_link_state(link),
    }
    if selectors.room_get_for_member(user=user, room_id=room.pk) is not None:
        if request.method == "POST":
            return redirect("room", room_id=room.pk)
        context["state"] = "member"
        return render(request, "rooms/join.html", context)
    if request.method == "POST":
        try:
            services.room_join_by_link(token=token, by=user)
        except services.InviteLinkGone as exc:
            context["state"] = exc.state
            return render(request, "rooms/join.html", context, status=410)
        except services.RoomNotFound:
            return render(request, "rooms/join.html", {"state": "unknown"}, status=404)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
            return render(request, "rooms/join.html", context, status=400)
        return redirect("room", room_id=room.pk)
    status = 200 if context["state"] == "active" else 410
    return render(request, "rooms/join.html", context, status=status)
