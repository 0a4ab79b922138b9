from django.urls import path

from apps.market import views

urlpatterns = [
    path("", views.markets, name="markets"),
    path("<str:symbol>/", views.instrument, name="instrument"),
]
