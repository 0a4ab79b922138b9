"""When a bar closes: the end of a candle bucket, and which bars are closed at a moment.

Buckets come from :mod:`apps.market.candle_store` (intraday aligned to the 09:15 IST open,
daily at 00:00 IST, weekly on Monday 00:00 IST); a bar closes at the end of its bucket or at
the 15:30 IST session close, whichever is earlier. A daily bar therefore closes at 15:30 IST
of its day, a weekly one at 15:30 IST on Friday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apps.market.calendar import CLOSES_AT
from apps.market.candle_store import INTRADAY_MINUTES, bucket_start

IST = ZoneInfo("Asia/Kolkata")
_RESOLUTION = timedelta(microseconds=1)


def _session_close(day_start: datetime) -> datetime:
    local = day_start.astimezone(IST)
    return datetime.combine(local.date(), CLOSES_AT, tzinfo=IST)


def bar_end(start: datetime, timeframe: str) -> datetime:
    """The moment the bar starting at ``start`` (aware) is complete."""
    if timeframe in INTRADAY_MINUTES:
        end = start + timedelta(minutes=INTRADAY_MINUTES[timeframe])
        close = _session_close(start)
        # The last bucket of the day is cut short by the close (15:15-15:30 for 1h); a bar
        # after the close (a demo feed that never closes) runs its full length.
        return min(end, close) if start < close else end
    if timeframe == "1d":
        return _session_close(start)
    if timeframe == "1w":
        return _session_close(start + timedelta(days=4))
    raise ValueError(f"Unknown timeframe {timeframe!r}")


def closed_bars_end(now: datetime, timeframe: str) -> datetime:
    """An exclusive upper bound on the start of the bars closed at ``now``: every bar that
    starts before it has closed, the bar still forming (if any) starts at or after it."""
    current = bucket_start(now, timeframe)
    if bar_end(current, timeframe) <= now:
        return current + _RESOLUTION  # the current bucket has closed too (after 15:30)
    return current
