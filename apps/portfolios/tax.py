"""Capital gains of listed equity by Indian financial year: an estimate, not tax advice.

Each FIFO realisation (`ledger.Realisation`) is long-term when the shares were held more
than settings.PORTFOLIO_LTCG_MONTHS months — the sale's calendar date (Asia/Kolkata) is later
than the acquisition's date plus that many months — and short-term otherwise. A split keeps
a lot's acquisition date; bonus shares are a lot acquired on the allotment date at nil cost.

The rates (settings.PORTFOLIO_EQUITY_TAX_RATES) are those in force on the sale date, so one
year may hold gains at two rates (2024-25: 15% / 10% before 23 July 2024, 20% / 12.5% from
it). Within a financial year losses are set off as the Income-tax Act allows (s. 70/74):
short-term losses against short-term gains, then against long-term gains; long-term losses
only against long-term gains. Where gains are taxed at different rates a loss absorbs the
highest-rate gains first, as does the long-term exemption (the amount in force at the year's
end), which is the taxpayer's best legal order. Losses left over are reported but not
carried forward to later years.

Not modelled: grandfathering of gains accrued before 1 February 2018 (s. 112A FMV), surcharge
and cess, the basic exemption limit, rounding under s. 288B, and carried-forward losses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument
from apps.portfolios.ledger import Realisation, ledger_replay
from apps.portfolios.metrics import add_months
from apps.portfolios.models import Portfolio
from apps.portfolios.selectors import portfolio_entries
from apps.portfolios.snapshots import local_date

ZERO = Decimal("0")
PAISE = Decimal("0.01")

Term = Literal["short", "long"]

CAVEAT = _(
    "An estimate for listed equity shares, not tax advice: gains are split into short- and "
    "long-term by FIFO holding period and taxed at the rates in force on each sale date, with "
    "losses set off within the year. It ignores grandfathering of gains before 1 February "
    "2018, surcharge and cess, the basic exemption limit and losses carried forward from or "
    "to other years."
)


@dataclass(frozen=True, slots=True)
class TaxRates:
    start: date
    stcg: Decimal
    ltcg: Decimal
    ltcg_exemption: Decimal


def tax_rates() -> list[TaxRates]:
    rows = [
        TaxRates(
            start=date.fromisoformat(str(row["from"])),
            stcg=Decimal(str(row["stcg"])),
            ltcg=Decimal(str(row["ltcg"])),
            ltcg_exemption=Decimal(str(row["ltcg_exemption"])),
        )
        for row in settings.PORTFOLIO_EQUITY_TAX_RATES
    ]
    return sorted(rows, key=lambda r: r.start)


def tax_rates_on(day: date, table: list[TaxRates] | None = None) -> TaxRates:
    """The rates in force on `day` (the earliest set for days before the table starts)."""
    table = table if table is not None else tax_rates()
    found = table[0]
    for rates in table:
        if rates.start <= day:
            found = rates
    return found


def financial_year(day: date) -> tuple[str, date, date]:
    """Label ("2024-25"), first and last day of the April–March year holding `day`."""
    year = day.year if day.month >= 4 else day.year - 1
    return f"{year}-{(year + 1) % 100:02d}", date(year, 4, 1), date(year + 1, 3, 31)


def holding_term(acquired: date, sold: date) -> Term:
    return "long" if sold > add_months(acquired, settings.PORTFOLIO_LTCG_MONTHS) else "short"


@dataclass(frozen=True, slots=True)
class GainRow:
    instrument_id: int
    symbol: str
    acquired: date
    sold: date
    quantity: Decimal
    cost: Decimal
    proceeds: Decimal
    gain: Decimal
    term: Term
    rate: Decimal


@dataclass(slots=True)
class FinancialYearGains:
    year: str  # "2024-25"
    start: date
    end: date
    short_term_gains: Decimal = ZERO  # sum of the gains, before set-off
    short_term_losses: Decimal = ZERO  # sum of the losses, as a positive amount
    long_term_gains: Decimal = ZERO
    long_term_losses: Decimal = ZERO
    net_short_term: Decimal = ZERO  # taxable short-term gains after set-off
    net_long_term: Decimal = ZERO  # long-term gains after set-off, before the exemption
    ltcg_exemption: Decimal = ZERO  # the exemption in force at the year's end
    exemption_used: Decimal = ZERO
    taxable_long_term: Decimal = ZERO
    short_term_tax: Decimal = ZERO
    long_term_tax: Decimal = ZERO
    unabsorbed_short_term_loss: Decimal = ZERO
    unabsorbed_long_term_loss: Decimal = ZERO
    realisations: list[GainRow] = field(default_factory=list)

    @property
    def total_tax(self) -> Decimal:
        return self.short_term_tax + self.long_term_tax


def _absorb(buckets: dict[Decimal, Decimal], amount: Decimal) -> Decimal:
    """Take `amount` out of the gains, highest rate first; return what is left of it."""
    for rate in sorted(buckets, reverse=True):
        take = min(buckets[rate], amount)
        buckets[rate] -= take
        amount -= take
    return amount


def _tax(buckets: Mapping[Decimal, Decimal]) -> Decimal:
    return sum((rate * gain for rate, gain in buckets.items()), ZERO).quantize(
        PAISE, rounding=ROUND_HALF_UP
    )


def _year(
    label: str, start: date, end: date, rows: list[GainRow], table: list[TaxRates]
) -> FinancialYearGains:
    year = FinancialYearGains(year=label, start=start, end=end, realisations=rows)
    short: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    long: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        buckets = short if row.term == "short" else long
        if row.gain > 0:
            buckets[row.rate] += row.gain
        if row.term == "short":
            year.short_term_gains += max(row.gain, ZERO)
            year.short_term_losses += max(-row.gain, ZERO)
        else:
            year.long_term_gains += max(row.gain, ZERO)
            year.long_term_losses += max(-row.gain, ZERO)
    short_loss = _absorb(short, year.short_term_losses)
    year.unabsorbed_long_term_loss = _absorb(long, year.long_term_losses)
    year.unabsorbed_short_term_loss = _absorb(long, short_loss)
    year.net_short_term = sum(short.values(), ZERO)
    year.net_long_term = sum(long.values(), ZERO)
    year.ltcg_exemption = tax_rates_on(end, table).ltcg_exemption
    year.exemption_used = year.ltcg_exemption - _absorb(long, year.ltcg_exemption)
    year.taxable_long_term = sum(long.values(), ZERO)
    year.short_term_tax = _tax(short)
    year.long_term_tax = _tax(long)
    return year


def capital_gains(
    *, realisations: Iterable[Realisation], symbols: Mapping[int, str] | None = None
) -> list[FinancialYearGains]:
    """Short- and long-term gains and the estimated tax per financial year, newest first."""
    table = tax_rates()
    symbols = symbols or {}
    by_year: dict[tuple[str, date, date], list[GainRow]] = defaultdict(list)
    for item in sorted(realisations, key=lambda r: (r.sold_at, r.acquired_at)):
        acquired, sold = local_date(item.acquired_at), local_date(item.sold_at)
        term = holding_term(acquired, sold)
        rates = tax_rates_on(sold, table)
        by_year[financial_year(sold)].append(
            GainRow(
                instrument_id=item.instrument_id,
                symbol=symbols.get(item.instrument_id, ""),
                acquired=acquired,
                sold=sold,
                quantity=item.quantity,
                cost=item.cost,
                proceeds=item.proceeds,
                gain=item.gain,
                term=term,
                rate=rates.ltcg if term == "long" else rates.stcg,
            )
        )
    return [
        _year(label, start, end, rows, table)
        for (label, start, end), rows in sorted(by_year.items(), reverse=True)
    ]


def portfolio_capital_gains(*, portfolio: Portfolio) -> list[FinancialYearGains]:
    """`capital_gains` of every sale in the portfolio (a full FIFO replay)."""
    ledger = ledger_replay(portfolio_entries(portfolio_id=portfolio.pk))
    ids = {r.instrument_id for r in ledger.realisations}
    symbols = dict(Instrument.objects.filter(pk__in=ids).values_list("pk", "symbol"))
    return capital_gains(realisations=ledger.realisations, symbols=symbols)
