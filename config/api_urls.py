"""Every `/api/v1/` route, one include per app."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.market.api_urls")),
    path("", include("apps.watchlists.api_urls")),
    path("", include("apps.charts.api_urls")),
    path("", include("apps.notifications.api_urls")),
    path("", include("apps.alerts.api_urls")),
    path("", include("apps.portfolios.api_urls")),
    path("", include("apps.portfolios.api_analytics_urls")),
    path("", include("apps.portfolios.api_imports_urls")),
    path("", include("apps.rooms.api_urls")),
    path("", include("apps.signals.api_urls")),
]
