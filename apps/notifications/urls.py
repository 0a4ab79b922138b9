from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("", views.centre, name="notifications"),
]
