"""Admin for portfolios. Transactions and snapshots are read-only here: a transaction edit
must replay the history and mark snapshots stale, which only the services do."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.portfolios.models import DailySnapshot, Portfolio, Transaction


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin[Portfolio]):
    list_display = ("name", "owner", "benchmark", "position", "snapshots_stale_from", "updated_at")
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner", "benchmark")
    readonly_fields = ("transactions_link", "snapshots_stale_from", "created_at", "updated_at")
    fields = (
        "owner",
        "name",
        "description",
        "base_currency",
        "benchmark",
        "position",
        "transactions_link",
        "snapshots_stale_from",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("transactions"))
    def transactions_link(self, portfolio: Portfolio) -> str:
        # A link, not an inline: a portfolio can hold tens of thousands of transactions.
        if portfolio.pk is None:
            return "-"
        url = reverse("admin:portfolios_transaction_changelist")
        count = Transaction.objects.filter(portfolio=portfolio).count()
        return format_html(
            '<a href="{}?portfolio__id__exact={}">{}</a>',
            url,
            portfolio.pk,
            _("%(count)d transactions") % {"count": count},
        )


@admin.register(Transaction)
class TransactionAdmin(_ReadOnly, admin.ModelAdmin[Transaction]):
    list_display = (
        "executed_at",
        "portfolio",
        "kind",
        "instrument",
        "quantity",
        "price",
        "amount",
        "source",
        "external_id",
    )
    list_filter = ("kind", "source")
    search_fields = ("portfolio__name", "instrument__symbol", "external_id", "notes")
    list_select_related = ("portfolio", "instrument__exchange")
    raw_id_fields = ("portfolio", "instrument")
    date_hierarchy = "executed_at"
    ordering = ("-executed_at", "-id")


@admin.register(DailySnapshot)
class DailySnapshotAdmin(_ReadOnly, admin.ModelAdmin[DailySnapshot]):
    list_display = (
        "portfolio",
        "date",
        "value",
        "net_invested",
        "net_flow",
        "realised_pl",
        "unrealised_pl",
        "charges",
        "benchmark_close",
        "computed_at",
    )
    list_select_related = ("portfolio",)
    raw_id_fields = ("portfolio",)
    date_hierarchy = "date"
    ordering = ("portfolio", "-date")
