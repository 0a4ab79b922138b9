"""Baseline of bench/fanout.py: Channels' `RedisPubSubChannelLayer` group sends.

A separate ASGI application (served by the same ASGI server as `config.asgi`): a trivial
consumer joins one group per subscribed symbol on a pub/sub channel layer; the bench
publisher calls `group_send` once per symbol per tick with the ready `quote.tick` frame text,
and each consumer's handler sends it. No authentication, no sequence numbers, no coalescing.

    daphne bench.fanout_channels:application
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

LAYER_ALIAS = "bench_fanout_pubsub"
LAYER_PREFIX = "stocksense-bench-fanout"


def layer_config() -> dict[str, Any]:
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": LAYER_PREFIX},
    }


def symbol_group(label: str) -> str:
    """Group names allow only [A-Za-z0-9._-]: `NSE:M&M` → `q.4e53453a4d264d`."""
    return "q." + label.encode().hex()


settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS, LAYER_ALIAS: layer_config()}


class FanoutConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = LAYER_ALIAS

    async def connect(self) -> None:
        self.joined: list[str] = []
        await self.accept()
        await self.send(text_data='{"type":"hello","seq":0}')

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        labels = [str(s) for s in frame.get("symbols", [])]
        for label in labels:
            group = symbol_group(label)
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.send(text_data=json.dumps({"type": "subscribed", "seq": 0, "topic": "quotes",
                                              "symbols": labels, "ref": frame.get("ref")}))

    async def quote_tick(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([path("ws/", FanoutConsumer.as_asgi())]),
    }
)
