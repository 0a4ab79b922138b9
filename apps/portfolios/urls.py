from django.urls import path

from apps.portfolios import views

urlpatterns = [
    path("", views.portfolio_list_page, name="portfolios"),
    path("<int:portfolio_id>/", views.portfolio_detail_page, name="portfolio"),
    path("<int:portfolio_id>/tax/", views.portfolio_tax_page, name="portfolio_tax"),
]
