"""Writes for chart drawings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.charts import selectors
from apps.charts.models import ChartDrawing
from apps.market.models import Instrument

MAX_DRAWINGS_PER_INSTRUMENT = 200


def drawing_create(
    *, user: User, instrument: Instrument, kind: str, points: list[dict[str, Any]], color: str = ""
) -> ChartDrawing:
    """Save a drawing; at most MAX_DRAWINGS_PER_INSTRUMENT per user and instrument."""
    with transaction.atomic():
        # Lock the user's row so two concurrent creates cannot both pass the count check.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if selectors.drawing_count(user=user, instrument=instrument) >= MAX_DRAWINGS_PER_INSTRUMENT:
            raise ValidationError(
                _("You can keep at most %(max)d drawings on one chart; delete some first.")
                % {"max": MAX_DRAWINGS_PER_INSTRUMENT}
            )
        return ChartDrawing.objects.create(
            user=user, instrument=instrument, kind=kind, points=points, color=color
        )


def drawing_delete(*, drawing: ChartDrawing) -> None:
    drawing.delete()
