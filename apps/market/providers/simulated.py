"""A deterministic, clearly simulated NSE/BSE price feed (no network, no database).

Model, per trading day and instrument:

* Daily log-return = beta x market factor + sector factor + idiosyncratic part (+ rare jumps),
  each drawn from a generator seeded by (seed, year, factor), split into an overnight gap and an
  intraday part. Indices follow the market factor (plus their sector factor, if they have one)
  with no idiosyncratic part.
* The 375 one-minute returns of a session (09:15-15:30 IST) are drawn per (seed, date, factor)
  with a U-shaped volatility profile (busier at the open and close) and bridged so that they
  sum exactly to that day's intraday return; daily bars are therefore the aggregate of the
  1m path. Volume follows the same U-shape with noise; indices report zero volume.
* Prices are rounded to the instrument's tick size; `low <= open, close <= high` always holds.
* The price level is anchored at `EPOCH`: `base_prices[symbol]` (or a value derived from a hash
  of the symbol) is the close of the last trading day before `EPOCH`.

The same seed and timestamps give the same numbers in any process (hashes are SHA-256, not
Python's salted `hash`). Trading days come from the injected `trading_days(start, end,
exchange)` callable; the default counts Monday-Friday only so the provider needs no database.
Pass `apps.market.calendar.trading_days` to honour exchange holidays (it reads the DB/cache).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from .base import Bar, InstrumentRef, MarketDataProvider, ProviderError, Quote

TradingDays = Callable[[date, date, str], Sequence[date]]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

IST = ZoneInfo("Asia/Kolkata")
OPENS_AT = time(9, 15)
CLOSES_AT = time(15, 30)
SESSION_MINUTES = 375
ONE_MINUTE = timedelta(minutes=1)
EPOCH = date(2025, 1, 1)
TIMEFRAMES = ("1m", "1d")

GAP_SHARE = 0.2  # share of daily variance that arrives overnight
# kind -> (daily sd, daily jump probability, jump sd)
FACTORS = {
    "market": (0.010, 0.004, 0.025),
    "sector": (0.006, 0.004, 0.020),
    "instrument": (0.011, 0.010, 0.040),
}
_x = (np.arange(SESSION_MINUTES) + 0.5) / SESSION_MINUTES
VOL_PROFILE: FloatArray = 1.0 + 1.5 * (2 * _x - 1) ** 2
VOL_PROFILE /= VOL_PROFILE.sum()  # per-minute variance share; sums to 1
VOLUME_PROFILE: FloatArray = 1.0 + 2.5 * (2 * _x - 1) ** 2
VOLUME_PROFILE /= VOLUME_PROFILE.sum()
_CACHE_LIMIT = 512


def weekdays(start: date, end: date, exchange: str = "NSE") -> list[date]:
    """Monday-Friday from `start` to `end`, both included (no holidays)."""
    days = []
    current = start
    while current <= end:
        if current.weekday() < 5:
            days.append(current)
        current += timedelta(days=1)
    return days


def _digest(*parts: object) -> int:
    text = "|".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class _Component:
    key: str  # e.g. "market", "sector:it", "instrument:RELIANCE"
    kind: str
    weight: float


@dataclass(frozen=True)
class _Day:
    """One simulated session of one instrument, prices in ticks."""

    open: IntArray
    high: IntArray
    low: IntArray
    close: IntArray
    volume: IntArray


class SimulatedProvider(MarketDataProvider):
    name: ClassVar[str] = "simulated"

    def __init__(
        self,
        seed: int = 42,
        always_open: bool = False,
        base_prices: dict[str, Decimal | float | int] | None = None,
        trading_days: TradingDays | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`always_open` makes quotes move at any hour (a session is stretched over the time
        until the next trading day); `now` caps `history` (no future bars)."""
        self.seed = seed & 0xFFFFFFFFFFFFFFFF
        self.always_open = always_open
        self.base_prices = {k.upper(): float(v) for k, v in (base_prices or {}).items()}
        self.trading_days: TradingDays = trading_days or weekdays
        self.now = now or (lambda: datetime.now(UTC))
        self._daily_cache: dict[tuple[str, int], dict[str, FloatArray]] = {}
        self._day_cache: dict[tuple[InstrumentRef, date, float], _Day] = {}

    # -- instrument parameters -----------------------------------------------------------

    def _components(self, ref: InstrumentRef) -> list[_Component]:
        sector = ref.sector.strip().lower()
        if ref.kind == "index":
            comps = [_Component("market", "market", 1.0)]
            if sector:
                comps.append(_Component(f"sector:{sector}", "sector", 1.0))
            return comps
        if ref.kind == "etf":
            beta, idio = 1.0, 0.2
        else:
            beta = 0.7 + 0.6 * (_digest("beta", ref.symbol.upper()) % 10_000) / 10_000
            idio = 1.0
        comps = [_Component("market", "market", beta)]
        if sector:
            comps.append(_Component(f"sector:{sector}", "sector", 1.0))
        comps.append(_Component(f"instrument:{ref.symbol.upper()}", "instrument", idio))
        return comps

    def _base_log_price(self, ref: InstrumentRef) -> float:
        symbol = ref.symbol.upper()
        for key in (f"{ref.exchange.upper()}:{symbol}", symbol):
            if key in self.base_prices:
                return math.log(self.base_prices[key])
        low, high = (5_000.0, 50_000.0) if ref.kind == "index" else (100.0, 5_000.0)
        fraction = (_digest("price", symbol) % 1_000_000) / 1_000_000
        return math.log(low) + fraction * (math.log(high) - math.log(low))

    def _base_volume(self, ref: InstrumentRef) -> float:
        if ref.kind == "index":
            return 0.0
        fraction = (_digest("volume", ref.exchange.upper(), ref.symbol.upper()) % 10_000) / 10_000
        return math.exp(math.log(2e5) + fraction * (math.log(5e6) - math.log(2e5)))

    def _rng(self, *parts: object) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, _digest(*parts)]))

    # -- daily factor draws --------------------------------------------------------------

    def _daily(self, comp: _Component, year: int) -> dict[str, FloatArray]:
        """Per-day draws of one factor for a calendar year, indexed by day of year - 1."""
        cache_key = (comp.key, year)
        cached = self._daily_cache.get(cache_key)
        if cached is None:
            sd, jump_p, jump_sd = FACTORS[comp.kind]
            rng = self._rng("daily", comp.key, year)
            gap = rng.standard_normal(366) * sd * math.sqrt(GAP_SHARE)
            intraday = rng.standard_normal(366) * sd * math.sqrt(1 - GAP_SHARE)
            jumps = np.where(rng.random(366) < jump_p, rng.standard_normal(366) * jump_sd, 0.0)
            cached = {"gap": gap, "intraday": intraday, "jump": jumps}
            self._daily_cache[cache_key] = cached
        return cached

    def _draw(self, comp: _Component, day: date, field: str) -> float:
        return float(self._daily(comp, day.year)[field][day.timetuple().tm_yday - 1])

    def _day_return(self, comps: list[_Component], day: date) -> tuple[float, float]:
        """(total log-return close-to-close, intraday part open-to-close)."""
        total = intraday = 0.0
        for comp in comps:
            g = self._draw(comp, day, "gap")
            i = self._draw(comp, day, "intraday") + self._draw(comp, day, "jump")
            total += comp.weight * (g + i)
            intraday += comp.weight * i
        return total, intraday

    def _log_closes(self, ref: InstrumentRef, days: list[date]) -> dict[date, float]:
        """Log close for each trading day in `days`' span (anchored at `EPOCH`)."""
        comps = self._components(ref)
        base = self._base_log_price(ref)
        first, last = min(days[0], EPOCH), max(days[-1], EPOCH)
        calendar = list(self.trading_days(first, last, ref.exchange))
        after = [d for d in calendar if d >= EPOCH]
        before = [d for d in reversed(calendar) if d < EPOCH]
        out: dict[date, float] = {}
        level = 0.0
        for d in after:
            level += self._day_return(comps, d)[0]
            out[d] = base + level
        level = 0.0
        for d in before:  # newest first: C(d) = -(returns of the days after d, before EPOCH)
            out[d] = base + level
            level -= self._day_return(comps, d)[0]
        return out

    # -- one session ---------------------------------------------------------------------

    def _simulate_day(self, ref: InstrumentRef, day: date, log_close: float) -> _Day:
        cache_key = (ref, day, log_close)
        cached = self._day_cache.get(cache_key)
        if cached is not None:
            return cached
        comps = self._components(ref)
        returns = np.zeros(SESSION_MINUTES)
        minute_var = np.zeros(SESSION_MINUTES)
        day_intraday = 0.0
        for comp in comps:
            sd, _, _ = FACTORS[comp.kind]
            sd_intraday = sd * math.sqrt(1 - GAP_SHARE)
            jump = self._draw(comp, day, "jump")
            target = self._draw(comp, day, "intraday") + jump
            rng = self._rng("intraday", comp.key, day.toordinal())
            raw = sd_intraday * np.sqrt(VOL_PROFILE) * rng.standard_normal(SESSION_MINUTES)
            raw[int(rng.integers(SESSION_MINUTES))] += jump
            bridged = raw + VOL_PROFILE * (target - raw.sum())  # sums to `target`
            returns += comp.weight * bridged
            minute_var += (comp.weight * sd_intraday) ** 2 * VOL_PROFILE
            day_intraday += comp.weight * target

        log_open = log_close - day_intraday
        levels = log_open + np.concatenate(([0.0], np.cumsum(returns)))
        levels[-1] = log_close
        opens, closes = levels[:-1], levels[1:]
        tape = self._rng("tape", ref.exchange.upper(), ref.symbol.upper(), day.toordinal())
        wick = 0.6 * np.sqrt(minute_var)
        highs = np.maximum(opens, closes) + wick * np.abs(tape.standard_normal(SESSION_MINUTES))
        lows = np.minimum(opens, closes) - wick * np.abs(tape.standard_normal(SESSION_MINUTES))

        tick = float(ref.tick_size)

        def ticks(log_prices: FloatArray) -> IntArray:
            return np.maximum(np.rint(np.exp(log_prices) / tick), 1).astype(np.int64)

        o, c, h, lo = ticks(opens), ticks(closes), ticks(highs), ticks(lows)
        h = np.maximum(h, np.maximum(o, c))
        lo = np.minimum(lo, np.minimum(o, c))

        base_volume = self._base_volume(ref)
        day_factor = tape.lognormal(0.0, 0.3) * (1 + 20 * abs(day_intraday))
        minute_noise = tape.lognormal(0.0, 0.4, SESSION_MINUTES)
        shock = 1 + 0.5 * np.abs(returns) / np.sqrt(minute_var + 1e-18)
        volume = np.rint(base_volume * day_factor * VOLUME_PROFILE * minute_noise * shock)

        result = _Day(open=o, high=h, low=lo, close=c, volume=volume.astype(np.int64))
        if len(self._day_cache) >= _CACHE_LIMIT:
            self._day_cache.clear()
        self._day_cache[cache_key] = result
        return result

    # -- public API ----------------------------------------------------------------------

    @staticmethod
    def _price(ticks: int | np.integer, tick_size: Decimal) -> Decimal:
        return (Decimal(int(ticks)) * tick_size).quantize(tick_size)

    def history(
        self, symbol: InstrumentRef, timeframe: str, start: datetime, end: datetime
    ) -> list[Bar]:
        """Bars starting in [start, end), none starting after `now()` (the bar in progress is
        shown as of its close, like `latest_quotes`). A "1d" bar starts at 09:15 IST and
        aggregates that day's 1m bars (today's: only those already started)."""
        if timeframe not in TIMEFRAMES:
            raise ProviderError(
                f"Unsupported timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}.",
                transient=False,
            )
        for moment in (start, end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ProviderError("history() needs aware datetimes.", transient=False)
        now = self.now()
        end = min(end, now + timedelta(microseconds=1))  # the bar in progress is included
        if end <= start:
            return []
        first, last = start.astimezone(IST).date(), end.astimezone(IST).date()
        days = list(self.trading_days(first, last, symbol.exchange))
        if not days:
            return []
        log_closes = self._log_closes(symbol, days)
        tick = symbol.tick_size
        bars: list[Bar] = []
        for day in days:
            session_open = datetime.combine(day, OPENS_AT, tzinfo=IST)
            if session_open > now:
                break
            started = min(SESSION_MINUTES, int((now - session_open) // ONE_MINUTE) + 1)
            sim = self._simulate_day(symbol, day, log_closes[day])
            if timeframe == "1d":
                if start <= session_open < end:
                    bars.append(
                        Bar(
                            symbol=symbol.symbol,
                            timeframe="1d",
                            start=session_open,
                            open=self._price(sim.open[0], tick),
                            high=self._price(sim.high[:started].max(), tick),
                            low=self._price(sim.low[:started].min(), tick),
                            close=self._price(sim.close[started - 1], tick),
                            volume=int(sim.volume[:started].sum()),
                        )
                    )
                continue
            for minute in range(started):
                bar_start = session_open + minute * ONE_MINUTE
                if start <= bar_start < end:
                    bars.append(
                        Bar(
                            symbol=symbol.symbol,
                            timeframe="1m",
                            start=bar_start,
                            open=self._price(sim.open[minute], tick),
                            high=self._price(sim.high[minute], tick),
                            low=self._price(sim.low[minute], tick),
                            close=self._price(sim.close[minute], tick),
                            volume=int(sim.volume[minute]),
                        )
                    )
        return bars

    def _session_at(self, at: datetime, exchange: str) -> tuple[date, int, float]:
        """(session day, number of its 1m bars that have started, how far into the last
        started bar `at` is, 0..1) as seen at `at`."""
        local = at.astimezone(IST)
        today = local.date()
        recent = list(self.trading_days(today - timedelta(days=30), today, exchange))
        if not recent:
            raise ProviderError(f"No trading day in the 30 days up to {today}.", transient=False)
        day = recent[-1]
        if self.always_open:
            following = list(
                self.trading_days(day + timedelta(days=1), day + timedelta(days=30), exchange)
            )
            window_start = datetime.combine(day, time(0), tzinfo=IST)
            window_end = datetime.combine(
                following[0] if following else day + timedelta(days=1), time(0), tzinfo=IST
            )
            position = (local - window_start) / (window_end - window_start) * SESSION_MINUTES
            if position >= SESSION_MINUTES:
                return day, SESSION_MINUTES, 1.0
            return day, int(position) + 1, position - int(position)
        if day == today:
            clock = local.time()
            if clock < OPENS_AT:
                if len(recent) < 2:
                    raise ProviderError("No previous trading day.", transient=False)
                return recent[-2], SESSION_MINUTES, 1.0
            if clock < CLOSES_AT:
                session_open = datetime.combine(day, OPENS_AT, tzinfo=IST)
                elapsed = (local - session_open) / ONE_MINUTE
                return day, int(elapsed) + 1, elapsed - int(elapsed)
        return day, SESSION_MINUTES, 1.0

    def latest_quotes(
        self, symbols: list[InstrumentRef], at: datetime | None = None
    ) -> list[Quote]:
        """Quotes as of `at` (default now), matching the 1m path: during a session the bar
        containing `at` is shown as of its close; outside hours the last session's close
        stands still (unless `always_open`)."""
        at = at or self.now()
        if at.tzinfo is None or at.utcoffset() is None:
            raise ProviderError("latest_quotes() needs an aware datetime.", transient=False)
        sessions: dict[str, tuple[date, int, float]] = {}
        quotes: list[Quote] = []
        for ref in symbols:
            exchange = ref.exchange.upper()
            if exchange not in sessions:
                sessions[exchange] = self._session_at(at, ref.exchange)
            day, started, into_bar = sessions[exchange]
            previous = list(self.trading_days(day - timedelta(days=30), day, ref.exchange))
            log_closes = self._log_closes(ref, previous)
            sim = self._simulate_day(ref, day, log_closes[day])
            tick = ref.tick_size
            if len(previous) >= 2:
                prev_close = self._price(
                    max(1, round(math.exp(log_closes[previous[-2]]) / float(tick))), tick
                )
            else:
                prev_close = self._price(sim.open[0], tick)
            last, bar_high, bar_low = _inside_bar(sim, started - 1, into_bar)
            done = started - 1  # bars already complete
            day_high = max(bar_high, int(sim.high[:done].max())) if done else bar_high
            day_low = min(bar_low, int(sim.low[:done].min())) if done else bar_low
            volume = int(sim.volume[:done].sum()) + int(sim.volume[done] * into_bar)
            quotes.append(
                Quote(
                    symbol=ref.symbol,
                    exchange=ref.exchange,
                    last_price=self._price(last, tick),
                    open=self._price(sim.open[0], tick),
                    high=self._price(day_high, tick),
                    low=self._price(day_low, tick),
                    prev_close=prev_close,
                    volume=volume,
                    at=at.astimezone(IST),
                    simulated=True,
                )
            )
        return quotes


def _inside_bar(sim: _Day, minute: int, into_bar: float) -> tuple[int, int, int]:
    """(price, high so far, low so far) in ticks, `into_bar` (0..1) through a 1m bar.

    Within a minute the price walks open → low → high → close on a rising bar (open → high →
    low → close on a falling one) at thirds of the minute, so polling every few seconds sees
    the price move, and ticks sampled across the minute rebuild the bar's OHLC.
    """
    o, h, lo, c = (int(sim.open[minute]), int(sim.high[minute]), int(sim.low[minute]),
                   int(sim.close[minute]))
    path = [o, lo, h, c] if c >= o else [o, h, lo, c]
    position = min(max(into_bar, 0.0), 1.0) * 3
    leg = min(int(position), 2)
    share = position - leg
    price = round(path[leg] + (path[leg + 1] - path[leg]) * share)
    reached = [*path[: leg + 1], price]
    return price, max(reached), min(reached)
