from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every page needs: the WebSocket address the browser should use."""
    ws_url = settings.WS_URL
    if not ws_url and settings.DEBUG:
        scheme = "wss" if request.is_secure() else "ws"
        ws_url = f"{scheme}://{request.get_host().split(':')[0]}:{settings.WS_PORT}/ws/"
    return {"WS_URL": ws_url, "MARKET_DATA_PROVIDER": settings.MARKET_DATA_PROVIDER}
