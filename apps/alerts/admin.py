from django.contrib import admin

from apps.alerts.models import AlertEvent, AlertQuota, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "name", "user", "instrument", "watchlist", "status", "trigger_mode")
    list_filter = ("status", "trigger_mode")
    raw_id_fields = ("user", "instrument", "watchlist")


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "rule", "instrument", "fired_at", "crossing_key")
    raw_id_fields = ("rule", "instrument", "notification")


@admin.register(AlertQuota)
class AlertQuotaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "max_active_rules")
    raw_id_fields = ("user",)
