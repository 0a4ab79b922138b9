"""pages_signals"""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
