from django.urls import path

from apps.market import views

urlpatterns = [
    path("", views.markets, name="markets"),
]
