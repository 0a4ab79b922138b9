"""Baseline of bench/fanout.py: a bare `websockets` server fed from Redis pub/sub.

No Django, no authentication, no sequence numbers, no coalescing: one Redis SUBSCRIBE per
watched symbol (the same channels `apps.realtime.quotes.quotes_publish` publishes to), and
every message is wrapped once in a one-quote `quote.tick` frame and handed to
`websockets.broadcast()` for the connections watching that symbol. It speaks just enough of
docs/websocket.md for the bench client: `hello`, `subscribe` → `subscribed`, `quote.tick`.

    python -m bench.fanout_bare --port 9000 --redis-url redis://... --prefix stocksense:rt
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from urllib.parse import quote as urlquote

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve


class Fanout:
    def __init__(self, redis_url: str, prefix: str) -> None:
        self.prefix = prefix
        self.redis = aioredis.Redis.from_url(redis_url)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.watchers: dict[str, set[ServerConnection]] = defaultdict(set)
        self.lock = asyncio.Lock()

    def channel(self, label: str) -> str:
        exchange, _, symbol = label.partition(":")
        return f"{self.prefix}:quote:{exchange}:{urlquote(symbol, safe='')}"

    async def handler(self, ws: ServerConnection) -> None:
        mine: list[str] = []
        await ws.send('{"type":"hello","seq":0}')
        try:
            async for text in ws:
                frame = json.loads(text)
                labels = [str(s) for s in frame.get("symbols", [])]
                async with self.lock:
                    new = []
                    for label in labels:
                        channel = self.channel(label)
                        if not self.watchers[channel]:
                            new.append(channel)
                        self.watchers[channel].add(ws)
                        mine.append(channel)
                    if new:
                        await self.pubsub.subscribe(*new)
                await ws.send(json.dumps({"type": "subscribed", "seq": 0, "topic": "quotes",
                                          "symbols": labels, "ref": frame.get("ref")}))
        finally:
            for channel in mine:
                self.watchers[channel].discard(ws)

    async def read(self) -> None:
        while True:
            if not self.pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            message = await self.pubsub.get_message(timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            watchers = self.watchers.get(message["channel"].decode())
            if watchers:
                quote = message["data"].decode()
                broadcast(watchers, f'{{"type":"quote.tick","seq":0,"quotes":[{quote}]}}')


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    fanout = Fanout(args.redis_url, args.prefix)
    reader = asyncio.create_task(fanout.read())
    async with serve(fanout.handler, args.host, args.port, compression=None,
                     ping_interval=None, max_size=65536) as server:
        await server.serve_forever()
    reader.cancel()


if __name__ == "__main__":
    asyncio.run(main())
