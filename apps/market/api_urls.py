from django.urls import path

from apps.market import api

urlpatterns = [
    path("instruments/", api.InstrumentListApi.as_view(), name="api-instruments"),
    path(
        "instruments/<str:symbol>/", api.InstrumentDetailApi.as_view(), name="api-instrument"
    ),
    path(
        "instruments/<str:symbol>/candles/",
        api.CandleListApi.as_view(),
        name="api-instrument-candles",
    ),
    path(
        "instruments/<str:symbol>/indicators/",
        api.IndicatorApi.as_view(),
        name="api-instrument-indicators",
    ),
    path("indicators/", api.IndicatorCatalogueApi.as_view(), name="api-indicators"),
    path("quotes/", api.QuoteListApi.as_view(), name="api-quotes"),
    path("market/status/", api.MarketStatusApi.as_view(), name="api-market-status"),
]
