"""Keep the cached trading calendar in step with holiday and exchange edits (e.g. the admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.market.calendar import holiday_cache_clear
from apps.market.models import Exchange, MarketHoliday


def _holiday_changed(sender: Any, instance: MarketHoliday, **kwargs: Any) -> None:
    code = instance.exchange.code
    holiday_cache_clear(code)
    # A reader between the write and the commit may re-cache the old set; clear again.
    transaction.on_commit(lambda: holiday_cache_clear(code))


def _exchange_changed(sender: Any, instance: Exchange, **kwargs: Any) -> None:
    code = instance.code
    holiday_cache_clear(code)
    transaction.on_commit(lambda: holiday_cache_clear(code))


def connect() -> None:
    post_save.connect(_holiday_changed, sender=MarketHoliday, dispatch_uid="market-holiday-save")
    post_delete.connect(
        _holiday_changed, sender=MarketHoliday, dispatch_uid="market-holiday-delete"
    )
    post_save.connect(_exchange_changed, sender=Exchange, dispatch_uid="market-exchange-save")
    post_delete.connect(_exchange_changed, sender=Exchange, dispatch_uid="market-exchange-delete")
