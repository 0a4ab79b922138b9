from django.urls import path

from apps.portfolios import api_imports

urlpatterns = [
    path(
        "portfolios/<int:portfolio_id>/import/",
        api_imports.PortfolioImportApi.as_view(),
        name="api-portfolio-import",
    ),
    path(
        "portfolios/<int:portfolio_id>/export/",
        api_imports.PortfolioExportApi.as_view(),
        name="api-portfolio-export",
    ),
]
