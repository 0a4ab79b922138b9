from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core import views as core_views

# The admin logs in through allauth: same rate limits and MFA as the site.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "StockSense administration"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("system/", core_views.system, name="system"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("markets/", include("apps.market.urls")),
    path("dashboard/", include("apps.watchlists.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("alerts/", include("apps.alerts.urls")),
    path("portfolios/", include("apps.portfolios.urls")),
    path("rooms/", include("apps.rooms.urls")),
    path("signals/", include("apps.signals.urls")),
    path("", include("apps.accounts.urls")),
    path("", core_views.landing, name="landing"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
