from __future__ import annotations

from django.contrib import admin

from apps.market.models import CorporateAction, Exchange, Instrument, MarketHoliday


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


@admin.register(CorporateAction)
class CorporateActionAdmin(admin.ModelAdmin[CorporateAction]):
    list_display = ("instrument", "kind", "ratio", "ex_date", "adjustment_factor", "note")
    list_filter = ("kind", "instrument__exchange", "ex_date")
    search_fields = ("instrument__symbol", "instrument__name", "note")
    list_select_related = ("instrument__exchange",)
    autocomplete_fields = ("instrument",)
    date_hierarchy = "ex_date"
    ordering = ("-ex_date", "instrument__symbol")

    @admin.display(description="ratio")
    def ratio(self, obj: CorporateAction) -> str:
        return f"{obj.ratio_from}:{obj.ratio_to}"

    @admin.display(description="factor (prices before ex-date divided by)")
    def adjustment_factor(self, obj: CorporateAction) -> str:
        return f"{obj.factor():.6g}"
