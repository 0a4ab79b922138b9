"""Input and output shapes of the rooms API. Outputs document the dicts the selectors build
(`room_data`, `message_data`, …): views pass those through."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.rooms.models import MAX_MESSAGE_LENGTH, Visibility
from apps.rooms.selectors import MAX_ID
from apps.rooms.services.invitations import MAX_LINK_USES
from apps.rooms.services.messages import MAX_CLIENT_ID
from apps.rooms.services.rooms import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from apps.watchlists.serializers import UserBriefSerializer

# Generous: the service counts characters after cleaning and says so; this only stops
# megabyte bodies before they reach it.
_BODY_MAX = MAX_MESSAGE_LENGTH * 4


class _TextField(serializers.CharField):
    """Text whose control characters (NUL included) the service removes, rather than DRF
    refusing the whole message for a NUL: REST and WebSocket treat a body the same way."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- input --------------------------------------------------------------------------------------


class RoomCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=NAME_MAX_LENGTH * 2)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH * 2, required=False, allow_blank=True, default=""
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    watchlist = _id_field(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("One of your watchlists to share in the room; empty: a new one is created."),
    )


class RoomUpdateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=NAME_MAX_LENGTH * 2, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH * 2, required=False, allow_blank=True
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text=_("Owner only.")
    )
    watchlist = _id_field(
        required=False,
        allow_null=True,
        help_text=_("Owner only: one of your watchlists, or null to unlink."),
    )


class RoomDiscoverFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    q = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")


class RoomMemberRoleInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    role = serializers.CharField(help_text=_("moderator or member"))


class RoomOwnerTransferInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user = _id_field(help_text=_("The member (user id) who becomes the owner."))


class RoomInvitationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user = serializers.CharField(
        max_length=254, help_text=_("The invitee's e-mail address or display name.")
    )


class RoomInviteLinkInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    max_uses = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LINK_USES,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("How many people may join with it; empty: no limit."),
    )


class RoomMessageInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = _TextField(
        max_length=_BODY_MAX,
        allow_blank=True,
        trim_whitespace=False,
        required=False,
        default="",
        help_text=_("Plain text, 1–4,000 characters (optional with a share)."),
    )
    parent = _id_field(  # type: ignore[assignment]  # a field, not Field.parent
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Reply to this message (a reply to a reply joins the top message's thread)."),
    )
    share = serializers.JSONField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            'A card: {"type": "chart", "symbol", "timeframe", "drawings"}, '
            '{"type": "alert", "alert_id"}, {"type": "portfolio", "portfolio_id", '
            '"fields"} or {"type": "watchlist", "watchlist_id"}.'
        ),
    )
    client_id = serializers.CharField(
        max_length=MAX_CLIENT_ID,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Your idempotency key: sending it again returns the stored message."),
    )


class RoomMessageEditInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = _TextField(max_length=_BODY_MAX, allow_blank=True, trim_whitespace=False)


class RoomMessageFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    before = _id_field(required=False, help_text=_("Messages older than this id, newest first."))
    after = _id_field(required=False, help_text=_("Messages newer than this id, oldest first."))
    parent = _id_field(required=False, help_text=_("Only the replies to this message."))  # type: ignore[assignment]
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError({"after": [_("Give before or after, not both.")]})
        return attrs


class RoomReactionInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    emoji = serializers.CharField(max_length=64, trim_whitespace=False)


class RoomReadInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message_id = _id_field(help_text=_("The newest message seen."))


class RoomActivityFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    before = _id_field(required=False, help_text=_("Rows older than this id."))
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)


# --- output -------------------------------------------------------------------------------------


class RoomOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    visibility = serializers.CharField(help_text=_("private or discoverable"))
    owner = UserBriefSerializer()
    watchlist = serializers.IntegerField(
        allow_null=True, help_text=_("The shared watchlist (see /api/v1/watchlists/{id}/).")
    )
    member_count = serializers.IntegerField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class RoomMemberViewOutputSerializer(RoomOutputSerializer):
    role = serializers.CharField(help_text=_("Your role: owner, moderator or member."))
    unread_count = serializers.IntegerField()
    first_unread_id = serializers.IntegerField(allow_null=True)
    last_read_message_id = serializers.IntegerField(allow_null=True)


class RoomMessagePreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    author = UserBriefSerializer(allow_null=True)
    kind = serializers.CharField()
    body = serializers.CharField(help_text=_("The start of the text (plain text)."))
    share_type = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    deleted = serializers.BooleanField()


class RoomListItemOutputSerializer(RoomMemberViewOutputSerializer):
    last_message = RoomMessagePreviewSerializer(allow_null=True)


class RoomDiscoverOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = UserBriefSerializer()
    member_count = serializers.IntegerField()
    created_at = serializers.CharField()


class RoomMemberOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    user = UserBriefSerializer()
    role = serializers.CharField(help_text=_("owner, moderator or member"))
    joined_at = serializers.CharField()


class RoomInvitationRoomSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = UserBriefSerializer()


class RoomInvitationOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    room = RoomInvitationRoomSerializer()
    user = UserBriefSerializer(allow_null=True)
    invited_by = UserBriefSerializer(allow_null=True)
    status = serializers.CharField(help_text=_("pending, accepted, declined or revoked"))
    created_at = serializers.CharField()
    responded_at = serializers.CharField(allow_null=True)


class RoomInviteLinkOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    token = serializers.CharField()
    path = serializers.CharField(help_text=_("The join page; share it with the site's origin."))
    url = serializers.CharField(help_text=_("The join page's full address."))
    expires_at = serializers.CharField(allow_null=True)
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()
    state = serializers.CharField(help_text=_("active, expired, used_up or revoked"))
    invited_by = UserBriefSerializer(allow_null=True)
    created_at = serializers.CharField()


class RoomReactionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    emoji = serializers.CharField()
    count = serializers.IntegerField()
    mine = serializers.BooleanField()
    users = serializers.ListField(child=serializers.IntegerField())


class RoomMessageOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """`selectors.message_data`: the same object as in `room.message` frames."""

    id = serializers.IntegerField()
    room = serializers.IntegerField()
    author = UserBriefSerializer(allow_null=True)
    kind = serializers.CharField(help_text=_("text or share"))
    body = serializers.CharField(
        help_text=_("Plain text as typed: display it as text, never as HTML. Empty when deleted.")
    )
    share = serializers.JSONField(allow_null=True, help_text=_("The frozen card, or null."))
    parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
    reply_count = serializers.IntegerField()
    mentions = UserBriefSerializer(many=True)
    symbols = serializers.ListField(child=serializers.CharField())
    links = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("http(s) URLs in the body: the only text a client may make clickable."),
    )
    reactions = RoomReactionOutputSerializer(many=True)
    created_at = serializers.CharField()
    edited_at = serializers.CharField(allow_null=True)
    deleted = serializers.BooleanField()
    deleted_by = UserBriefSerializer(allow_null=True)


class RoomMessagePageOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = RoomMessageOutputSerializer(many=True)
    has_more = serializers.BooleanField(
        help_text=_("More messages beyond this page (older with before, newer with after).")
    )


class RoomReadOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    room = serializers.IntegerField()
    last_read_message_id = serializers.IntegerField(allow_null=True)
    unread_count = serializers.IntegerField()
    first_unread_id = serializers.IntegerField(allow_null=True)


class RoomActivityRoomSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()


class RoomActivityOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    room = RoomActivityRoomSerializer()
    actor = UserBriefSerializer(allow_null=True)
    verb = serializers.CharField(
        help_text=_(
            "created, joined, left, removed, role_changed, owner_changed, shared, watchlist_changed"
        )
    )
    text = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]
    created_at = serializers.CharField()


class RoomActivityPageOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    results = RoomActivityOutputSerializer(many=True)
    has_more = serializers.BooleanField()
