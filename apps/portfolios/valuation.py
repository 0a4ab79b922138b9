"""What a replayed portfolio is worth at given prices: holdings, totals, allocation, warnings.

Pure and fast (no database, no I/O): the summary API calls it with stored quotes, the live
`portfolio.update` path with tick prices, once a second per open portfolio.

Numbers are exact `Decimal`s in `Valuation`; `valuation_data` / `valuation_live_data`
round them for JSON (money 2 places, prices 4, quantities 6, percentages 2, weights 4; half
up). Totals are rounded from the exact values, so they can differ from the sum of the
rounded rows by a paisa.

Prices: a holding is valued at its quote; without one, at the last daily close the caller
passes as a `ClosePrice`; without either, at its cost (`priced: false`, no gain or loss).

Day change: quantity × (last − previous close) per lot, except that a lot bought in the
quote's session (or later) is measured from what it cost, charges included, as that is
what the day's P/L moved by. Bonus lots (nil cost) always use the previous close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from apps.market.models import Instrument, MarketCap
from apps.portfolios.ledger import Ledger

IST = ZoneInfo("Asia/Kolkata")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
MONEY = Decimal("0.01")
PRICE = Decimal("0.0001")
QUANTITY = Decimal("0.000001")
PERCENT = Decimal("0.01")
WEIGHT = Decimal("0.0001")

PRICE_QUOTE = "quote"
PRICE_CLOSE = "close"
PRICE_COST = "cost"


class QuoteLike(Protocol):
    """A latest quote: `apps.market.providers.base.Quote`, a `LatestQuote` row, a live tick."""

    @property
    def last_price(self) -> Decimal: ...

    @property
    def prev_close(self) -> Decimal: ...

    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class ClosePrice:
    """The last known daily close of an instrument without a quote (no day change)."""

    last_price: Decimal
    at: datetime
    simulated: bool = False

    @property
    def prev_close(self) -> Decimal:
        return self.last_price


@dataclass(frozen=True, slots=True)
class HoldingValue:
    instrument_id: int
    symbol: str
    exchange: str
    name: str
    sector: str
    market_cap: str
    quantity: Decimal
    average_cost: Decimal | None
    invested: Decimal  # cost of the open lots, buy charges included
    last_price: Decimal
    prev_close: Decimal | None
    current_value: Decimal
    unrealised_pl: Decimal
    unrealised_pl_percent: Decimal | None
    realised_pl: Decimal  # sells and dividends of this instrument so far
    dividends: Decimal
    day_change: Decimal
    day_change_percent: Decimal | None
    weight: Decimal
    priced: bool
    price_source: str  # quote, close or cost
    price_at: datetime | None

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.symbol}"


@dataclass(frozen=True, slots=True)
class ClosedPosition:
    """An instrument no longer held, with what it earned."""

    instrument_id: int
    symbol: str
    exchange: str
    name: str
    realised_pl: Decimal
    dividends: Decimal


@dataclass(frozen=True, slots=True)
class AllocationSlice:
    key: str
    label: str
    value: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class ConcentrationWarning:
    code: str  # stock_concentration, sector_concentration
    key: str
    message: str
    weight: Decimal


@dataclass(slots=True)
class Valuation:
    holdings: list[HoldingValue]
    closed: list[ClosedPosition]
    total_value: Decimal
    cash: Decimal
    invested: Decimal
    net_invested: Decimal
    charges: Decimal
    fees: Decimal
    dividends: Decimal
    unrealised_pl: Decimal
    unrealised_pl_percent: Decimal | None
    realised_pl: Decimal
    profit_loss: Decimal
    profit_loss_percent: Decimal | None
    day_change: Decimal
    day_change_percent: Decimal | None
    as_of: datetime | None
    allocation: dict[str, list[AllocationSlice]] = field(default_factory=dict)
    warnings: list[ConcentrationWarning] = field(default_factory=list)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole * HUNDRED if whole else None


def _limit(value: Decimal | None, setting: str, default: str) -> Decimal:
    if value is not None:
        return value
    return Decimal(str(getattr(settings, setting, default)))


def _slices(groups: dict[str, tuple[str, Decimal]], total: Decimal) -> list[AllocationSlice]:
    slices = [
        AllocationSlice(key=key, label=label, value=value, weight=value / total if total else ZERO)
        for key, (label, value) in groups.items()
    ]
    slices.sort(key=lambda s: (-s.value, s.label))
    return slices


def _day_change(position: Any, quote: QuoteLike) -> tuple[Decimal, Decimal]:
    """(change, value at the start of the day or at purchase) over the open lots."""
    last, prev = quote.last_price, quote.prev_close
    session = quote.at.astimezone(IST).date()
    change = basis = ZERO
    for lot in position.lots:
        if lot.cost > 0 and lot.acquired_at.astimezone(IST).date() >= session:
            change += lot.quantity * last - lot.cost
            basis += lot.cost
        else:
            change += lot.quantity * (last - prev)
            basis += lot.quantity * prev
    return change, basis


def portfolio_valuation(
    *,
    ledger: Ledger,
    instruments: Mapping[int, Instrument],
    quotes: Mapping[int, QuoteLike],
    max_stock_weight: Decimal | None = None,
    max_sector_weight: Decimal | None = None,
) -> Valuation:
    """Value `ledger`'s open lots at `quotes` (by instrument id; a `ClosePrice` for a last
    close). `instruments` must hold every open position's instrument (exchange loaded);
    closed positions missing from it are left out of `closed` but not out of the totals.
    Warning limits default to settings.PORTFOLIO_MAX_STOCK_WEIGHT / _SECTOR_WEIGHT."""
    stock_limit = _limit(max_stock_weight, "PORTFOLIO_MAX_STOCK_WEIGHT", "0.20")
    sector_limit = _limit(max_sector_weight, "PORTFOLIO_MAX_SECTOR_WEIGHT", "0.40")
    rows: list[dict[str, Any]] = []
    closed: list[ClosedPosition] = []
    as_of: datetime | None = None
    for instrument_id, position in ledger.positions.items():
        instrument = instruments.get(instrument_id)
        if not position.lots:
            if instrument is not None:
                closed.append(
                    ClosedPosition(
                        instrument_id=instrument_id,
                        symbol=instrument.symbol,
                        exchange=instrument.exchange.code,
                        name=instrument.name,
                        realised_pl=position.realised_pl,
                        dividends=position.dividends,
                    )
                )
            continue
        quantity, cost = position.quantity, position.cost
        quote = quotes.get(instrument_id)
        prev_close: Decimal | None = None
        change = basis = ZERO
        price_at: datetime | None = None
        if quote is None:
            # Zero shares with a cost left: a reverse split rounded a tiny lot away.
            source = PRICE_COST
            last, value = (cost / quantity, cost) if quantity else (ZERO, ZERO)
        else:
            last = quote.last_price
            value = quantity * last
            price_at = quote.at
            as_of = price_at if as_of is None else max(as_of, price_at)
            if isinstance(quote, ClosePrice):
                source = PRICE_CLOSE
            else:
                source, prev_close = PRICE_QUOTE, quote.prev_close
                change, basis = _day_change(position, quote)
        rows.append(
            {
                "instrument_id": instrument_id,
                "symbol": instrument.symbol if instrument else f"#{instrument_id}",
                "exchange": instrument.exchange.code if instrument else "",
                "name": instrument.name if instrument else "",
                "sector": instrument.sector if instrument else "",
                "market_cap": instrument.market_cap if instrument else "",
                "quantity": quantity,
                "average_cost": cost / quantity if quantity else None,
                "invested": cost,
                "last_price": last,
                "prev_close": prev_close,
                "current_value": value,
                "unrealised_pl": value - cost,
                "unrealised_pl_percent": _percent(value - cost, cost),
                "realised_pl": position.realised_pl,
                "dividends": position.dividends,
                "day_change": change,
                "day_change_percent": _percent(change, basis),
                "priced": source != PRICE_COST,
                "price_source": source,
                "price_at": price_at,
            }
        )

    total_value = sum((row["current_value"] for row in rows), ZERO)
    holdings = [
        HoldingValue(weight=row["current_value"] / total_value if total_value else ZERO, **row)
        for row in rows
    ]
    holdings.sort(key=lambda h: (-h.current_value, h.symbol))
    closed.sort(key=lambda c: c.symbol)

    invested = ledger.open_cost
    unrealised = total_value - invested
    realised = ledger.realised_pl
    profit_loss = realised + unrealised
    # Cost of every share ever bought: still held (open lots) and sold (realisations).
    cost_basis = invested + ledger.realised_cost
    day_change = sum((h.day_change for h in holdings), ZERO)
    day_basis = total_value - day_change

    by_instrument: dict[str, tuple[str, Decimal]] = {}
    by_sector: dict[str, tuple[str, Decimal]] = {}
    by_cap: dict[str, tuple[str, Decimal]] = {}
    unclassified = _("Unclassified")
    for h in holdings:
        by_instrument[h.key] = (h.symbol, h.current_value)
        label, value = by_sector.get(h.sector, (h.sector or unclassified, ZERO))
        by_sector[h.sector] = (label, value + h.current_value)
        cap_label = (
            str(MarketCap(h.market_cap).label) if h.market_cap in MarketCap.values else unclassified
        )
        label, value = by_cap.get(h.market_cap, (cap_label, ZERO))
        by_cap[h.market_cap] = (label, value + h.current_value)
    allocation = {
        "instrument": _slices(by_instrument, total_value),
        "sector": _slices(by_sector, total_value),
        "market_cap": _slices(by_cap, total_value),
    }

    warnings: list[ConcentrationWarning] = []
    for item in allocation["instrument"]:
        if item.weight > stock_limit:
            warnings.append(
                ConcentrationWarning(
                    code="stock_concentration",
                    key=item.key,
                    weight=item.weight,
                    message=_(
                        "%(name)s is %(weight)s%% of the portfolio, above the %(limit)s%% "
                        "guideline for one stock."
                    )
                    % {
                        "name": item.label,
                        "weight": _shown(item.weight),
                        "limit": _shown(stock_limit),
                    },
                )
            )
    for item in allocation["sector"]:
        # Instruments without a sector are not one sector: no warning for them together.
        if item.key and item.weight > sector_limit:
            warnings.append(
                ConcentrationWarning(
                    code="sector_concentration",
                    key=item.key,
                    weight=item.weight,
                    message=_(
                        "%(name)s is %(weight)s%% of the portfolio, above the %(limit)s%% "
                        "guideline for one sector."
                    )
                    % {
                        "name": item.label,
                        "weight": _shown(item.weight),
                        "limit": _shown(sector_limit),
                    },
                )
            )

    return Valuation(
        holdings=holdings,
        closed=closed,
        total_value=total_value,
        cash=ledger.cash,
        invested=invested,
        net_invested=ledger.net_invested,
        charges=ledger.charges,
        fees=ledger.fees,
        dividends=ledger.dividends,
        unrealised_pl=unrealised,
        unrealised_pl_percent=_percent(unrealised, invested),
        realised_pl=realised,
        profit_loss=profit_loss,
        profit_loss_percent=_percent(profit_loss, cost_basis),
        day_change=day_change,
        day_change_percent=_percent(day_change, day_basis),
        as_of=as_of,
        allocation=allocation,
        warnings=warnings,
    )


# --- JSON -------------------------------------------------------------------------------------


def _shown(weight: Decimal) -> str:
    """0.3512 → "35.1" (a weight as a percentage for messages)."""
    return str((weight * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _q(value: Decimal | None, step: Decimal) -> str | None:
    if value is None:
        return None
    rounded = value.quantize(step, rounding=ROUND_HALF_UP)
    return str(rounded + 0)  # + 0 turns -0.00 into 0.00


def _time(value: datetime | None) -> str | None:
    return value.astimezone(IST).isoformat() if value is not None else None


def _slice_data(item: AllocationSlice) -> dict[str, Any]:
    return {
        "key": item.key,
        "label": item.label,
        "value": _q(item.value, MONEY),
        "weight": _q(item.weight, WEIGHT),
    }


def _totals_data(v: Valuation) -> dict[str, Any]:
    return {
        "total_value": _q(v.total_value, MONEY),
        "cash": _q(v.cash, MONEY),
        "invested": _q(v.invested, MONEY),
        "net_invested": _q(v.net_invested, MONEY),
        "charges": _q(v.charges, MONEY),
        "fees": _q(v.fees, MONEY),
        "dividends": _q(v.dividends, MONEY),
        "unrealised_pl": _q(v.unrealised_pl, MONEY),
        "unrealised_pl_percent": _q(v.unrealised_pl_percent, PERCENT),
        "realised_pl": _q(v.realised_pl, MONEY),
        "profit_loss": _q(v.profit_loss, MONEY),
        "profit_loss_percent": _q(v.profit_loss_percent, PERCENT),
        "day_change": _q(v.day_change, MONEY),
        "day_change_percent": _q(v.day_change_percent, PERCENT),
    }


def valuation_data(valuation: Valuation) -> dict[str, Any]:
    """The summary API's body (without the feed flags the selector adds)."""
    return {
        "as_of": _time(valuation.as_of),
        "totals": _totals_data(valuation),
        "holdings": [
            {
                "key": h.key,
                "symbol": h.symbol,
                "exchange": h.exchange,
                "name": h.name,
                "sector": h.sector,
                "market_cap": h.market_cap,
                "quantity": _q(h.quantity, QUANTITY),
                "average_cost": _q(h.average_cost, PRICE),
                "invested": _q(h.invested, MONEY),
                "last_price": _q(h.last_price, PRICE),
                "prev_close": _q(h.prev_close, PRICE),
                "current_value": _q(h.current_value, MONEY),
                "unrealised_pl": _q(h.unrealised_pl, MONEY),
                "unrealised_pl_percent": _q(h.unrealised_pl_percent, PERCENT),
                "realised_pl": _q(h.realised_pl, MONEY),
                "dividends": _q(h.dividends, MONEY),
                "day_change": _q(h.day_change, MONEY),
                "day_change_percent": _q(h.day_change_percent, PERCENT),
                "weight": _q(h.weight, WEIGHT),
                "priced": h.priced,
                "price_source": h.price_source,
                "price_at": _time(h.price_at),
            }
            for h in valuation.holdings
        ],
        "closed": [
            {
                "symbol": c.symbol,
                "exchange": c.exchange,
                "name": c.name,
                "realised_pl": _q(c.realised_pl, MONEY),
                "dividends": _q(c.dividends, MONEY),
            }
            for c in valuation.closed
        ],
        "allocation": {
            name: [_slice_data(item) for item in slices]
            for name, slices in valuation.allocation.items()
        },
        "warnings": [
            {"code": w.code, "key": w.key, "message": w.message, "weight": _q(w.weight, WEIGHT)}
            for w in valuation.warnings
        ],
    }


