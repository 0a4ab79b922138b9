"""Chart drawings a user saved on an instrument's chart: trend lines and horizontal lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument


class DrawingKind(models.TextChoices):
    TREND = "trend", _("Trend line")
    HLINE = "hline", _("Horizontal line")


class ChartDrawing(models.Model):
    """`points` is a list of `{"time": epoch seconds (UTC), "price": "decimal string"}`:
    two for a trend line, earlier first; one `{"price": ...}` for a horizontal line.
    A time is kept as drawn; each timeframe's chart snaps it to the bar holding it
    (frontend/js/chart-time.js)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chart_drawings"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="chart_drawings"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DrawingKind.choices)
    points = models.JSONField(_("points"))
    color = models.CharField(_("colour"), max_length=7, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["user", "instrument", "created_at"])]
        verbose_name = _("chart drawing")
        verbose_name_plural = _("chart drawings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.instrument_id} by {self.user_id}"
