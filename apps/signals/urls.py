"""Pages of the signals app: the signals feed, cards and strategies; backtests."""

from django.urls import include, path

app_name = "signals"

urlpatterns = [
    path("", include("apps.signals.pages_signals")),
    path("backtests/", include("apps.signals.pages_backtests")),
]
