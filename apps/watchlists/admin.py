from __future__ import annotations

from django.contrib import admin

from apps.watchlists.models import Watchlist, WatchlistItem, WatchlistMember


class WatchlistItemInline(admin.TabularInline[WatchlistItem, Watchlist]):
    model = WatchlistItem
    extra = 0
    raw_id_fields = ("instrument",)
    fields = ("position", "instrument", "note")


class WatchlistMemberInline(admin.TabularInline[WatchlistMember, Watchlist]):
    model = WatchlistMember
    fk_name = "watchlist"
    extra = 0
    raw_id_fields = ("user", "invited_by")
    fields = ("user", "role", "status", "invited_by", "created_at", "responded_at")


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin[Watchlist]):
    """Admin edits bypass the services: they publish no events and skip the limits."""

    list_display = ("name", "owner", "position", "created_at", "updated_at")
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner",)
    inlines = (WatchlistItemInline, WatchlistMemberInline)


@admin.register(WatchlistItem)
class WatchlistItemAdmin(admin.ModelAdmin[WatchlistItem]):
    list_display = ("watchlist", "instrument", "position", "created_at")
    search_fields = ("watchlist__name", "instrument__symbol")
    raw_id_fields = ("watchlist", "instrument")


@admin.register(WatchlistMember)
class WatchlistMemberAdmin(admin.ModelAdmin[WatchlistMember]):
    list_display = ("watchlist", "user", "role", "status", "invited_by", "created_at")
    list_filter = ("role", "status")
    search_fields = ("watchlist__name", "user__email")
    raw_id_fields = ("watchlist", "user", "invited_by")
