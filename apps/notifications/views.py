"""The notification centre page; frontend/js/notifications.js draws it from embedded JSON
and keeps it live over the WebSocket, writing through the REST API."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.notifications import selectors
from apps.notifications.models import DestinationKind, Priority
from apps.notifications.serializers import DestinationOutputSerializer, PreferencesSerializer

PAGE = 50


def _strings() -> dict[str, str]:
    return {
        "empty": _("No notifications yet."),
        "markRead": _("Mark read"),
        "unread": _("Unread"),
        "test": _("Send test"),
        "testSent": _("Test sent. It should arrive in a moment."),
        "verify": _("Verify"),
        "codeLabel": _("6-digit code"),
        "sendCode": _("Send a new code"),
        "codeSent": _("A new code is on its way."),
        "verified": _("Verified"),
        "unverified": _("Not verified"),
        "disabled": _("Turned off: {reason}"),
        "enable": _("Turn on"),
        "remove": _("Remove"),
        "confirmRemove": _("Remove “{name}”?"),
        "noDestinations": _("No destinations yet."),
        "genericError": _("Something went wrong. Please try again."),
        "pushUnsupported": _("This browser cannot receive push notifications."),
        "pushDenied": _("Notifications are blocked for this site in the browser settings."),
        "pushOn": _("Push notifications are on for this browser."),
        "low": _("Low"),
        "normal": _("Normal"),
        "high": _("High"),
        "receives": _("Receives"),
        "receivesFor": _("Priorities sent to {name}"),
        "prioritiesSaved": _("“{name}” now receives: {priorities}."),
        "prioritiesNone": _("nothing"),
        "prefsSaved": _("Preferences saved."),
        "prefsInvalid": _("Please correct the highlighted fields."),
    }


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    notifications = [
        selectors.notification_data(n) for n in selectors.notification_list(user=user)[:PAGE]
    ]
    destinations = DestinationOutputSerializer(
        selectors.destination_list(user=user), many=True
    ).data
    zero = "/0/"
    data = {
        "notifications": notifications,
        "destinations": destinations,
        "unread": selectors.unread_count(user_id=user.pk),
        "preferences": PreferencesSerializer(selectors.preferences_get(user=user)).data,
        "timeZone": user.time_zone,
        "vapidKey": settings.WEBPUSH_VAPID_PUBLIC_KEY,
        "strings": _strings(),
        "urls": {
            "notifications": reverse("api-notifications"),
            "readAll": reverse("api-notifications-read-all"),
            "read": reverse("api-notification-read", args=[0]).replace(zero, "/{id}/"),
            "destinations": reverse("api-destinations"),
            "destination": reverse("api-destination", args=[0]).replace(zero, "/{id}/"),
            "preferences": reverse("api-notification-preferences"),
            "serviceWorker": f"{settings.STATIC_URL}js/notifications-sw.js",
        },
    }
    return render(request, "notifications/centre.html", {
        "data": data, "notifications": notifications, "kinds": DestinationKind.choices,
        "priorities": Priority.choices, "time_zone": user.time_zone,
        "digest_hours": [f"{hour:02d}:00" for hour in range(24)],
    })
