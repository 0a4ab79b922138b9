from django.urls import path

from apps.market import api

urlpatterns = [
    path("instruments/", api.InstrumentListApi.as_view(), name="api-instruments"),
    path(
        "instruments/<str:symbol>/", api.InstrumentDetailApi.as_view(), name="api-instrument"
    ),
    path("market/status/", api.MarketStatusApi.as_view(), name="api-market-status"),
]
