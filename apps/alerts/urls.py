from django.urls import path

from apps.alerts import views

urlpatterns = [path("", views.alerts_page, name="alerts")]
