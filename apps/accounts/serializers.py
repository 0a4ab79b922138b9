from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import ApiToken, AuditEvent, User
from apps.accounts.validators import normalize_phone, validate_time_zone


class MeOutputSerializer(serializers.ModelSerializer):
    mfa_enabled = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = (
            "id", "email", "display_name", "time_zone", "language", "phone",
            "date_joined", "mfa_enabled",
        )
        read_only_fields = fields

    def get_mfa_enabled(self, user: User) -> bool:
        from allauth.mfa.utils import is_mfa_enabled

        return bool(is_mfa_enabled(user))


class MeUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, allow_blank=True, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    language = serializers.ChoiceField(choices=["en", "hi"], required=False)
    phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    current_password = serializers.CharField(
        required=False,
        write_only=True,
        style={"input_type": "password"},
        help_text=_("Required when changing the phone number."),
    )

    def validate_time_zone(self, value: str) -> str:
        try:
            validate_time_zone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user: User = self.context["user"]
        if "phone" in attrs and attrs["phone"] != user.phone:
            password = attrs.get("current_password")
            if not password:
                raise serializers.ValidationError(
                    {"current_password": [_("Confirm your password to change the phone number.")]}
                )
            if not user.check_password(password):
                raise serializers.ValidationError(
                    {"current_password": [_("The password is not correct.")]}
                )
        attrs.pop("current_password", None)
        return attrs


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = (
            "id", "name", "prefix", "created_at", "last_used_at", "revoked_at"
        )
        read_only_fields: tuple[str, ...] = fields


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiTokenCreatedSerializer(ApiTokenOutputSerializer):
    token = serializers.CharField(help_text=_("Shown once. Store it securely."))

    class Meta(ApiTokenOutputSerializer.Meta):
        fields: tuple[str, ...] = (*ApiTokenOutputSerializer.Meta.fields, "token")
        read_only_fields: tuple[str, ...] = fields


class TokenLoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"})
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("Authenticator or recovery code, when two-factor authentication is on."),
    )
    name = serializers.CharField(max_length=100, required=False, default="Mobile app")


class AuditEventOutputSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display")

    class Meta:
        model = AuditEvent
        fields = (
            "id", "created_at", "action", "action_label", "actor_email", "target_type",
            "target_repr", "ip", "user_agent", "old_values", "new_values",
        )
        read_only_fields = fields


class WsTicketOutputSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()
