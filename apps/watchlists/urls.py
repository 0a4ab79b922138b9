from django.urls import path

from apps.watchlists import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
