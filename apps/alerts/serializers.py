"""Input and output shapes of the alerts API. Input accepts the seed's names too:
`stock` for `symbol` and `notification` for `channels`."""

from __future__ import annotations

import string
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.alerts.conditions import condition_validate
from apps.alerts.models import (
    MAX_CONDITIONS,
    AlertEvent,
    AlertPriority,
    AlertRule,
    Combine,
    RuleStatus,
    TriggerMode,
)
from apps.market.models import Timeframe
from apps.notifications.services import CHANNELS

CHANNEL_CHOICES = sorted(CHANNELS)  # the seed's names: websocket, email, sms, …

MESSAGE_FIELDS = ("symbol", "price", "name", "time", "conditions")


class ConditionsField(serializers.JSONField):
    """A list of 1–10 conditions; errors are keyed `conditions.<index>.<field>`."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError(_("Give a list of at least one condition."))
        if len(data) > MAX_CONDITIONS:
            raise serializers.ValidationError(
                _("At most %(max)d conditions, got %(n)d.") % {"max": MAX_CONDITIONS,
                                                               "n": len(data)}
            )
        out: list[dict[str, Any]] = []
        errors: dict[str, Any] = {}
        for position, raw in enumerate(data):
            try:
                out.append(condition_validate(raw))
            except serializers.ValidationError as exc:
                errors[str(position)] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return out


class RuleInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    symbol = serializers.CharField(max_length=40, required=False)
    stock = serializers.CharField(max_length=40, required=False, write_only=True)
    watchlist = serializers.IntegerField(required=False, min_value=1)
    conditions = ConditionsField()
    combine = serializers.ChoiceField(choices=Combine.choices, default=Combine.ALL)
    trigger_mode = serializers.ChoiceField(choices=TriggerMode.choices, default=TriggerMode.ONCE)
    bar_timeframe = serializers.ChoiceField(
        choices=Timeframe.choices, required=False, allow_blank=True
    )
    cooldown_seconds = serializers.IntegerField(min_value=0, max_value=7 * 86400, default=0)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANNEL_CHOICES), required=False, max_length=10
    )
    notification = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANNEL_CHOICES), required=False, max_length=10,
        write_only=True,
    )
    priority = serializers.ChoiceField(choices=AlertPriority.choices, default=AlertPriority.NORMAL)
    share_room = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text=_("A room you are a member of: each firing is added to its activity feed."),
    )

    def __init__(self, *args: Any, partial_update: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partial_update = partial_update

    def validate_message(self, value: str) -> str:
        try:
            names = {f for _t, f, _s, _c in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise serializers.ValidationError(_("Bad template: %s") % exc) from exc
        unknown = sorted(names - set(MESSAGE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown placeholder {%(name)s}; use %(allowed)s.")
                % {"name": unknown[0], "allowed": ", ".join(f"{{{f}}}" for f in MESSAGE_FIELDS)}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "stock" in attrs:
            if "symbol" in attrs:
                raise serializers.ValidationError({"stock": [_("Give symbol or stock, not both.")]})
            attrs["symbol"] = attrs.pop("stock")
        if "notification" in attrs:
            if "channels" in attrs:
                raise serializers.ValidationError(
                    {"notification": [_("Give channels or notification, not both.")]}
                )
            attrs["channels"] = attrs.pop("notification")
        if "channels" in attrs:
            attrs["channels"] = list(dict.fromkeys(attrs["channels"]))
        if not self.partial_update:
            if ("symbol" in attrs) == ("watchlist" in attrs):
                raise serializers.ValidationError(
                    {"symbol": [_("Give exactly one of symbol (or stock) and watchlist.")]}
                )
            attrs.setdefault("channels", ["websocket"])
        mode = attrs.get("trigger_mode")
        if mode == TriggerMode.ONCE_PER_BAR and not attrs.get("bar_timeframe"):
            raise serializers.ValidationError(
                {"bar_timeframe": [_("Once per bar needs the bar's timeframe.")]}
            )
        return attrs


class PartialRuleInputSerializer(RuleInputSerializer):
    """PATCH: every field optional; defaults do not overwrite what is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial_update=True, partial=True, **kwargs)


class RuleOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    symbol = serializers.SerializerMethodField()
    exchange = serializers.SerializerMethodField()
    watchlist_name = serializers.SerializerMethodField()
    share_room_name = serializers.SerializerMethodField()

    class Meta:
        model = AlertRule
        fields = [
            "id", "name", "symbol", "exchange", "watchlist", "watchlist_name", "conditions",
            "combine", "trigger_mode", "bar_timeframe", "cooldown_seconds", "expires_at",
            "message", "channels", "priority", "share_room", "share_room_name", "status",
            "created_at", "updated_at", "last_fired_at",
        ]

    def get_symbol(self, rule: AlertRule) -> str | None:
        return rule.instrument.symbol if rule.instrument else None

    def get_exchange(self, rule: AlertRule) -> str | None:
        return rule.instrument.exchange.code if rule.instrument else None

    def get_watchlist_name(self, rule: AlertRule) -> str | None:
        return rule.watchlist.name if rule.watchlist else None

    def get_share_room_name(self, rule: AlertRule) -> str | None:
        return rule.share_room.name if rule.share_room else None


class EventOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    symbol = serializers.CharField(source="instrument.symbol")

    class Meta:
        model = AlertEvent
        fields = ["id", "rule", "symbol", "values", "fired_at", "recorded_at", "crossing_key",
                  "notification"]


class RuleFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.ChoiceField(choices=RuleStatus.choices, required=False)
    symbol = serializers.CharField(required=False)
    watchlist = serializers.IntegerField(required=False)
