"""Reads for portfolios. Each returns only what the given owner may see (others: None)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, QuerySet

from apps.accounts.models import User
from apps.market.feed import feed_status
from apps.market.models import Candle, DataSource, Instrument, Timeframe
from apps.market.providers.base import Quote
from apps.market.quote_cache import quote_cache_get_many
from apps.market.selectors import latest_quote_map
from apps.portfolios.ledger import Entry, Ledger
from apps.portfolios.models import Portfolio, Transaction
from apps.portfolios.valuation import ClosePrice, QuoteLike, portfolio_valuation, valuation_data


def portfolio_list(*, owner: User | AnonymousUser) -> QuerySet[Portfolio]:
    """The owner's portfolios in their order, with `transaction_count`; one query."""
    if not owner.is_authenticated:
        return Portfolio.objects.none()
    return (
        Portfolio.objects.filter(owner=owner)
        .select_related("benchmark__exchange")
        .annotate(transaction_count=Count("transactions"))
        .order_by("position", "id")
    )


def portfolio_get(
    *, owner: User | AnonymousUser, portfolio_id: int, with_count: bool = False
) -> Portfolio | None:
    """The portfolio if `owner` owns it, else None (missing or someone else's alike);
    `with_count` annotates `transaction_count` (a count over all its transactions)."""
    if not owner.is_authenticated:
        return None
    queryset = Portfolio.objects.select_related("benchmark__exchange")
    if with_count:
        queryset = queryset.annotate(transaction_count=Count("transactions"))
    return queryset.filter(pk=portfolio_id, owner=owner).first()


# Zeros come back as NULL (no Decimal to parse: most rows are trades, whose `amount` is
# zero, or cash movements, whose quantity, price and charges are) and are restored here
# with the column's scale, as PostgreSQL would have returned them.
_ENTRIES_SQL = """
SELECT id, kind, (EXTRACT(EPOCH FROM executed_at) * 1000000)::bigint, instrument_id,
       NULLIF(quantity, 0), NULLIF(price, 0), NULLIF(amount, 0),
       NULLIF(brokerage + stt + exchange_fees + gst + stamp_duty + other_charges, 0),
       ratio_from, ratio_to
FROM portfolios_transaction
WHERE portfolio_id = %s
ORDER BY executed_at, id
"""
_QUANTITY_ZERO = Decimal("0.000000")  # numeric(20, 6)
_MONEY_ZERO = Decimal("0.0000")  # numeric(20, 4)
_CHUNK = 1000


def _entries(portfolio_id: int) -> Iterator[Entry]:
    """The portfolio's transactions as ledger entries in time order, made as they are read
    (see `portfolio_entries`). A replay that applies them as they come keeps none of them:
    10,000 objects kept for a request are what makes the next full garbage collection of a
    web worker cost tens of milliseconds."""
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_SQL, [portfolio_id])
        to_time, utc = datetime.fromtimestamp, UTC
        no_shares, no_money = _QUANTITY_ZERO, _MONEY_ZERO
        while rows := cursor.fetchmany(_CHUNK):
            for pk, kind, at_us, instrument, qty, price, amount, charges, r_from, r_to in rows:
                seconds, micro = divmod(at_us, 1_000_000)
                executed_at = to_time(seconds, utc)
                if micro:
                    executed_at = executed_at.replace(microsecond=micro)
                # Positional, in field order (kind, executed_at, instrument_id, quantity,
                # price, amount, charges, ratio_from, ratio_to, id): keywords cost more.
                yield Entry(
                    kind, executed_at, instrument, qty or no_shares, price or no_money,
                    amount or no_money, charges or no_money, r_from, r_to, pk,
                )  # fmt: skip


def portfolio_entries(*, portfolio_id: int) -> list[Entry]:
    """Every transaction of the portfolio as a ledger `Entry`, in time order, in one query
    of plain rows. Times travel as epoch microseconds: parsing 10,000 timestamps costs
    ~30 ms, more than the rest of the query; making them from whole seconds costs ~3 ms."""
    return list(_entries(portfolio_id))


def _replay(portfolio_id: int) -> Ledger:
    """`ledger_replay(portfolio_entries(...), realisations=False)`, streamed: valuing needs
    the totals and open lots, not the realisations, and the rows already come in order."""
    ledger = Ledger(realisations=False)
    apply = ledger.apply
    for entry in _entries(portfolio_id):
        apply(entry)
    return ledger


