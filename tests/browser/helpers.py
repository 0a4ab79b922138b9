"""Steps the browser tests share: a verified account and signing in through the real page."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from allauth.account.models import EmailAddress
from django.db import connections
from playwright.sync_api import Page

from apps.accounts.models import User

T = TypeVar("T")


def verified_user(email: str, password: str, **fields: Any) -> User:
    user = User.objects.create_user(email, password, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Sign in through the login form and wait for the profile page."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base_url}/profile/")


def as_server(service: Callable[..., T], **kwargs: Any) -> T:
    """Call a service as a request would, off this thread: Playwright's event loop runs
    here, and `events.publish` cannot reach the channel layer from an event-loop thread."""

    def call() -> T:
        try:
            return service(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# A function for `locator.evaluate`: how many pixels of the candle colours (#0e8a55 up,
# #d0312d down) the canvases under the element hold -- proof that candles were drawn.
CANDLE_PIXELS = """
(root) => {
  let count = 0;
  for (const canvas of root.querySelectorAll("canvas")) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a < 200) continue;
      const up = Math.abs(r - 14) < 12 && Math.abs(g - 138) < 12 && Math.abs(b - 85) < 12;
      const down = Math.abs(r - 208) < 12 && Math.abs(g - 49) < 12 && Math.abs(b - 45) < 12;
      if (up || down) count += 1;
    }
  }
  return count;
}
"""


def simulated_quote(
    symbol: str, price: str, prev_close: str, volume: int = 1_000_000, age_seconds: float = 1
) -> Any:
    """An NSE quote from the simulated feed, `age_seconds` old, for tests to publish."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.market.providers.base import Quote

    p, c = Decimal(price), Decimal(prev_close)
    return Quote(
        symbol=symbol, exchange="NSE", last_price=p, open=c, high=max(p, c), low=min(p, c),
        prev_close=c, volume=volume, at=timezone.now() - timedelta(seconds=age_seconds),
        simulated=True,
    )  # fmt: skip
