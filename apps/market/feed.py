"""A circuit breaker around the market data provider, and the feed's health.

`FeedGuard(provider).latest_quotes(refs)` calls the provider and records the outcome in the
Django cache (Redis) under `market:feed`, so every web and worker process sees the same state:

* closed: calls go through. Each ProviderError/HttpError counts a consecutive failure; a
  success resets the count and records `last_success`.
* open: after `failure_threshold` consecutive failures, calls fail fast with
  `ProviderError("circuit open", transient=True)` for `cooldown`, without calling the provider.
* half_open: after the cooldown one caller (whoever wins a `cache.add` on a trial key) makes a
  trial call; success closes the breaker, failure opens it for another cooldown. Other callers
  keep failing fast meanwhile.

The read-modify-write of the state is not atomic across processes; the worst race is a failure
counted once too few, which only delays opening by one call.

`feed_status()` says whether quotes are fresh: the feed is `stale` when the market is open and
no call succeeded within `settings.MARKET_STALE_AFTER` seconds (default 60). /readyz reports it
without failing readiness.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter, Gauge

from apps.core.http import HttpError

from .providers.base import InstrumentRef, MarketDataProvider, ProviderError, Quote

CACHE_KEY = "market:feed"
TRIAL_KEY = "market:feed:trial"
DEFAULT_STALE_AFTER = 60

PROVIDER_FAILURES = Counter(
    "stocksense_market_provider_failures",
    "Market data provider calls that failed (the breaker refusing a call is not counted).",
    ["provider"],
)
FEED_STALE = Gauge(
    "stocksense_market_feed_stale",
    "1 when the market is open and no quote arrived within MARKET_STALE_AFTER seconds.",
)
BREAKER_OPEN = Gauge(
    "stocksense_market_breaker_open",
    "1 while the market data circuit breaker is open (refusing calls), else 0.",
)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _load() -> dict[str, Any]:
    state = cache.get(CACHE_KEY)
    return dict(state) if isinstance(state, dict) else {}


def _save(state: dict[str, Any]) -> None:
    cache.set(CACHE_KEY, state, timeout=None)


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


class FeedGuard:
    """Wraps a provider's `latest_quotes` in a circuit breaker shared through the cache."""

    def __init__(
        self,
        provider: MarketDataProvider,
        failure_threshold: int = 3,
        cooldown: timedelta | float = timedelta(seconds=30),
        clock: Clock | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.provider = provider
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown if isinstance(cooldown, timedelta) else timedelta(seconds=cooldown)
        self.clock = clock or _utcnow

    @property
    def provider_name(self) -> str:
        return str(getattr(self.provider, "name", type(self.provider).__name__))

    def _admit(self, state: dict[str, Any], now: datetime) -> None:
        """Raise while open; let exactly one trial call through once the cooldown is over."""
        if state.get("state") not in ("open", "half_open"):
            return
        reopen_at = _parse(state.get("open_until"))
        if reopen_at is not None and now < reopen_at:
            BREAKER_OPEN.set(1)
            raise ProviderError("circuit open", transient=True)
        trial_seconds = max(1, int(self.cooldown.total_seconds()))
        if not cache.add(TRIAL_KEY, now.isoformat(), timeout=trial_seconds):
            BREAKER_OPEN.set(1)
            raise ProviderError("circuit open", transient=True)  # another process is trying
        state["state"] = "half_open"
        _save(state)
        BREAKER_OPEN.set(0)

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        now = self.clock()
        state = _load()
        self._admit(state, now)
        trial = state.get("state") == "half_open"
        try:
            quotes = self.provider.latest_quotes(symbols, at)
        except (ProviderError, HttpError) as exc:
            self._failed(state, now, exc, trial)
            if isinstance(exc, HttpError):
                raise ProviderError(str(exc), transient=not exc.permanent) from exc
            raise
        state.update(
            provider=self.provider_name,
            state="closed",
            failures=0,
            open_until=None,
            last_success=self.clock().isoformat(),
        )
        _save(state)
        if trial:
            cache.delete(TRIAL_KEY)
        BREAKER_OPEN.set(0)
        return quotes

    def _failed(self, state: dict[str, Any], now: datetime, exc: Exception, trial: bool) -> None:
        PROVIDER_FAILURES.labels(provider=self.provider_name).inc()
        failures = int(state.get("failures") or 0) + 1
        state.update(
            provider=self.provider_name,
            failures=failures,
            last_error=f"{type(exc).__name__}: {exc}"[:300],
            last_error_at=now.isoformat(),
        )
        if trial or failures >= self.failure_threshold:
            state["state"] = "open"
            state["open_until"] = (now + self.cooldown).isoformat()
            BREAKER_OPEN.set(1)
        else:
            state.setdefault("state", "closed")
        _save(state)
        if trial:
            cache.delete(TRIAL_KEY)


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "MARKET_STALE_AFTER", DEFAULT_STALE_AFTER)))


def feed_status(now: datetime | None = None, exchange: str = "NSE") -> dict[str, Any]:
    """The shared feed state; also sets the stale and breaker gauges.

    `state` is closed/open/half_open ("half_open" as soon as an open breaker's cooldown is
    over: the next call is a trial). `stale` is true only while `exchange` is open for
    trading and the last success is missing or older than `settings.MARKET_STALE_AFTER`.
    """
    from apps.market.calendar import market_status

    now = now or _utcnow()
    state = _load()
    current = state.get("state") or "closed"
    reopen_at = _parse(state.get("open_until"))
    if current == "open" and (reopen_at is None or now >= reopen_at):
        current = "half_open"
    last_success = _parse(state.get("last_success"))
    market_open = market_status(now, exchange).is_open
    stale = market_open and (last_success is None or now - last_success > stale_after())
    FEED_STALE.set(1 if stale else 0)
    BREAKER_OPEN.set(1 if current == "open" else 0)
    return {
        "provider": state.get("provider")
        or str(getattr(settings, "MARKET_DATA_PROVIDER", "") or ""),
        "state": current,
        "failures": int(state.get("failures") or 0),
        "market_open": market_open,
        "stale": stale,
        "last_success": last_success.isoformat() if last_success else None,
        "as_of": last_success.isoformat() if last_success else None,
        "last_error": state.get("last_error"),
        "last_error_at": state.get("last_error_at"),
    }
