from __future__ import annotations

from django.contrib import admin

from apps.rooms.models import Activity, Message, Reaction, Room, RoomInvitation, RoomMember


class RoomMemberInline(admin.TabularInline[RoomMember, Room]):
    model = RoomMember
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "role", "joined_at", "last_read_message_id")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    """Admin edits bypass the services: they publish no events, skip the caps and do not
    move anyone's access to the shared watchlist. Use it to look, and to delete abuse."""

    list_display = ("name", "owner", "visibility", "watchlist", "created_at", "updated_at")
    list_filter = ("visibility",)
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner", "watchlist")
    inlines = (RoomMemberInline,)


@admin.register(RoomInvitation)
class RoomInvitationAdmin(admin.ModelAdmin[RoomInvitation]):
    list_display = (
        "room",
        "user",
        "status",
        "invited_by",
        "uses",
        "max_uses",
        "expires_at",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("room__name", "user__email")
    raw_id_fields = ("room", "user", "invited_by")
    exclude = ("token",)  # a live link is a credential: not shown


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ("id", "room", "author", "kind", "created_at", "edited_at", "deleted_at")
    list_filter = ("kind",)
    search_fields = ("room__name", "author__email", "body")
    raw_id_fields = ("room", "author", "parent", "deleted_by")
    date_hierarchy = "created_at"


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin[Reaction]):
    list_display = ("message", "user", "emoji", "created_at")
    raw_id_fields = ("message", "user")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin[Activity]):
    list_display = ("id", "room", "actor", "verb", "created_at")
    list_filter = ("verb",)
    search_fields = ("room__name", "actor__email")
    raw_id_fields = ("room", "actor")
