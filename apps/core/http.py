"""The one way StockSense talks HTTP to other services.

Every call has a timeout. Failures are classified: `HttpError.permanent` is true for
a 4xx answer (our request or credentials are wrong: retrying cannot help) and false for
network errors, timeouts, 429 and 5xx (retry with back-off). URLs that users type
(webhooks) must not reach private addresses, so `user_url=True` checks where the host
resolves before connecting.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings


class HttpError(Exception):
    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def _check_public(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise HttpError(f"Not an http(s) URL: {url}", permanent=True)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise HttpError(f"Cannot resolve {parts.hostname}", permanent=False) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise HttpError(f"{parts.hostname} points to a non-public address", permanent=True)


def http_request(
    method: str,
    url: str,
    *,
    timeout: float | None = None,
    user_url: bool = False,
    session: requests.Session | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request; return the response on 2xx/3xx, raise `HttpError` otherwise."""
    if user_url:
        _check_public(url)
    sender = session or requests
    try:
        response = sender.request(
            method,
            url,
            timeout=timeout or settings.OUTBOUND_HTTP_TIMEOUT,
            allow_redirects=not user_url,
            **kwargs,
        )
    except requests.Timeout as exc:
        raise HttpError(f"Timed out: {method} {url}", permanent=False) from exc
    except requests.RequestException as exc:
        raise HttpError(f"Connection failed: {method} {url}: {exc}", permanent=False) from exc

    if response.status_code >= 400:
        transient = response.status_code == 429 or response.status_code >= 500
        raise HttpError(
            f"{method} {url} answered {response.status_code}: {response.text[:200]}",
            permanent=not transient,
            status=response.status_code,
        )
    return response
