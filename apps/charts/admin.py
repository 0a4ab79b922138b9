from __future__ import annotations

from django.contrib import admin

from apps.charts.models import ChartDrawing


@admin.register(ChartDrawing)
class ChartDrawingAdmin(admin.ModelAdmin[ChartDrawing]):
    list_display = ("id", "user", "instrument", "kind", "color", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__email", "instrument__symbol")
    list_select_related = ("user", "instrument", "instrument__exchange")
    raw_id_fields = ("user", "instrument")
    readonly_fields = ("created_at",)
