"""The flood limit on room messages: per user per room, shared by every web and ws process.

A token bucket (GCRA) kept in Redis, the cache's server: one key per (room, user) holding the
"theoretical arrival time", updated by one Lua script, so the check and the update are atomic
across processes and the clock is Redis's own. Sustained `ROOMS_MESSAGE_RATE` messages a
second, bursts of `ROOMS_MESSAGE_BURST`.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.cache import cache

DEFAULT_RATE = 1.0  # messages a second: 5 per 5 s sustained
DEFAULT_BURST = 10

# KEYS[1]: the bucket. ARGV: interval between messages (ms), burst. Returns the ms to wait
# (0: allowed, and counted). Milliseconds: Lua numbers are doubles that Redis formats with
# 14 significant digits, too few for epoch microseconds.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - burst * interval
if now < allowed_at then return allowed_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1)
return 0
"""


def _limits() -> tuple[float, int]:
    rate = float(getattr(settings, "ROOMS_MESSAGE_RATE", DEFAULT_RATE))
    burst = int(getattr(settings, "ROOMS_MESSAGE_BURST", DEFAULT_BURST))
    return rate, burst


def _client() -> Any:
    # Django's Redis cache keeps one connection pool per process; reuse it for the script.
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


def message_slot_take(*, room_id: int, user_id: int) -> float:
    """Count one message of `user_id` in `room_id`: 0.0 when allowed, else the seconds to
    wait before the next one is (nothing is counted then)."""
    rate, burst = _limits()
    interval = max(1, int(1000 / rate))
    key = cache.make_key(f"rooms:flood:{room_id}:{user_id}")
    wait_ms = int(_client().eval(_GCRA, 1, key, interval, burst))
    return 0.0 if wait_ms <= 0 else wait_ms / 1000


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, math.ceil(wait))
