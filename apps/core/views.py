from __future__ import annotations

import hmac
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView


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


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Can this process serve traffic: are PostgreSQL and Redis reachable?"""
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


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")
