"""Helpers shared by the network and file providers (not part of the public API)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import requests

from apps.core.http import HttpError, http_request

from .base import ProviderError

IST = ZoneInfo("Asia/Kolkata")


def to_tick(value: Any, tick_size: Decimal, what: str) -> Decimal:
    """`value` (number or numeric string) as a Decimal rounded to the nearest tick."""
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as exc:
        raise ProviderError(f"{what} is not a number: {value!r}", transient=False) from exc
    if not number.is_finite():
        raise ProviderError(f"{what} is not a finite number: {value!r}", transient=False)
    ticks = (number / tick_size).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (ticks * tick_size).quantize(tick_size)


def provider_error(exc: HttpError, source: str) -> ProviderError:
    """HTTP failure -> ProviderError: 4xx permanent; timeouts, network, 429 and 5xx transient."""
    return ProviderError(f"{source}: {exc}", transient=not exc.permanent)


def get_json(
    source: str,
    url: str,
    *,
    session: requests.Session | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> Any:
    """GET `url` through `http_request` and decode JSON. HttpError is left to the caller."""
    response = http_request(
        "GET", url, session=session, params=params, headers=headers, timeout=timeout
    )
    try:
        return response.json()
    except ValueError as exc:  # an HTML error page from a CDN or proxy: try again later
        raise ProviderError(
            f"{source}: {url} did not answer JSON ({response.text[:80]!r})", transient=True
        ) from exc


def tick_price(mapping: Any, key: str, tick_size: Decimal, where: str) -> Decimal:
    """`mapping[key]` as a price on the tick grid; a missing or bad value names `where`."""
    return to_tick(require(mapping, key, where), tick_size, f"{where} {key}")


def require(mapping: Any, key: str, where: str) -> Any:
    """`mapping[key]`, or a permanent ProviderError naming the missing field."""
    if not isinstance(mapping, dict) or mapping.get(key) is None:
        raise ProviderError(f"{where} is missing {key!r}", transient=False)
    return mapping[key]
