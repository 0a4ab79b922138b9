"""ASGI entry point: the `ws` process serves WebSockets under /ws/.

HTTP is served by the WSGI `web` process (see docs/benchmarks.md for why); this
application still answers HTTP so a single ASGI server can run everything in a pinch.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

django_asgi_app = get_asgi_application()

# Imported after Django is set up: these modules touch models.
from channels.routing import ProtocolTypeRouter  # noqa: E402

from apps.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application(),
    }
)

# Everything made so far (Django, the URLconf, the apps: ~180,000 objects) lives as long as
# the process. Moving it out of the collector's generations means a full collection walks only
# what connections make: with 5,000 sockets open one took 0.7-0.9 s, every event loop stalled
# meanwhile (docs/realtime.md, "Fourth round").
gc.freeze()
