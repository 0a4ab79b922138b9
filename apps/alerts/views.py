"""The alerts page; frontend/js/alerts.js draws it from embedded JSON, writes through the
REST API and shows firings live from `alert.fired` frames."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.alerts import selectors
from apps.alerts.conditions import SERIALIZERS
from apps.alerts.models import AlertPriority, Combine, TriggerMode
from apps.alerts.serializers import RuleOutputSerializer
from apps.market.models import Timeframe
from apps.rooms.models import Room


def _strings() -> dict[str, str]:
    return {
        "empty": _("No alerts yet."),
        "pause": _("Pause"),
        "resume": _("Resume"),
        "delete": _("Delete"),
        "history": _("History"),
        "noHistory": _("Not fired yet."),
        "confirmDelete": _("Delete the alert “{name}” and its history?"),
        "fired": _("Alert fired: {message}"),
        "genericError": _("Something went wrong. Please try again."),
        "removeCondition": _("Remove condition"),
        "value": _("Value"),
        "active": _("Active"),
        "paused": _("Paused"),
        "expired": _("Expired"),
        "firedStatus": _("Fired"),
        "created": _("Alert created."),
    }


@login_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rules = RuleOutputSerializer(selectors.alert_list(user=user)[:200], many=True).data
    zero = "/0/"
    data = {
        "rules": rules,
        "strings": _strings(),
        "types": sorted(SERIALIZERS),
        "urls": {
            "alerts": reverse("api-alerts"),
            "alert": reverse("api-alert", args=[0]).replace(zero, "/{id}/"),
            "instruments": reverse("api-instruments"),
        },
    }
    return render(request, "alerts/alerts.html", {
        "data": data, "types": sorted(SERIALIZERS), "timeframes": Timeframe.choices,
        "combines": Combine.choices, "modes": TriggerMode.choices,
        "priorities": AlertPriority.choices,
        "rooms": Room.objects.filter(members__user=user).order_by("name").only("pk", "name"),
        "channels": [("websocket", _("In-app")), ("email", _("E-mail")), ("sms", _("SMS")),
                     ("push", _("Browser push")), ("slack", "Slack"), ("discord", "Discord"),
                     ("webhook", _("Webhook"))],
    })

