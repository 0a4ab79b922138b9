from django.urls import path

from apps.portfolios import api_analytics as api

urlpatterns = [
    path(
        "portfolios/<int:portfolio_id>/performance/",
        api.PortfolioPerformanceApi.as_view(),
        name="api-portfolio-performance",
    ),
    path(
        "portfolios/<int:portfolio_id>/history/",
        api.PortfolioHistoryApi.as_view(),
        name="api-portfolio-history",
    ),
    path(
        "portfolios/<int:portfolio_id>/tax/",
        api.PortfolioTaxApi.as_view(),
        name="api-portfolio-tax",
    ),
]
