from __future__ import annotations

import hmac
import time

import redis
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from apps.market.feed import feed_status


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and can answer. Checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
    finally:
        client.close()


READINESS_CHECKS = {"database": _check_database, "redis": _check_redis}


def _market_feed() -> dict[str, object]:
    """The market data feed's state; "degraded" when stale or the breaker is not closed."""
    try:
        feed = feed_status()
    except Exception as exc:  # never let the report itself fail readiness
        return {"status": "degraded", "error": f"{type(exc).__name__}: {exc}"[:300]}
    healthy = not feed["stale"] and feed["state"] == "closed"
    return {"status": "ok" if healthy else "degraded", **feed}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Can this process serve traffic: are PostgreSQL and Redis reachable? (`market_feed` is
    reported too but never makes this 503: stale prices must not empty the load balancer.)"""
    checks: dict[str, dict[str, object]] = {}
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", and says why
            checks[name] = {"status": "fail", "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            checks[name] = {"status": "ok"}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(check["status"] == "ok" for check in checks.values())
    # Informational only: a stale feed must not take this process out of the load balancer.
    if ready:
        checks["market_feed"] = _market_feed()
    else:
        checks["market_feed"] = {"status": "degraded", "error": "database or Redis unavailable"}
    return JsonResponse(
        {"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; in production only with `Authorization: Bearer $METRICS_TOKEN`."""
    if not settings.METRICS_PUBLIC:
        token = settings.METRICS_TOKEN
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("Forbidden", status=403, content_type="text/plain")
    return ExportToDjangoView(request)


@staff_member_required
def system(request: HttpRequest) -> HttpResponse:
    """Staff only: workers, queues, periodic tasks, the feed and the WebSocket processes."""
    from apps.core.system import system_overview

    return render(request, "core/system.html", {"system": system_overview()})


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")
