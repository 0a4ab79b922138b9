from django.urls import path

from apps.portfolios import api

urlpatterns = [
    path("portfolios/", api.PortfolioListCreateApi.as_view(), name="api-portfolios"),
    path("portfolios/<int:portfolio_id>/", api.PortfolioDetailApi.as_view(), name="api-portfolio"),
    path(
        "portfolios/<int:portfolio_id>/summary/",
        api.PortfolioSummaryApi.as_view(),
        name="api-portfolio-summary",
    ),
    path(
        "portfolios/<int:portfolio_id>/transactions/",
        api.TransactionListCreateApi.as_view(),
        name="api-portfolio-transactions",
    ),
    path(
        "portfolios/<int:portfolio_id>/transactions/<int:transaction_id>/",
        api.TransactionDetailApi.as_view(),
        name="api-portfolio-transaction",
    ),
]
