"""The NSE trading calendar: sessions, weekends, seeded holidays, time zones, caching."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.market.calendar import (
    UnknownExchangeError,
    is_trading_day,
    market_status,
    previous_trading_day,
    trading_days,
)
from apps.market.models import Exchange, Instrument, InstrumentKind, MarketHoliday

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")


def ist(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


class TestSeed:
    def test_the_seed_has_fifty_nifty_constituents_and_three_indices(self) -> None:
        equities = Instrument.objects.filter(exchange__code="NSE", kind=InstrumentKind.EQUITY)
        assert equities.count() == 50
        assert all(i.isin and i.sector and i.industry for i in equities)
        indices = set(
            Instrument.objects.filter(kind=InstrumentKind.INDEX).values_list(
                "exchange__code", "symbol"
            )
        )
        assert indices == {("NSE", "NIFTY 50"), ("NSE", "NIFTY BANK"), ("BSE", "SENSEX")}

    def test_well_known_isins_are_seeded_correctly(self) -> None:
        isins = dict(Instrument.objects.values_list("symbol", "isin"))
        assert isins["RELIANCE"] == "INE002A01018"
        assert isins["TCS"] == "INE467B01029"
        assert isins["INFY"] == "INE009A01021"
        assert isins["HDFCBANK"] == "INE040A01034"

    def test_every_seeded_instrument_passes_model_validation(self) -> None:
        for instrument in Instrument.objects.all():
            instrument.full_clean()

    def test_running_the_seed_again_changes_nothing(self) -> None:
        from django.apps import apps

        seed = importlib.import_module(
            "apps.market.migrations.0002_seed_exchanges_nifty50_holidays"
        ).seed

        def rows() -> tuple[list[Any], ...]:
            return (
                list(Exchange.objects.order_by("pk").values_list()),
                list(Instrument.objects.order_by("pk").values_list()),
                list(MarketHoliday.objects.order_by("pk").values_list()),
            )

        before = rows()
        seed(apps, None)
        assert rows() == before

    def test_nse_holidays_for_2025_and_2026_are_seeded_on_weekdays(self) -> None:
        holidays = MarketHoliday.objects.filter(exchange__code="NSE")
        assert holidays.filter(date__year=2025).count() == 14
        assert holidays.filter(date__year=2026).count() == 16
        assert all(h.date.weekday() < 5 for h in holidays)
        assert holidays.get(date=date(2026, 1, 26)).description == "Republic Day"


class TestMarketStatus:
    def test_one_second_before_the_open_is_pre_open(self) -> None:
        status = market_status(ist(2026, 1, 21, 9, 14, 59))
        assert status.status == "pre_open"
        assert status.is_trading_day is True
        assert status.next_open == ist(2026, 1, 21, 9, 15)
        assert status.closes_at is None

    def test_nine_fifteen_exactly_is_open_until_half_past_three(self) -> None:
        status = market_status(ist(2026, 1, 21, 9, 15))
        assert status.status == "open"
        assert status.is_open is True
        assert status.closes_at == ist(2026, 1, 21, 15, 30)
        assert status.next_open == ist(2026, 1, 22, 9, 15)

    def test_one_second_before_the_close_is_still_open(self) -> None:
        assert market_status(ist(2026, 1, 21, 15, 29, 59)).status == "open"

    def test_half_past_three_exactly_is_closed_and_next_open_is_tomorrow(self) -> None:
        status = market_status(ist(2026, 1, 21, 15, 30))
        assert status.status == "closed"
        assert status.closes_at is None
        assert status.next_open == ist(2026, 1, 22, 9, 15)

    def test_early_morning_of_a_trading_day_is_closed_and_opens_the_same_day(self) -> None:
        status = market_status(ist(2026, 1, 21, 8, 59, 59))
        assert (status.status, status.is_trading_day) == ("closed", True)
        assert status.next_open == ist(2026, 1, 21, 9, 15)

    def test_saturday_is_closed_all_day(self) -> None:
        status = market_status(ist(2026, 1, 31, 11, 0))
        assert (status.status, status.is_trading_day) == ("closed", False)
        assert status.next_open == ist(2026, 2, 2, 9, 15)

    def test_republic_day_is_a_seeded_holiday(self) -> None:
        status = market_status(ist(2026, 1, 26, 11, 0))
        assert (status.status, status.is_trading_day) == ("closed", False)
        assert status.next_open == ist(2026, 1, 27, 9, 15)

    def test_next_open_skips_a_long_weekend(self) -> None:
        # Friday after the close; Saturday, Sunday and Monday 26 January (Republic Day) shut.
        status = market_status(ist(2026, 1, 23, 15, 45))
        assert status.next_open == ist(2026, 1, 27, 9, 15)
        # Good Friday 2026 makes another one.
        assert market_status(ist(2026, 4, 2, 16, 0)).next_open == ist(2026, 4, 6, 9, 15)

    def test_a_utc_input_is_read_in_india_time(self) -> None:
        status = market_status(datetime(2026, 1, 21, 4, 0, tzinfo=UTC))  # 09:30 IST
        assert status.status == "open"
        assert status.at == ist(2026, 1, 21, 9, 30)
        assert status.at.utcoffset() == ist(2026, 1, 21).utcoffset()
        assert market_status(datetime(2026, 1, 21, 3, 44, tzinfo=UTC)).status == "pre_open"

    def test_a_late_utc_evening_is_already_the_next_india_day(self) -> None:
        # Sunday 25 Jan 20:00 UTC = Monday 01:30 IST, Republic Day.
        status = market_status(datetime(2026, 1, 25, 20, 0, tzinfo=UTC))
        assert status.is_trading_day is False
        assert status.next_open == ist(2026, 1, 27, 9, 15)

    def test_naive_datetimes_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            market_status(datetime(2026, 1, 21, 10, 0))  # noqa: DTZ001

    def test_an_unknown_exchange_is_rejected(self) -> None:
        with pytest.raises(UnknownExchangeError):
            market_status(ist(2026, 1, 21, 10, 0), exchange="NYSE")

    def test_bse_follows_its_own_holidays(self) -> None:
        assert market_status(ist(2026, 1, 26, 11, 0), exchange="BSE").is_trading_day is False


class TestTradingDays:
    def test_is_trading_day_knows_weekends_and_holidays(self) -> None:
        assert is_trading_day(date(2026, 1, 21)) is True
        assert is_trading_day(date(2026, 1, 24)) is False
        assert is_trading_day(date(2025, 10, 21)) is False  # Diwali Laxmi Pujan

    def test_previous_trading_day_skips_a_long_weekend(self) -> None:
        assert previous_trading_day(date(2026, 1, 27)) == date(2026, 1, 23)
        assert previous_trading_day(date(2026, 1, 22)) == date(2026, 1, 21)

    def test_trading_days_lists_both_ends_inclusive_without_holidays(self) -> None:
        assert trading_days(date(2026, 1, 19), date(2026, 1, 27)) == [
            date(2026, 1, 19), date(2026, 1, 20), date(2026, 1, 21), date(2026, 1, 22),
            date(2026, 1, 23), date(2026, 1, 27),
        ]
        assert trading_days(date(2026, 1, 27), date(2026, 1, 19)) == []

    def test_holidays_are_cached_after_the_first_lookup(
        self, django_assert_num_queries: Any
    ) -> None:
        is_trading_day(date(2026, 1, 21))
        with django_assert_num_queries(0):
            market_status(ist(2026, 1, 21, 10, 0))
            trading_days(date(2026, 1, 1), date(2026, 12, 31))

    def test_adding_or_removing_a_holiday_refreshes_the_cache(self) -> None:
        assert is_trading_day(date(2026, 1, 21)) is True
        nse = Exchange.objects.get(code="NSE")
        holiday = MarketHoliday.objects.create(
            exchange=nse, date=date(2026, 1, 21), description="Test"
        )
        assert is_trading_day(date(2026, 1, 21)) is False
        holiday.delete()
        assert is_trading_day(date(2026, 1, 21)) is True
