from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.notifications.models import (
    AttemptStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    DestinationKind,
    Preferences,
    Priority,
)
from apps.notifications.transports import TRANSPORTS

# --- input ------------------------------------------------------------------------------------


class DestinationCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DestinationKind.choices)
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=80, allow_blank=True, required=False, default=""
    )
    config = serializers.JSONField(
        required=False, default=dict,
        help_text=_('By kind: email {"address"}, sms {"phone"} (E.164), slack/discord/webhook '
                    '{"url"}, web_push {"endpoint", "keys": {"p256dh", "auth"}}, in_app {}.'),
    )
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, max_length=3,
    )


class DestinationUpdateInputSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=80, allow_blank=True, required=False
    )
    config = serializers.JSONField(required=False)
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=Priority.choices), required=False, max_length=3,
    )
    disabled = serializers.BooleanField(required=False)


class VerifyInputSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\s*\d{6}\s*$", max_length=12,
                                  help_text=_("The 6-digit code that was sent."))


class NotificationFilterSerializer(serializers.Serializer):
    read = serializers.BooleanField(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    source = serializers.CharField(max_length=32, required=False)  # type: ignore[assignment]


class PreferencesSerializer(serializers.ModelSerializer):
    digest_hour = serializers.IntegerField(min_value=0, max_value=23, required=False)

    class Meta:
        model = Preferences
        fields = ("quiet_hours_enabled", "quiet_start", "quiet_end", "quiet_outside_market_only",
                  "digest_low", "digest_hour", "last_digest_at")
        read_only_fields = ("last_digest_at",)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("quiet_start"), attrs.get("quiet_end")
        if start is not None and start == end:  # policy would treat it as "never quiet"
            raise serializers.ValidationError(
                {"quiet_end": [_("Quiet hours must end at a different time than they start.")]}
            )
        return attrs


# --- output -----------------------------------------------------------------------------------


class DestinationOutputSerializer(serializers.ModelSerializer):
    config = serializers.SerializerMethodField()
    verified = serializers.BooleanField(source="is_verified")
    verify_by_code = serializers.SerializerMethodField()

    class Meta:
        model = Destination
        fields = ("id", "kind", "label", "config", "priorities", "verified", "verified_at",
                  "verify_by_code", "disabled", "disabled_reason", "last_error", "last_notify",
                  "created")
        read_only_fields = fields

    def get_config(self, destination: Destination) -> dict[str, Any]:
        return TRANSPORTS[destination.kind].public_config(destination.config)

    def get_verify_by_code(self, destination: Destination) -> bool:
        return TRANSPORTS[destination.kind].verify_by_code


class NotificationOutputSerializer(serializers.Serializer):
    """The Notification object of docs/websocket.md (`selectors.notification_data`)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    priority = serializers.ChoiceField(choices=Priority.choices)
    source = serializers.CharField()  # type: ignore[assignment]
    data = serializers.JSONField()  # type: ignore[assignment]
    created = serializers.CharField(help_text=_("ISO 8601, +05:30."))
    read_at = serializers.CharField(allow_null=True)


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


class AttemptOutputSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=AttemptStatus.choices)

    class Meta:
        model = DeliveryAttempt
        fields = ("at", "status", "provider_id", "error", "duration_ms")
        read_only_fields = fields


class DeliveryOutputSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    destination = serializers.SerializerMethodField()
    attempt_log = AttemptOutputSerializer(many=True)

    class Meta:
        model = Delivery
        fields = ("id", "destination", "status", "is_test", "attempts", "next_attempt_at",
                  "provider_id", "provider_status", "last_error", "created", "finished_at",
                  "attempt_log")
        read_only_fields = fields

    def get_destination(self, delivery: Delivery) -> dict[str, Any]:
        d = delivery.destination
        return {"id": d.pk, "kind": d.kind, "label": d.label}


class PushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField()
