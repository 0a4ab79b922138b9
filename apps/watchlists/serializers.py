from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.watchlists.models import MAX_ITEMS_PER_WATCHLIST, MemberRole, WatchlistMember
from apps.watchlists.selectors import user_brief
from apps.watchlists.services import NAME_MAX_LENGTH, NOTE_MAX_LENGTH

_ID_MAX = 2**63 - 1  # bigint: a larger id must be a 400, not a database error


# --- input ------------------------------------------------------------------------------------


class WatchlistInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX_LENGTH)


class ItemAddInputSerializer(serializers.Serializer):
    symbol = serializers.CharField(
        max_length=50, help_text=_('"TCS" means NSE; or EXCHANGE:SYMBOL, e.g. "BSE:SENSEX".')
    )
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False,
                                 default="")


class ItemNoteInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, allow_blank=True)


class ItemOrderInputSerializer(serializers.Serializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=_ID_MAX),
        max_length=MAX_ITEMS_PER_WATCHLIST,
        allow_empty=True,
        help_text=_("Every item id of the watchlist exactly once, in the new order."),
    )


class MemberInviteInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MemberRole.choices, default=MemberRole.VIEWER)


class MemberRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MemberRole.choices)


# --- output -----------------------------------------------------------------------------------


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    symbol = serializers.CharField()
    exchange = serializers.CharField()
    name = serializers.CharField()
    note = serializers.CharField()
    position = serializers.IntegerField()


class SnapshotMemberSerializer(serializers.Serializer):
    user = UserBriefSerializer()
    role = serializers.ChoiceField(choices=MemberRole.choices)
    status = serializers.CharField()


class WatchlistOutputSerializer(serializers.Serializer):
    """The Watchlist object of docs/websocket.md: `watchlist_snapshot()` passes through."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = UserBriefSerializer()
    # A plain string: a second "role" enum beside MemberRole would collide in the schema.
    role = serializers.CharField(help_text=_("The caller's role: owner, editor or viewer."))
    items = ItemOutputSerializer(many=True)
    members = SnapshotMemberSerializer(many=True)
    updated_at = serializers.CharField(help_text=_("ISO 8601, +05:30."))


class WatchlistSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.SerializerMethodField()
    role = serializers.CharField(help_text=_("The caller's role: owner, editor or viewer."))
    item_count = serializers.IntegerField()
    position = serializers.IntegerField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(UserBriefSerializer)
    def get_owner(self, watchlist: object) -> dict[str, object]:
        return user_brief(watchlist.owner)  # type: ignore[attr-defined]


class MemberOutputSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()

    class Meta:
        model = WatchlistMember
        fields = ("id", "user", "role", "status", "created_at", "responded_at")
        read_only_fields = fields

    @extend_schema_field(UserBriefSerializer)
    def get_user(self, member: WatchlistMember) -> dict[str, object]:
        return user_brief(member.user)


class InvitationWatchlistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = UserBriefSerializer()


class InvitationOutputSerializer(serializers.ModelSerializer):
    watchlist = serializers.SerializerMethodField()
    invited_by = serializers.SerializerMethodField()

    class Meta:
        model = WatchlistMember
        fields = ("id", "watchlist", "role", "invited_by", "created_at")
        read_only_fields = fields

    @extend_schema_field(InvitationWatchlistSerializer)
    def get_watchlist(self, member: WatchlistMember) -> dict[str, object]:
        watchlist = member.watchlist
        return {"id": watchlist.pk, "name": watchlist.name, "owner": user_brief(watchlist.owner)}

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_invited_by(self, member: WatchlistMember) -> dict[str, object] | None:
        return user_brief(member.invited_by) if member.invited_by else None
