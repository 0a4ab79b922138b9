"""Reads for chart drawings: a user only ever sees their own."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.charts.models import ChartDrawing
from apps.market.models import Instrument


def drawing_list(*, user: User, instrument: Instrument | None = None) -> QuerySet[ChartDrawing]:
    queryset = ChartDrawing.objects.filter(user=user)
    if instrument is not None:
        queryset = queryset.filter(instrument=instrument)
    return queryset.order_by("created_at", "id")


def drawing_count(*, user: User, instrument: Instrument) -> int:
    return ChartDrawing.objects.filter(user=user, instrument=instrument).count()
