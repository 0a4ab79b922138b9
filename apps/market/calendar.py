"""Exchange trading calendar: sessions, weekends and holidays (from `MarketHoliday`).

Normal session (NSE and BSE): pre-open 09:00-09:15, continuous trading 09:15-15:30, local time.
Holidays come from the database and are cached per exchange in the Django cache; saving or
deleting a `MarketHoliday` drops that exchange's entry (see `holiday_cache_clear`).
Dates outside the seeded years are treated as trading days when they fall Monday-Friday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.core.cache import cache

PRE_OPEN_AT = time(9, 0)
OPENS_AT = time(9, 15)
CLOSES_AT = time(15, 30)
DEFAULT_EXCHANGE = "NSE"
CACHE_TTL_SECONDS = 6 * 60 * 60
# A year of consecutive holidays never happens; this only guards against a corrupt table.
MAX_LOOKAHEAD_DAYS = 366

Status = Literal["pre_open", "open", "closed"]


class UnknownExchangeError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown exchange: {code!r}.")
        self.code = code


@dataclass(frozen=True)
class MarketStatus:
    exchange: str
    status: Status
    is_trading_day: bool
    at: datetime  # the moment asked about, in the exchange's time zone
    next_open: datetime  # the next normal-session open strictly after `at`
    closes_at: datetime | None  # today's close, only while open

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class _ExchangeCalendar:
    code: str
    tz: ZoneInfo
    holidays: frozenset[date]


def _cache_key(code: str) -> str:
    return f"market:calendar:{code}"


def holiday_cache_clear(code: str) -> None:
    cache.delete(_cache_key(code.upper()))


def _calendar(exchange: str) -> _ExchangeCalendar:
    from apps.market.models import Exchange, MarketHoliday

    code = exchange.upper()
    cached = cache.get(_cache_key(code))
    if cached is None:
        row = Exchange.objects.filter(code=code).values("timezone").first()
        if row is None:
            raise UnknownExchangeError(exchange)
        days = MarketHoliday.objects.filter(exchange__code=code).values_list("date", flat=True)
        cached = {"tz": row["timezone"], "holidays": sorted(d.isoformat() for d in days)}
        cache.set(_cache_key(code), cached, CACHE_TTL_SECONDS)
    return _ExchangeCalendar(
        code=code,
        tz=ZoneInfo(cached["tz"]),
        holidays=frozenset(date.fromisoformat(d) for d in cached["holidays"]),
    )


def _is_trading_day(cal: _ExchangeCalendar, day: date) -> bool:
    return day.weekday() < 5 and day not in cal.holidays


def _next_trading_day(cal: _ExchangeCalendar, day: date) -> date:
    """The first trading day strictly after `day`."""
    for offset in range(1, MAX_LOOKAHEAD_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if _is_trading_day(cal, candidate):
            return candidate
    raise RuntimeError(f"No trading day within a year after {day} on {cal.code}.")


def _at(cal: _ExchangeCalendar, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=cal.tz)


def is_trading_day(day: date, exchange: str = DEFAULT_EXCHANGE) -> bool:
    return _is_trading_day(_calendar(exchange), day)


def previous_trading_day(day: date, exchange: str = DEFAULT_EXCHANGE) -> date:
    """The last trading day strictly before `day`."""
    cal = _calendar(exchange)
    for offset in range(1, MAX_LOOKAHEAD_DAYS + 1):
        candidate = day - timedelta(days=offset)
        if _is_trading_day(cal, candidate):
            return candidate
    raise RuntimeError(f"No trading day within a year before {day} on {cal.code}.")


def trading_days(start: date, end: date, exchange: str = DEFAULT_EXCHANGE) -> list[date]:
    """Trading days from `start` to `end`, both included, oldest first."""
    cal = _calendar(exchange)
    days: list[date] = []
    current = start
    while current <= end:
        if _is_trading_day(cal, current):
            days.append(current)
        current += timedelta(days=1)
    return days


def market_status(at: datetime, exchange: str = DEFAULT_EXCHANGE) -> MarketStatus:
    """The session state of `exchange` at the aware moment `at` (any time zone)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("market_status() needs an aware datetime, got a naive one.")
    cal = _calendar(exchange)
    local = at.astimezone(cal.tz)
    today = local.date()
    clock = local.timetz().replace(tzinfo=None)
    trading = _is_trading_day(cal, today)

    status: Status = "closed"
    closes_at: datetime | None = None
    if trading and PRE_OPEN_AT <= clock < OPENS_AT:
        status = "pre_open"
    elif trading and OPENS_AT <= clock < CLOSES_AT:
        status = "open"
        closes_at = _at(cal, today, CLOSES_AT)

    if trading and clock < OPENS_AT:
        next_open = _at(cal, today, OPENS_AT)
    else:
        next_open = _at(cal, _next_trading_day(cal, today), OPENS_AT)

    return MarketStatus(
        exchange=cal.code,
        status=status,
        is_trading_day=trading,
        at=local,
        next_open=next_open,
        closes_at=closes_at,
    )
