"""WebSocket routes under /ws/. The real-time issue adds the consumer here."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
