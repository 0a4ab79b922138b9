"""`/api/v1/` routes of the signals app."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.signals.api_signals")),
    path("", include("apps.signals.api_backtests")),
]
