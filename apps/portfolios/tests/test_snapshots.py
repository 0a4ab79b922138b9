"""Daily snapshots: values checked by hand, incremental rebuild after an edit, the tasks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.market.models import Candle, DataSource, Instrument
from apps.portfolios import services, snapshots, tasks
from apps.portfolios.models import DailySnapshot, Portfolio
from apps.portfolios.tests.conftest import IST, ist, tx_add
from config.celery import app as celery_app

D = Decimal
MON, TUE, WED, THU, FRI = (date(2025, 3, d) for d in (3, 4, 5, 6, 7))
SAT, NEXT_MON = date(2025, 3, 8), date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _eager_tasks() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def close(instrument: Instrument, day: date, price: str) -> None:
    Candle.objects.create(
        instrument=instrument, timeframe="1d", start=datetime.combine(day, time.min, IST),
        open=D(price), high=D(price), low=D(price), close=D(price), volume=1,
        source=DataSource.CSV,
    )  # fmt: skip


@pytest.fixture
def history(portfolio: Portfolio, instruments: dict[str, Instrument]) -> dict[str, Any]:
    """The week worked through in `test_snapshots_of_a_week_checked_by_hand`."""
    rel, tcs, nifty = instruments["RELIANCE"], instruments["TCS"], instruments["NIFTY 50"]
    rows = {
        "deposit": tx_add(portfolio, "deposit", ist(2025, 3, 3, 9, 0), amount="2000"),
        "buy_rel": tx_add(portfolio, "buy", ist(2025, 3, 3, 10, 0), rel, quantity="10",
                          price="100", brokerage="5"),
        "buy_tcs": tx_add(portfolio, "buy", ist(2025, 3, 4, 11, 0), tcs, quantity="5",
                          price="200"),
        "sell_rel": tx_add(portfolio, "sell", ist(2025, 3, 5, 12, 0), rel, quantity="4",
                           price="110", stt="2"),
        "dividend": tx_add(portfolio, "dividend", ist(2025, 3, 5, 13, 0), tcs, amount="20"),
        "split": tx_add(portfolio, "split", ist(2025, 3, 6, 9, 0), rel, ratio_from=1,
                        ratio_to=2),
        "fee": tx_add(portfolio, "fee", ist(2025, 3, 8, 10, 0), amount="10"),
    }  # fmt: skip
    close(rel, MON, "102")  # no RELIANCE candle on Tuesday: Monday's close carries forward
    close(rel, WED, "108")
    close(rel, THU, "55")  # after the 1:2 split
    close(tcs, TUE, "210")
    close(tcs, WED, "205")
    for day, level in ((MON, "22000"), (TUE, "22100"), (WED, "21900"), (THU, "22050")):
        close(nifty, day, level)
    return rows


def _rows(portfolio: Portfolio) -> dict[date, DailySnapshot]:
    return {row.date: row for row in DailySnapshot.objects.filter(portfolio=portfolio)}


def _figures(row: DailySnapshot) -> tuple[Decimal | None, ...]:
    return (row.value, row.cash, row.net_invested, row.net_flow, row.realised_pl,
            row.unrealised_pl, row.charges, row.benchmark_close)  # fmt: skip


def test_snapshots_of_a_week_checked_by_hand(portfolio: Portfolio, history: Any) -> None:
    written = snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=NEXT_MON)
    rows = _rows(portfolio)
    assert written == 6
    assert sorted(rows) == [MON, TUE, WED, THU, FRI, NEXT_MON]  # trading days only
    # figures: value, cash, net_invested, net_flow, realised, unrealised, charges, benchmark
    # Mon: deposit 2000; buy 10 @ 100 + 5 charges. Value 10 × 102 = 1020; money in 1005;
    # cash 2000 − 1005 = 995; unrealised 1020 − 1000 − 5 = 15.
    assert _figures(rows[MON]) == (D("1020"), D("995"), D("1000"), D("1005"), D("0"),
                                   D("15"), D("5"), D("22000"))  # fmt: skip
    # Tue: buy 5 TCS @ 200 (close 210); RELIANCE carried at 102. 1020 + 1050 = 2070;
    # unrealised 2070 − 2000 − 5 = 65; cash 995 − 1000 = −5.
    assert _figures(rows[TUE]) == (D("2070"), D("-5"), D("2000"), D("1000"), D("0"),
                                   D("65"), D("5"), D("22100"))  # fmt: skip
    # Wed: sell 4 RELIANCE @ 110 less 2 STT: FIFO cost 4 × 1005/10 = 402, proceeds 438,
    # gain 36; TCS dividend 20 → realised 56. Money out 438 + 20 = 458. Net invested
    # 2000 − 440 − 20 = 1540; charges 7. Value 6 × 108 + 5 × 205 = 1673; unrealised
    # 1673 − 1540 − 7 − 56 = 70 (= 1673 − open cost 603 − 1000). Cash −5 + 438 + 20 = 453.
    assert _figures(rows[WED]) == (D("1673"), D("453"), D("1540"), D("-458"), D("56"),
                                   D("70"), D("7"), D("21900"))  # fmt: skip
    # Thu: split 1:2 → 12 RELIANCE at 55 = 660, TCS carried at 205: 1685; unrealised 82.
    assert _figures(rows[THU]) == (D("1685"), D("453"), D("1540"), D("0"), D("56"),
                                   D("82"), D("7"), D("22050"))  # fmt: skip
    # Fri: no candles at all: everything carried forward.
    assert _figures(rows[FRI]) == _figures(rows[THU])[:3] + (D("0"),) + _figures(rows[THU])[4:]
    # Saturday's fee lands in Monday's snapshot: money in 10, realised 56 − 10 = 46.
    assert _figures(rows[NEXT_MON]) == (D("1685"), D("443"), D("1540"), D("10"), D("46"),
                                        D("82"), D("17"), D("22050"))  # fmt: skip
    for row in rows.values():
        assert row.realised_pl + row.unrealised_pl == row.value - row.net_invested - row.charges


def test_an_instrument_without_any_close_is_valued_at_its_last_trade_price(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    tx_add(portfolio, "buy", ist(2025, 3, 3), instruments["INFY"], quantity="3", price="1500")
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=TUE)
    rows = _rows(portfolio)
    assert [rows[MON].value, rows[TUE].value] == [D("4500"), D("4500")]
    assert rows[MON].benchmark_close is None  # NIFTY 50 has no candles here


def test_an_edit_in_the_past_rebuilds_only_from_its_date(
    portfolio: Portfolio, history: dict[str, Any]
) -> None:
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=NEXT_MON)
    before = _rows(portfolio)

    with_edit = services.transaction_update(
        portfolio=portfolio, transaction_id=history["sell_rel"].pk, changes={"price": D("120")}
    )
    assert with_edit.price == D("120")
    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from == WED

    assert snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=NEXT_MON) == 4
    after = _rows(portfolio)
    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from is None
    for day in (MON, TUE):
        assert after[day].pk == before[day].pk
        assert after[day].computed_at == before[day].computed_at
    for day in (WED, THU, FRI, NEXT_MON):
        assert after[day].computed_at > before[day].computed_at
    # The sell brought 40 more: realised +40, net invested −40, money out +40 on Wednesday.
    assert after[WED].realised_pl == before[WED].realised_pl + 40
    assert after[WED].net_invested == before[WED].net_invested - 40
    assert after[WED].net_flow == before[WED].net_flow - 40
    assert after[THU].value == before[THU].value


def test_deleting_every_transaction_deletes_the_snapshots(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    row = tx_add(portfolio, "buy", ist(2025, 3, 3), instruments["TCS"], quantity="1", price="9")
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=FRI)
    assert DailySnapshot.objects.filter(portfolio=portfolio).count() == 5
    services.transaction_delete(portfolio=portfolio, transaction_id=row.pk)
    assert snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=FRI) == 0
    assert not DailySnapshot.objects.filter(portfolio=portfolio).exists()
    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from is None


def test_moving_the_first_transaction_later_drops_the_days_before_it(
    portfolio: Portfolio, instruments: dict[str, Instrument]
) -> None:
    row = tx_add(portfolio, "buy", ist(2025, 3, 3), instruments["TCS"], quantity="1", price="9")
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=FRI)
    services.transaction_update(
        portfolio=portfolio, transaction_id=row.pk, changes={"executed_at": ist(2025, 3, 5)}
    )
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=FRI)
    assert sorted(_rows(portfolio)) == [WED, THU, FRI]


def test_a_rebuild_without_news_writes_nothing_and_extends_later(
    portfolio: Portfolio, history: Any
) -> None:
    assert snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=WED) == 3
    first = _rows(portfolio)
    assert snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=WED) == 0
    assert snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=FRI) == 2
    rows = _rows(portfolio)
    assert all(rows[day].computed_at == first[day].computed_at for day in (MON, TUE, WED))
    # Extending gives the same figures as a rebuild from scratch.
    extended = {day: _figures(row) for day, row in rows.items()}
    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, from_date=MON, until=FRI)
    assert {day: _figures(row) for day, row in _rows(portfolio).items()} == extended


def test_the_task_is_idempotent(
    portfolio: Portfolio, history: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "last_completed_trading_day", lambda: NEXT_MON)
    assert tasks.portfolio_snapshots_rebuild.delay(portfolio.pk).get() == 6
    once = {day: _figures(row) for day, row in _rows(portfolio).items()}
    assert tasks.portfolio_snapshots_rebuild.delay(portfolio.pk).get() == 0
    assert {day: _figures(row) for day, row in _rows(portfolio).items()} == once
    assert tasks.portfolio_snapshots_rebuild.delay(10**9).get() is None  # deleted portfolio


def test_an_edit_queues_the_rebuild_after_commit(
    portfolio: Portfolio,
    history: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(snapshots, "last_completed_trading_day", lambda: NEXT_MON)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.transaction_delete(portfolio=portfolio, transaction_id=history["fee"].pk)
    assert [c for c in callbacks if getattr(c, "func", None) is services._queue_rebuild]
    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from is None
    assert _rows(portfolio)[NEXT_MON].charges == D("7")


def test_the_daily_task_queues_portfolios_with_transactions(
    portfolio: Portfolio,
    history: Any,
    user: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    services.portfolio_create(owner=user, name="Empty")
    monkeypatch.setattr(snapshots, "last_completed_trading_day", lambda: FRI)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.portfolios_snapshot_daily() == 1
    assert sorted(_rows(portfolio)) == [MON, TUE, WED, THU, FRI]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ist(2025, 3, 5, 15, 29), date(2025, 3, 4)),  # Wednesday, before the close
        (ist(2025, 3, 5, 15, 30), date(2025, 3, 5)),  # at the close
        (ist(2025, 3, 8, 12, 0), date(2025, 3, 7)),  # Saturday → Friday
        (ist(2025, 3, 14, 18, 0), date(2025, 3, 13)),  # Holi (holiday) → Thursday
    ],
)
def test_last_completed_trading_day(
    instruments: Any, market_seed: None, now: datetime, expected: date
) -> None:
    assert snapshots.last_completed_trading_day(now) == expected


def test_todays_snapshot_uses_the_latest_quotes(
    portfolio: Portfolio, history: Any, instruments: dict[str, Instrument]
) -> None:
    from apps.portfolios.tests.conftest import quote_set

    snapshots.portfolio_snapshots_rebuild(portfolio=portfolio, until=NEXT_MON)
    quote_set(instruments["RELIANCE"], "60", "55")
    quote_set(instruments["NIFTY 50"], "22200", "22050")
    today = snapshots.portfolio_snapshot_today(portfolio=portfolio)
    assert today.pk is None
    assert today.date == timezone.localdate()
    # 12 RELIANCE at 60 + 5 TCS at its last close 205; no new money since the last snapshot.
    assert (today.value, today.net_flow, today.benchmark_close) == (D("1745"), D("0"), D("22200"))


def test_the_daily_task_is_scheduled_after_the_close_on_weekdays(db: None) -> None:
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("install_schedules")
    task = PeriodicTask.objects.get(task="apps.portfolios.tasks.portfolios_snapshot_daily")
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "16", "1-5")
    assert str(task.crontab.timezone) == "Asia/Kolkata"
