"""Capital gains tax estimate: every figure below is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.portfolios.ledger import Entry, Realisation, ledger_replay
from apps.portfolios.models import TransactionKind as Kind
from apps.portfolios.tax import capital_gains, financial_year, holding_term

IST = ZoneInfo("Asia/Kolkata")
D = Decimal
STOCK = 7


def at(year: int, month: int, day: int, hour: int = 15, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


def sale(acquired: datetime, sold: datetime, cost: str, proceeds: str) -> Realisation:
    return Realisation(instrument_id=STOCK, sell_id=None, lot_entry_id=None,
                       acquired_at=acquired, sold_at=sold, quantity=D("1"), cost=D(cost),
                       proceeds=D(proceeds))  # fmt: skip


@pytest.mark.parametrize(
    ("acquired", "sold", "term"),
    [
        (date(2023, 1, 2), date(2024, 1, 2), "short"),  # exactly 12 months: not "more than"
        (date(2023, 1, 2), date(2024, 1, 3), "long"),
        (date(2023, 3, 31), date(2024, 3, 31), "short"),
        (date(2024, 2, 29), date(2025, 2, 28), "short"),  # + 12 months = 28 Feb 2025
        (date(2024, 2, 29), date(2025, 3, 1), "long"),
    ],
)
def test_long_term_means_held_more_than_twelve_months(
    acquired: date, sold: date, term: str
) -> None:
    assert holding_term(acquired, sold) == term


def test_holding_period_compares_dates_in_india() -> None:
    # Sold at 01:00 IST on 3 Jan 2024 = 19:30 UTC on 2 Jan: in UTC the holding would be
    # exactly 12 months (short-term); in India it is 12 months and a day.
    gain = sale(at(2023, 1, 2, 10, 0), at(2024, 1, 3, 1, 0), "100", "150")
    [year] = capital_gains(realisations=[gain])
    assert year.realisations[0].term == "long"
    assert year.realisations[0].sold == date(2024, 1, 3)


@pytest.mark.parametrize(
    ("day", "label"),
    [(date(2024, 3, 31), "2023-24"), (date(2024, 4, 1), "2024-25"), (date(2000, 1, 5), "1999-00")],
)
def test_financial_years_run_april_to_march(day: date, label: str) -> None:
    assert financial_year(day)[0] == label


def test_fifo_lots_across_a_split_keep_the_original_date_and_cost() -> None:
    # Buy 10 @ 1000 + 20 charges on 2 Jan 2023 (cost 10,020); split 1:5 on 1 Jun 2023 →
    # 50 shares, same cost and date; sell 50 @ 250 less 10 charges on 3 Jan 2024:
    # proceeds 12,490, gain 2,470, held 2 Jan 2023 → 3 Jan 2024: long-term.
    # FY 2023-24: 10% above the 1,00,000 exemption → no tax.
    ledger = ledger_replay([
        Entry(Kind.BUY, at(2023, 1, 2), STOCK, D("10"), D("1000"), charges=D("20"), id=1),
        Entry(Kind.SPLIT, at(2023, 6, 1), STOCK, ratio_from=1, ratio_to=5, id=2),
        Entry(Kind.SELL, at(2024, 1, 3), STOCK, D("50"), D("250"), charges=D("10"), id=3),
    ])  # fmt: skip
    [year] = capital_gains(realisations=ledger.realisations, symbols={STOCK: "RELIANCE"})
    assert year.year == "2023-24"
    [row] = year.realisations
    assert (row.symbol, row.acquired, row.sold, row.quantity) == (
        "RELIANCE",
        date(2023, 1, 2),
        date(2024, 1, 3),
        D("50"),
    )
    assert (row.cost, row.proceeds, row.gain, row.term, row.rate) == (
        D("10020"),
        D("12490"),
        D("2470"),
        "long",
        D("0.10"),
    )
    assert (year.long_term_gains, year.net_long_term, year.ltcg_exemption) == (
        D("2470"),
        D("2470"),
        D("100000"),
    )
    assert (year.exemption_used, year.taxable_long_term, year.total_tax) == (
        D("2470"),
        D("0"),
        D("0"),
    )


def test_a_bonus_lot_costs_nothing_and_starts_a_new_holding_period() -> None:
    # Buy 100 @ 500 on 3 Apr 2023 (cost 50,000); bonus 1:1 on 1 Feb 2024 (100 shares,
    # nil cost, acquired 1 Feb 2024); sell 150 @ 400 on 2 May 2024. FIFO: the 100 original
    # shares are long-term, cost 50,000, proceeds 40,000 → loss 10,000; 50 bonus shares are
    # short-term, cost 0, proceeds 20,000 → gain 20,000.
    # FY 2024-25, sold before 23 Jul 2024: STCG at 15%. The long-term loss may not reduce the
    # short-term gain: STCG tax 20,000 × 15% = 3,000, the 10,000 long-term loss is left over.
    ledger = ledger_replay([
        Entry(Kind.BUY, at(2023, 4, 3), STOCK, D("100"), D("500"), id=1),
        Entry(Kind.BONUS, at(2024, 2, 1), STOCK, ratio_from=1, ratio_to=1, id=2),
        Entry(Kind.SELL, at(2024, 5, 2), STOCK, D("150"), D("400"), id=3),
    ])  # fmt: skip
    [year] = capital_gains(realisations=ledger.realisations)
    assert year.year == "2024-25"
    original, bonus = year.realisations
    assert (original.quantity, original.cost, original.gain, original.term) == (
        D("100"),
        D("50000"),
        D("-10000"),
        "long",
    )
    assert (bonus.quantity, bonus.acquired, bonus.cost, bonus.gain, bonus.term, bonus.rate) == (
        D("50"),
        date(2024, 2, 1),
        D("0"),
        D("20000"),
        "short",
        D("0.15"),
    )
    assert (year.net_short_term, year.short_term_tax) == (D("20000"), D("3000.00"))
    assert (year.net_long_term, year.long_term_tax) == (D("0"), D("0"))
    assert year.unabsorbed_long_term_loss == D("10000")
    assert year.total_tax == D("3000.00")


def test_sales_either_side_of_23_july_2024_use_the_rates_in_force() -> None:
    # Short-term: 10,000 on 22 Jul (15%) and 10,000 on 24 Jul (20%) → 1,500 + 2,000.
    # Long-term: 2,00,000 on 22 Jul (10%) and 1,00,000 on 1 Aug (12.5%). The FY 2024-25
    # exemption in force at the year's end is 1,25,000, used on the 12.5% gain first:
    # 1,00,000 of it clears the 12.5% gain, 25,000 reduces the 10% gain to 1,75,000 →
    # LTCG tax 17,500. Total 3,500 + 17,500 = 21,000.
    old = at(2022, 1, 3)
    gains = [
        sale(at(2024, 3, 1), at(2024, 7, 22), "10000", "20000"),
        sale(at(2024, 3, 1), at(2024, 7, 24), "10000", "20000"),
        sale(old, at(2024, 7, 22), "100000", "300000"),
        sale(old, at(2024, 8, 1), "100000", "200000"),
    ]
    [year] = capital_gains(realisations=gains)
    # Rows in sale order (then acquisition): 22 Jul long, 22 Jul short, 24 Jul, 1 Aug.
    assert [(row.term, row.rate) for row in year.realisations] == [
        ("long", D("0.10")),
        ("short", D("0.15")),
        ("short", D("0.20")),
        ("long", D("0.125")),
    ]
    assert (year.short_term_gains, year.short_term_tax) == (D("20000"), D("3500.00"))
    assert (year.long_term_gains, year.ltcg_exemption, year.exemption_used) == (
        D("300000"),
        D("125000"),
        D("125000"),
    )
    assert (year.taxable_long_term, year.long_term_tax) == (D("175000"), D("17500.00"))
    assert year.total_tax == D("21000.00")


def test_losses_are_set_off_short_against_short_then_long() -> None:
    # FY 2023-24 (10% LTCG, 15% STCG, exemption 1,00,000).
    # Short-term: +50,000 and −80,000 → net −30,000, carried against long-term gains.
    # Long-term: +2,50,000 and −20,000 → 2,30,000; less the 30,000 short-term loss →
    # 2,00,000; less the exemption 1,00,000 → 1,00,000 taxable → 10,000 tax.
    recent, old = at(2023, 12, 1), at(2022, 5, 2)
    gains = [
        sale(recent, at(2024, 1, 10), "100000", "150000"),
        sale(recent, at(2024, 1, 11), "100000", "20000"),
        sale(old, at(2024, 2, 1), "50000", "300000"),
        sale(old, at(2024, 2, 2), "40000", "20000"),
    ]
    [year] = capital_gains(realisations=gains)
    assert (year.short_term_gains, year.short_term_losses) == (D("50000"), D("80000"))
    assert (year.long_term_gains, year.long_term_losses) == (D("250000"), D("20000"))
    assert (year.net_short_term, year.net_long_term) == (D("0"), D("200000"))
    assert (year.taxable_long_term, year.short_term_tax, year.long_term_tax) == (
        D("100000"),
        D("0"),
        D("10000.00"),
    )
    assert (year.unabsorbed_short_term_loss, year.unabsorbed_long_term_loss) == (D("0"), D("0"))


def test_a_loss_larger_than_all_gains_is_left_over_and_years_are_newest_first() -> None:
    gains = [
        sale(at(2024, 1, 1), at(2024, 3, 28), "5000", "1000"),  # FY 2023-24: ST loss 4,000
        sale(at(2022, 1, 1), at(2024, 3, 29), "1000", "2500"),  # LT gain 1,500
        sale(at(2024, 4, 2), at(2024, 6, 3), "1000", "1200"),  # FY 2024-25: ST gain 200
    ]
    newer, older = capital_gains(realisations=gains)
    assert (newer.year, older.year) == ("2024-25", "2023-24")
    assert (newer.net_short_term, newer.short_term_tax) == (D("200"), D("30.00"))
    # 4,000 short-term loss: 1,500 absorbed by the long-term gain, 2,500 left; not carried.
    assert (older.net_long_term, older.unabsorbed_short_term_loss, older.total_tax) == (
        D("0"),
        D("2500"),
        D("0"),
    )
