"""ASGI entry point: the `ws` process serves WebSockets under /ws/.

HTTP is served by the WSGI `web` process (see docs/benchmarks.md for why); this
application still answers HTTP so a single ASGI server can run everything in a pinch.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

django_asgi_app = get_asgi_application()

# Imported after Django is set up: these modules touch models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.realtime.auth import WebSocketAuthMiddlewareStack  # noqa: E402
from apps.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            WebSocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
