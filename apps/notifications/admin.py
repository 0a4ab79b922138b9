from __future__ import annotations

from django.contrib import admin

from apps.notifications.models import Delivery, DeliveryAttempt, Destination, Notification


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin[Destination]):
    list_display = ("id", "user", "kind", "label", "verified_at", "disabled", "last_notify")
    list_filter = ("kind", "disabled")
    raw_id_fields = ("user",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("id", "user", "title", "priority", "source", "created", "read_at")
    list_filter = ("priority", "source")
    raw_id_fields = ("user",)


class AttemptInline(admin.TabularInline[DeliveryAttempt, Delivery]):
    model = DeliveryAttempt
    extra = 0
    readonly_fields = ("at", "status", "provider_id", "error", "duration_ms")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ("id", "notification", "destination", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    raw_id_fields = ("notification", "destination")
    inlines = (AttemptInline,)
