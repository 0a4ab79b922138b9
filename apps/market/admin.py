from __future__ import annotations

from django.contrib import admin

from apps.market.models import Exchange, Instrument, MarketHoliday


class MarketHolidayInline(admin.TabularInline[MarketHoliday, Exchange]):
    model = MarketHoliday
    extra = 1
    ordering = ("-date",)


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin[Exchange]):
    list_display = ("code", "name", "timezone")
    search_fields = ("code", "name")


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin[Instrument]):
    list_display = (
        "symbol", "exchange", "name", "kind", "sector", "isin", "lot_size", "tick_size", "active"
    )
    list_filter = ("exchange", "kind", "active", "sector")
    search_fields = ("symbol", "name", "isin")
    list_select_related = ("exchange",)
    ordering = ("symbol", "exchange__code")


@admin.register(MarketHoliday)
class MarketHolidayAdmin(admin.ModelAdmin[MarketHoliday]):
    list_display = ("date", "exchange", "description")
    list_editable = ("description",)
    list_filter = ("exchange", "date")
    search_fields = ("description",)
    date_hierarchy = "date"
    ordering = ("-date",)
