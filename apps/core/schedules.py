"""Every periodic task, declared in one reviewable place.

`python manage.py install_schedules` (run by the `release` process and `make run`)
writes these into django-celery-beat's database scheduler. Later issues append here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    # Either a crontab (minute, hour, day_of_week) in Asia/Kolkata or an interval in seconds.
    crontab: tuple[str, str, str] | None = None
    every_seconds: int | None = None
    queue: str = "default"
    # Drop a queued run that waited longer than this (a stale poll is worse than none).
    expire_seconds: int | None = None
    kwargs: dict[str, object] = field(default_factory=dict)


SCHEDULES: list[Schedule] = [
    Schedule(
        name="Fetch market quotes",
        task="apps.market.tasks.fetch_quotes",
        every_seconds=settings.MARKET_FETCH_INTERVAL,
        expire_seconds=settings.MARKET_FETCH_INTERVAL,
    ),
    Schedule(
        name="Prune old 1-minute candles",
        task="apps.market.tasks.prune_minute_candles",
        crontab=("15", "2", "*"),
    ),
    Schedule(
        name="Purge expired sessions",
        task="apps.core.tasks.clear_expired_sessions",
        crontab=("30", "3", "*"),
    ),
    Schedule(
        name="Re-queue due and stuck notification deliveries",
        task="apps.notifications.tasks.requeue_deliveries",
        every_seconds=60,
        queue="notifications",
        expire_seconds=60,
    ),
    Schedule(
        name="Send daily notification digests",
        task="apps.notifications.tasks.send_digests",
        crontab=("0", "*", "*"),
        queue="notifications",
    ),
    Schedule(
        name="Portfolio daily snapshots after the close",
        task="apps.portfolios.tasks.portfolios_snapshot_daily",
        crontab=("0", "16", "1-5"),  # Mon-Fri; the NSE session closes at 15:30 IST
    ),
]

# Live signals (docs/signals.md): each run judges the open signals on the bar that just
# closed, then issues new ones. NSE 15-minute bars start at 09:15 and close at :30, :45,
# :00 and :15, so the runs at :31/:46/:01/:16 come a minute after each close (09:01 and
# 09:16 find nothing new; 15:31 takes the day's last bar). The task itself skips holidays.
SCHEDULES += [
    Schedule(
        name=f"Signals on {timeframe} bar close",
        task="apps.signals.tasks.signals_bar_close",
        crontab=crontab,
        expire_seconds=expire,
        kwargs={"timeframe": timeframe},
    )
    for timeframe, crontab, expire in (
        ("15m", ("1,16,31,46", "9-15", "1-5"), 10 * 60),
        ("1d", ("40", "15", "1-5"), 2 * 60 * 60),  # the daily bar closes at 15:30 IST
    )
    if timeframe in settings.SIGNALS_TIMEFRAMES
]
SCHEDULES.append(
    Schedule(
        name="Signals: refresh backtested evidence",
        task="apps.signals.tasks.signals_evidence_refresh_all",
        crontab=("0", "18", "1-5"),
    )
)