def valuation_live_data(valuation: Valuation) -> dict[str, Any]:
    """The portfolio object of a `portfolio.update` frame (docs/websocket.md)."""
    totals = _totals_data(valuation)
    return {
        **{
            name: totals[name]
            for name in (
                "total_value",
                "cash",
                "invested",
                "unrealised_pl",
                "realised_pl",
                "profit_loss",
                "profit_loss_percent",
                "day_change",
                "day_change_percent",
            )
        },
        "as_of": _time(valuation.as_of),
        "allocation": [
            {"symbol": item.key, "value": _q(item.value, MONEY), "weight": _q(item.weight, WEIGHT)}
            for item in valuation.allocation["instrument"]
        ],
        "holdings": [
            {
                "symbol": h.key,
                "quantity": _q(h.quantity, QUANTITY),
                "last_price": _q(h.last_price, PRICE),
                "current_value": _q(h.current_value, MONEY),
                "unrealised_pl": _q(h.unrealised_pl, MONEY),
                "unrealised_pl_percent": _q(h.unrealised_pl_percent, PERCENT),
                "day_change": _q(h.day_change, MONEY),
                "day_change_percent": _q(h.day_change_percent, PERCENT),
                "weight": _q(h.weight, WEIGHT),
            }
            for h in valuation.holdings
        ],
    }
