"""Market pages: the live instrument table ("Markets") and one instrument's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.market import selectors
from apps.market.calendar import DEFAULT_EXCHANGE, UnknownExchangeError, market_status
from apps.market.feed import feed_status
from apps.market.models import DataSource, Instrument, LatestQuote

MARKET_TZ = ZoneInfo("Asia/Kolkata")
_CENT = Decimal("0.01")


def indian_grouping(digits: str) -> str:
    """Group an unsigned digit string the Indian way: 1,23,45,678 (last three, then pairs)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


def _two_places(value: Decimal) -> tuple[bool, str]:
    """(is negative, "1,23,456.00") rounded half away from zero, as Intl.NumberFormat does."""
    rounded = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):.2f}".partition(".")
    return rounded < 0, f"{indian_grouping(whole)}.{fraction}"


def format_inr(value: Decimal, *, signed: bool = False) -> str:
    """Like `Intl.NumberFormat('en-IN', {style: 'currency', currency: 'INR'})`:
    ₹2,951.20, ₹1,23,456.00, -₹12.30; `signed` adds "+" to non-zero positives."""
    negative, text = _two_places(value)
    if negative:
        return f"-₹{text}"
    return f"+₹{text}" if signed and text != "0.00" else f"₹{text}"


def format_percent(value: Decimal) -> str:
    """+1.67%, -2.04%, 0.00%: the same as markets.js."""
    negative, text = _two_places(value)
    if negative:
        return f"-{text}%"
    return f"+{text}%" if text != "0.00" else f"{text}%"


def format_volume(value: int) -> str:
    return ("-" if value < 0 else "") + indian_grouping(str(abs(value)))


@dataclass(frozen=True)
class MarketRow:
    instrument: Instrument
    quote: LatestQuote | None
    price: str = ""
    change: str = ""
    percent: str = ""
    direction: str = "flat"  # "up" | "down" | "flat"
    volume: str = ""
    at_local: datetime | None = None
    at_is_today: bool = True

    @property
    def simulated(self) -> bool:
        return self.quote is not None and self.quote.source == DataSource.SIMULATED

    @property
    def key(self) -> str:
        return f"{self.instrument.exchange.code}:{self.instrument.symbol}"


def _row(instrument: Instrument, today: object) -> MarketRow:
    quote: LatestQuote | None = getattr(instrument, "latest_quote", None)
    if quote is None:
        return MarketRow(instrument=instrument, quote=None)
    change = quote.last_price - quote.prev_close
    percent = change / quote.prev_close * 100 if quote.prev_close else Decimal(0)
    rounded = change.quantize(_CENT, rounding=ROUND_HALF_UP)
    direction = "up" if rounded > 0 else "down" if rounded < 0 else "flat"
    at_local = quote.at.astimezone(MARKET_TZ)
    return MarketRow(
        instrument=instrument,
        quote=quote,
        price=format_inr(quote.last_price),
        change=format_inr(change, signed=True),
        percent=format_percent(percent),
        direction=direction,
        volume=format_volume(quote.volume),
        at_local=at_local,
        at_is_today=at_local.date() == today,
    )


def market_rows() -> list[MarketRow]:
    """Every active instrument with its stored latest quote: one query (reverse one-to-one
    joined with select_related), symbols A-Z."""
    now = timezone.now().astimezone(MARKET_TZ)
    instruments = (
        Instrument.objects.filter(active=True)
        .select_related("exchange", "latest_quote")
        .order_by("symbol", "exchange__code")
    )
    return [_row(instrument, now.date()) for instrument in instruments]


@login_required
def markets(request: HttpRequest) -> HttpResponse:
    rows = market_rows()
    exchanges = sorted({row.instrument.exchange.code for row in rows})
    try:
        status = market_status(timezone.now(), exchange=DEFAULT_EXCHANGE)
    except UnknownExchangeError:  # an empty database: no exchanges seeded yet
        status = None
    stale_exchanges = {code for code in exchanges if feed_status(exchange=code)["stale"]}
    simulated = any(row.simulated for row in rows)
    sectors = sorted({row.instrument.sector for row in rows if row.instrument.sector})
    search = request.GET.get("q", "").strip()
    sector = request.GET.get("sector", "").strip()

    def matches(row: MarketRow) -> bool:
        # The same rule as markets.js, so the filter works without JavaScript too.
        instrument = row.instrument
        if sector and instrument.sector != sector:
            return False
        needle = search.lower()
        return not needle or (
            needle in instrument.symbol.lower() or needle in instrument.name.lower()
        )

    return render(
        request,
        "market/markets.html",
        {
            "rows": rows,
            "shown": sum(1 for row in rows if matches(row)),
            "visible": {row.key for row in rows if matches(row)},
            "status": status,
            "stale": bool(stale_exchanges),
            "stale_exchanges": stale_exchanges,
            "simulated": simulated,
            "sectors": sectors,
            "search": search,
            "sector": sector,
        },
    )


@login_required
def instrument(request: HttpRequest, symbol: str) -> HttpResponse:
    """One instrument: live price header and the interactive chart (frontend/js/chart.js)."""
    exchange = request.GET.get("exchange", "").strip()
    found = selectors.instrument_get(symbol=symbol, exchange=exchange)
    if found is None:
        raise Http404(_("No such instrument."))
    now = timezone.now()
    row = _row(found, now.astimezone(MARKET_TZ).date())
    try:
        status = market_status(now, exchange=found.exchange.code)
    except UnknownExchangeError:
        status = None
    return render(
        request,
        "market/instrument.html",
        {
            "instrument": found,
            "row": row,
            "status": status,
            "stale": bool(row.quote) and bool(feed_status(exchange=found.exchange.code)["stale"]),
            "simulated": row.simulated,
            "timeframes": CHART_TIMEFRAMES,
        },
    )


# (button label, API timeframe) for the chart's timeframe switcher.
CHART_TIMEFRAMES = [("1m", "1m"), ("5m", "5m"), ("15m", "15m"), ("1h", "1h"), ("1D", "1d"),
                    ("1W", "1w")]
