"""Connect/disconnect churn against the `ws` server: does its memory stay flat?

Used by bench/fanout.py. Runs CYCLES short-lived connections, CONCURRENCY at a time, each:
handshake (session cookie), `hello`, subscribe to 20 symbols, read the snapshot, close. The
server's RSS and the number of Redis clients are sampled every SAMPLE_EVERY cycles; the
first samples include one-time growth (imports, pools, pymalloc arenas), so flatness is
judged from the warm-up sample on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections import Counter
from collections.abc import Callable

from websockets.asyncio.client import connect

CYCLES = 10_000
CONCURRENCY = 50
SAMPLE_EVERY = 1_000
WARM_UP = 2_000


@dataclasses.dataclass
class ChurnResult:
    cycles: int = 0
    seconds: float = 0.0
    # (cycles done, server RSS, Redis clients)
    samples: list[tuple[int, int, int]] = dataclasses.field(default_factory=list)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)

    def growth_kb_per_1000(self) -> float:
        """RSS growth from the warm-up sample to the last, in KB per 1,000 cycles."""
        warm = [s for s in self.samples if s[0] >= WARM_UP]
        if len(warm) < 2 or warm[-1][0] == warm[0][0]:
            return 0.0
        return (warm[-1][1] - warm[0][1]) / 1024 / ((warm[-1][0] - warm[0][0]) / 1000)


async def _one(url: str, headers: dict[str, str], symbols: list[str]) -> None:
    async with connect(url, additional_headers=headers, compression=None, ping_interval=None,
                       open_timeout=30, close_timeout=2) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if hello.get("type") != "hello":
            raise RuntimeError(f"first frame {hello.get('type')}")
        await ws.send(json.dumps({"type": "subscribe", "topic": "quotes", "symbols": symbols}))
        while True:  # `subscribed`, then the snapshot
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame.get("type") in ("quote.snapshot", "error"):
                break


async def churn(url: str, headers: dict[str, str], labels: list[str],
                rss: Callable[[], int], redis_clients: Callable[[], int],
                cycles: int = CYCLES) -> ChurnResult:
    result = ChurnResult()
    loop = asyncio.get_running_loop()
    started = loop.time()
    counter = iter(range(cycles))
    result.samples.append((0, rss(), redis_clients()))

    async def worker() -> None:
        for i in counter:
            symbols = [labels[(7 * i + k) % len(labels)] for k in range(20)]
            try:
                await _one(url, headers, symbols)
            except Exception as exc:  # noqa: BLE001 - counted, reported
                result.errors[type(exc).__name__] += 1
            result.cycles += 1
            if result.cycles % SAMPLE_EVERY == 0:
                await asyncio.sleep(0.5)  # let the server finish its disconnects
                with contextlib.suppress(Exception):
                    result.samples.append((result.cycles, rss(), redis_clients()))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    result.seconds = loop.time() - started
    return result