def transaction_list(
    *, portfolio: Portfolio, symbol: str = "", kind: str = ""
) -> QuerySet[Transaction]:
    """Newest first. `symbol`: "TCS" (any exchange) or "BSE:TCS"; `kind`: one kind."""
    queryset = Transaction.objects.filter(portfolio=portfolio).select_related(
        "instrument__exchange"
    )
    symbol = symbol.strip()
    if symbol:
        exchange, _sep, code = symbol.upper().rpartition(":")
        queryset = queryset.filter(instrument__symbol__iexact=code.strip())
        if exchange:
            queryset = queryset.filter(instrument__exchange__code=exchange.strip())
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-executed_at", "-id")


def transaction_get(*, portfolio: Portfolio, transaction_id: int) -> Transaction | None:
    return (
        Transaction.objects.select_related("instrument__exchange")
        .filter(portfolio=portfolio, pk=transaction_id)
        .first()
    )


def _simulated(quote: Any) -> bool:
    return bool(getattr(quote, "simulated", False))


def portfolio_quotes(*, instruments: Iterable[Instrument]) -> dict[int, QuoteLike]:
    """Prices to value `instruments` at, by id: the live quote cache (Redis), then the
    stored latest quote, then the last daily close as a `ClosePrice`; instruments with
    none of these are left out. At most one query per fallback, only for the misses."""
    wanted = list(instruments)
    by_key = {(i.exchange.code, i.symbol): i for i in wanted}
    found: dict[int, QuoteLike] = {
        by_key[key].pk: quote for key, quote in quote_cache_get_many(by_key).items()
    }
    missing = [i.pk for i in wanted if i.pk not in found]
    if missing:
        by_id = {i.pk: i for i in wanted}
        for instrument_id, row in latest_quote_map(instrument_ids=missing).items():
            instrument = by_id[instrument_id]
            found[instrument_id] = Quote(
                symbol=instrument.symbol,
                exchange=instrument.exchange.code,
                last_price=row.last_price,
                open=row.open,
                high=row.high,
                low=row.low,
                prev_close=row.prev_close,
                volume=row.volume,
                at=row.at,
                simulated=row.source == DataSource.SIMULATED,
            )
        missing = [pk for pk in missing if pk not in found]
    if missing:
        closes = (
            Candle.objects.filter(instrument_id__in=missing, timeframe=Timeframe.D1)
            .order_by("instrument_id", "-start")
            .distinct("instrument_id")
            .values_list("instrument_id", "close", "start", "source")
        )
        for instrument_id, close, start, source in closes:
            found[instrument_id] = ClosePrice(
                last_price=close, at=start, simulated=source == DataSource.SIMULATED
            )
    return found


def _replay_and_instruments(
    portfolio_id: int,
) -> tuple[Ledger, dict[int, Instrument]]:
    ledger = _replay(portfolio_id)
    instruments = Instrument.objects.select_related("exchange").in_bulk(list(ledger.positions))
    return ledger, instruments


def portfolio_live_inputs(
    *, portfolio_id: int, owner_id: int
) -> tuple[Ledger, dict[int, Instrument], dict[int, QuoteLike]] | None:
    """What the live `portfolio.update` path values: the replayed ledger, the instruments
    of the open positions, their current prices. None unless `owner_id` owns it."""
    if not Portfolio.objects.filter(pk=portfolio_id, owner_id=owner_id).exists():
        return None
    ledger = _replay(portfolio_id)
    held = [pk for pk, position in ledger.positions.items() if position.lots]
    instruments = Instrument.objects.select_related("exchange").in_bulk(held)
    return ledger, instruments, portfolio_quotes(instruments=instruments.values())


def portfolio_summary(*, portfolio: Portfolio) -> dict[str, Any]:
    """The valuation of `portfolio` now (see `valuation.valuation_data`) plus `stale` (the
    feed stopped during market hours: prices may be old) and `simulated` (some price comes
    from the simulated feed). About five queries whatever the number of transactions."""
    ledger, instruments = _replay_and_instruments(portfolio.pk)
    held = [instruments[pk] for pk, position in ledger.positions.items() if position.lots]
    quotes = portfolio_quotes(instruments=held)
    valuation = portfolio_valuation(ledger=ledger, instruments=instruments, quotes=quotes)
    data = valuation_data(valuation)
    data["currency"] = portfolio.base_currency
    exchanges = {instrument.exchange.code for instrument in held}
    data["stale"] = any(bool(feed_status(exchange=code)["stale"]) for code in sorted(exchanges))
    data["simulated"] = any(_simulated(quote) for quote in quotes.values())
    return data
