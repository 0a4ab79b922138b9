"""Portfolio benchmarks (the portfolios issue's performance targets).

    python -m bench.portfolios            # writes the `portfolios` section of docs/benchmarks.md
    python -m bench.portfolios --quick    # smaller portfolio, fewer requests, prints only

One portfolio of 10,000 transactions over 5 years and 100 instruments, in the database of
DATABASE_URL (migrated, with the NSE exchange of the market seed), owned by the user
`bench-portfolios@stocksense.invalid`:

- 100 NSE equities BENCH000..BENCH099 and an index BENCHIDX (the portfolio's benchmark), each
  with 5 years of daily candles (random walks; the price drops on split and bonus dates as
  real raw prices do), and a latest quote in the database and the Redis quote cache, as
  market ingest leaves them;
- buys, partial sells (FIFO), dividends, splits, bonus issues, monthly deposits and yearly
  fees, with brokerage, STT, exchange fees, GST and stamp duty on every trade.

Measured, in this order:

1. Snapshot recomputation: `snapshots.portfolio_snapshots_rebuild` from the first transaction
   (median of 3) and from one month back (median of 5).
2. The REST API through gunicorn `config.wsgi` (2 sync workers, `DEBUG=false`, as
   bench.http_servers runs it), one request at a time from this process: the summary in 3
   runs of 200 (p50/p95/p99 per run and their medians), its requests alternating with a
   second server whose workers call `gc.freeze()` after loading the application (each
   server's workers report their full collections); then performance, history and tax on a
   server of their own. Also the summary in-process (Django's test client, no server), with
   the time split over its steps.
3. Live updates: a `live.LivePortfolio` loaded as `live.live_state_load` does; per batch of
   ticks for every held symbol, `offer_quote` for each tick (payloads as
   `apps.realtime.quotes.quotes_publish` publishes them) and one `frame()`; and what each
   socket adds (the consumer's `json.dumps` of the frame).

Everything the run creates is deleted at the end, also when it fails (and at the start, if a
failed run left anything): the user with its portfolio, the instruments with their candles
and quotes, their Redis quote-cache keys. The API token's two audit rows stay: the audit log
is append-only.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import math
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import report
from bench.http_servers import SERVER_ENV, SERVERS, http_get, running

os.environ.update(SERVER_ENV)  # DEBUG off, no throttling: as the measured server runs

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

SECTION = "portfolios"
EMAIL = "bench-portfolios@stocksense.invalid"
PREFIX = "BENCH"
INDEX_SYMBOL = "BENCHIDX"
NAME_MARK = "StockSense bench instrument"
IST = ZoneInfo("Asia/Kolkata")
TARGET_P95_MS = 100.0
SECTORS = [
    "Financial Services", "Information Technology", "Oil Gas & Consumable Fuels",
    "Fast Moving Consumer Goods", "Automobile and Auto Components", "Healthcare",
    "Metals & Mining", "Power", "Capital Goods", "Construction Materials", "Telecommunication",
    "Consumer Services",
]  # fmt: skip
CAPS = ["large", "large", "mid", "small"]
CENT = Decimal("0.01")


def _ms(seconds: float) -> float:
    return seconds * 1000


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _tick(value: float) -> float:
    return max(0.05, round(round(value / 0.05) * 0.05, 2))


# --- the generated world (no database) -----------------------------------------------------


@dataclass
class Tx:
    day: int  # index into World.days
    minute: int  # of the day, IST
    kind: str
    instrument: int | None = None  # index into the instruments, None for cash kinds
    quantity: int = 0
    price: float = 0.0
    amount: float = 0.0
    ratio: tuple[int, int] | None = None


@dataclass
class World:
    days: list[date]
    closes: np.ndarray  # (instruments, days), raw prices on the 0.05 grid
    index: np.ndarray  # (days,)
    txs: list[Tx] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # shares held at the end, per instrument
    kinds: dict[str, int] = field(default_factory=dict)  # transactions per kind
    n_transactions: int = 0


def make_world(instruments: int, transactions: int, years: int, end: date, seed: int = 11) -> World:
    from apps.market.calendar import trading_days

    rng = np.random.default_rng(seed)
    try:
        start = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - years, day=28)
    days = trading_days(start + timedelta(days=1), end)
    n_days = len(days)
    warmup = min(60, n_days // 5)  # first buys of every instrument happen in these days
    start_px = np.exp(rng.uniform(np.log(50), np.log(5000), instruments))
    walk = np.exp(np.cumsum(rng.normal(0.0004, 0.018, (instruments, n_days)), axis=1))
    closes = start_px[:, None] * walk

    # Corporate actions: ~1 in 12 instruments splits, as many get a 1:1 bonus.
    n_split = n_bonus = max(1, instruments // 12)
    chosen = rng.choice(instruments, n_split + n_bonus, replace=False).tolist()
    txs: list[Tx] = []
    for k, i in enumerate(chosen):
        day = int(rng.integers(max(warmup + 1, n_days // 5), n_days - 5))
        if k < n_split:
            new = int(rng.choice([2, 5, 10]))
            ratio, factor = (1, new), float(new)
        else:
            ratio, factor = (1, 1), 2.0
        closes[i, day:] /= factor  # raw prices fall on the ex-date
        txs.append(Tx(day, 9 * 60, "split" if k < n_split else "bonus", i, ratio=ratio))
    closes = np.maximum(np.round(np.round(closes / 0.05) * 0.05, 2), 0.05)
    index = np.round(15000 * np.exp(np.cumsum(rng.normal(0.0004, 0.01, n_days))), 2)

    # Cash kinds: a deposit on the first trading day of each month, a fee every year.
    month: tuple[int, int] | None = None
    for d, when in enumerate(days):
        if (when.year, when.month) != month:
            month = (when.year, when.month)
            txs.append(Tx(d, 9 * 60 + 5, "deposit", amount=200_000.0))
    for y in range(years):
        txs.append(Tx(min(n_days - 1, warmup + y * 248), 16 * 60, "fee", amount=354.0))
    n_dividends = transactions * 6 // 100
    n_trades = transactions - len(txs) - n_dividends
    if n_trades < 2 * instruments:
        raise SystemExit("too few transactions for the instruments")
    # Every instrument is bought in the first days, then trades and dividends at random.
    for i in range(instruments):
        txs.append(
            Tx(int(rng.integers(0, warmup)), 9 * 60 + 15 + int(rng.integers(0, 375)), "buy", i)
        )
    for d in rng.integers(warmup, n_days, n_trades - instruments).tolist():
        kind = "buy" if rng.random() < 0.62 else "sell"
        txs.append(
            Tx(d, 9 * 60 + 15 + int(rng.integers(0, 375)), kind, int(rng.integers(0, instruments)))
        )
    for d in rng.integers(warmup, n_days, n_dividends).tolist():
        txs.append(Tx(d, 12 * 60, "dividend", int(rng.integers(0, instruments))))
    txs.sort(key=lambda t: (t.day, t.minute))

    # Resolve quantities and amounts in time order: sells take 10-50 % of what is held (so
    # every instrument stays held), dividends pay 0.5-2 % of the holding's value.
    held = [0] * instruments
    for tx in txs:
        i = tx.instrument
        if i is None:
            continue
        close = float(closes[i, tx.day])
        if tx.kind == "sell" and held[i] < 2:
            tx.kind = "buy"
        if tx.kind == "buy":
            tx.price = _tick(close * (1 + rng.normal(0, 0.005)))
            tx.quantity = max(1, round(float(rng.uniform(10_000, 200_000)) / tx.price))
            held[i] += tx.quantity
        elif tx.kind == "sell":
            tx.price = _tick(close * (1 + rng.normal(0, 0.005)))
            tx.quantity = max(1, int(held[i] * rng.uniform(0.1, 0.5)))
            held[i] -= tx.quantity
        elif tx.kind == "dividend":
            tx.amount = round(held[i] * close * float(rng.uniform(0.005, 0.02)), 2)
        elif tx.kind == "split":
            assert tx.ratio is not None
            held[i] = held[i] * tx.ratio[1] // tx.ratio[0]
        elif tx.kind == "bonus":
            assert tx.ratio is not None
            held[i] += held[i] * tx.ratio[0] // tx.ratio[1]
    txs = [t for t in txs if not (t.kind == "dividend" and t.amount <= 0)]
    kinds: dict[str, int] = {}
    for tx in txs:
        kinds[tx.kind] = kinds.get(tx.kind, 0) + 1
    return World(
        days=days,
        closes=closes,
        index=index,
        txs=txs,
        held=held,
        kinds=kinds,
        n_transactions=len(txs),
    )


def charges(kind: str, gross: float) -> dict[str, Decimal]:
    """Typical Indian delivery charges: brokerage capped at 20, STT 0.1 %, exchange fees,
    GST 18 % on brokerage and exchange fees, stamp duty 0.015 % on buys."""
    brokerage = min(20.0, gross * 0.0003)
    exchange = gross * 0.0000297
    return {
        "brokerage": _money(brokerage),
        "stt": _money(gross * 0.001),
        "exchange_fees": _money(exchange),
        "gst": _money((brokerage + exchange) * 0.18),
        "stamp_duty": _money(gross * 0.00015) if kind == "buy" else Decimal("0"),
    }


# --- the database ------------------------------------------------------------------------


@dataclass
class Stored:
    user: Any
    portfolio: Any
    instrument_ids: list[int]  # by world index
    index_id: int
    first_day: date
    last_day: date
    cache_keys: list[str]


def cleanup() -> dict[str, int]:
    """Delete everything a run of this benchmark creates (idempotent)."""
    from django.core.cache import cache
    from django.db import transaction

    from apps.accounts.models import User
    from apps.market.models import Candle, Instrument, LatestQuote
    from apps.market.quote_cache import _key
    from apps.portfolios.models import DailySnapshot, Portfolio, Transaction

    removed: dict[str, int] = {}
    with transaction.atomic():
        portfolios = Portfolio.objects.filter(owner__email=EMAIL)
        removed["snapshots"] = DailySnapshot.objects.filter(portfolio__in=portfolios).delete()[0]
        removed["transactions"] = Transaction.objects.filter(portfolio__in=portfolios).delete()[0]
        removed["portfolios"] = portfolios.delete()[0]
        User.objects.filter(email=EMAIL).delete()
        instruments = Instrument.objects.filter(
            exchange__code="NSE", symbol__startswith=PREFIX, name__startswith=NAME_MARK
        )
        keys = [_key("NSE", symbol) for symbol in instruments.values_list("symbol", flat=True)]
        ids = list(instruments.values_list("id", flat=True))
        removed["candles"] = Candle.objects.filter(instrument_id__in=ids).delete()[0]
        removed["quotes"] = LatestQuote.objects.filter(instrument_id__in=ids).delete()[0]
        removed["instruments"] = instruments.delete()[0]
    if keys:
        cache.delete_many(keys)
    return removed


def store(world: World) -> Stored:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from apps.accounts.models import User
    from apps.market.candle_store import WriteMode, candles_write_units
    from apps.market.models import (
        DataSource,
        Exchange,
        Instrument,
        InstrumentKind,
        LatestQuote,
        Timeframe,
    )
    from apps.market.providers.base import Quote
    from apps.market.quote_cache import _key, quote_cache_put
    from apps.portfolios.ledger import Entry, ledger_replay
    from apps.portfolios.models import Portfolio, Transaction, TransactionSource

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("Unapplied migrations: run `.venv/bin/python manage.py migrate` first.")
    nse = Exchange.objects.filter(code="NSE").first()
    if nse is None:
        raise SystemExit("No NSE exchange: the market seed migration has not run.")
    n = world.closes.shape[0]
    rows = [
        Instrument(
            exchange=nse,
            symbol=f"{PREFIX}{i:03d}",
            name=f"{NAME_MARK} {i:03d}",
            sector=SECTORS[i % len(SECTORS)],
            market_cap=CAPS[i % len(CAPS)],
            kind=InstrumentKind.EQUITY,
        )
        for i in range(n)
    ]
    rows.append(
        Instrument(
            exchange=nse, symbol=INDEX_SYMBOL, name=f"{NAME_MARK} index", kind=InstrumentKind.INDEX
        )
    )
    created = Instrument.objects.bulk_create(rows)
    ids = [row.pk for row in created]

    # Daily candles, written the way history loads are (COPY + merge).
    starts = [int(datetime.combine(day, dtime.min, tzinfo=IST).timestamp()) for day in world.days]
    prices = np.vstack([world.closes, world.index[None, :]])
    units = np.round(prices * 10_000).astype(np.int64)
    opens = np.concatenate([units[:, :1], units[:, :-1]], axis=1)
    highs = np.maximum(opens, units) * 1002 // 1000
    lows = np.minimum(opens, units) * 998 // 1000
    n_days = len(world.days)
    candles_write_units(
        instrument_ids=np.repeat(ids, n_days).tolist(),
        timeframes=[Timeframe.D1.value] * (len(ids) * n_days),
        starts=starts * len(ids),
        opens=opens.ravel().tolist(),
        highs=highs.ravel().tolist(),
        lows=lows.ravel().tolist(),
        closes=units.ravel().tolist(),
        volumes=[100_000] * (len(ids) * n_days),
        source=DataSource.CSV,
        mode=WriteMode.REPLACE,
    )

    user = User.objects.create_user(EMAIL)
    portfolio = Portfolio.objects.create(
        owner=user, name="Bench: 10,000 transactions", benchmark_id=ids[-1]
    )
    txs: list[Any] = []
    previous = datetime.min.replace(tzinfo=UTC)
    for tx in world.txs:
        at = datetime.combine(world.days[tx.day], dtime(tx.minute // 60, tx.minute % 60), IST)
        at = previous = max(at, previous + timedelta(seconds=1))  # distinct, in list order
        values: dict[str, Any] = {}
        if tx.kind in ("buy", "sell"):
            values = {
                "quantity": Decimal(tx.quantity),
                "price": _money(tx.price),
                **charges(tx.kind, tx.quantity * tx.price),
            }
        elif tx.kind in ("dividend", "deposit", "fee"):
            values = {"amount": _money(tx.amount)}
        elif tx.ratio is not None:
            values = {"ratio_from": tx.ratio[0], "ratio_to": tx.ratio[1]}
        txs.append(
            Transaction(
                portfolio=portfolio,
                kind=tx.kind,
                executed_at=at,
                source=TransactionSource.CSV,
                instrument_id=ids[tx.instrument] if tx.instrument is not None else None,
                **values,
            )
        )
    # The same checks a CSV import makes (FIFO, no oversell) before anything is written.
    ledger = ledger_replay(
        Entry(
            kind=t.kind,
            executed_at=t.executed_at,
            instrument_id=t.instrument_id,
            quantity=t.quantity,
            price=t.price,
            amount=t.amount,
            charges=t.charges,
            ratio_from=t.ratio_from,
            ratio_to=t.ratio_to,
            id=k,
        )
        for k, t in enumerate(txs)
    )
    held = {ids[i]: Decimal(q) for i, q in enumerate(world.held)}
    assert ledger.quantities() == held, "generated holdings and the FIFO replay disagree"
    Transaction.objects.bulk_create(txs, batch_size=2000)

    # Latest quotes, as `quotes_ingest` leaves them: a row and the Redis copy.
    now = datetime.now(UTC).replace(microsecond=0)
    rng = np.random.default_rng(5)
    quotes: list[Quote] = []
    for k in range(len(ids)):
        symbol = rows[k].symbol
        prev = Decimal(str(prices[k, -1]))
        last = Decimal(str(_tick(float(prev) * (1 + rng.normal(0, 0.01)))))
        quotes.append(
            Quote(
                symbol,
                "NSE",
                last,
                prev,
                max(last, prev),
                min(last, prev),
                prev,
                1_000_000,
                now,
                False,
            )
        )
    LatestQuote.objects.bulk_create(
        LatestQuote(
            instrument_id=instrument_id,
            last_price=q.last_price,
            open=q.open,
            high=q.high,
            low=q.low,
            prev_close=q.prev_close,
            volume=q.volume,
            at=q.at,
            source=DataSource.SIMULATED,
        )
        for instrument_id, q in zip(ids, quotes, strict=True)
    )
    quote_cache_put(quotes)
    # As autovacuum would soon after a bulk load; earlier runs' deleted rows go too.
    with connection.cursor() as cursor:
        for table in ("market_candle", "portfolios_transaction", "portfolios_dailysnapshot"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return Stored(
        user=user,
        portfolio=portfolio,
        instrument_ids=ids[:-1],
        index_id=ids[-1],
        first_day=world.days[0],
        last_day=world.days[-1],
        cache_keys=[_key("NSE", q.symbol) for q in quotes],
    )


# --- 1. snapshots ---------------------------------------------------------------------------


def bench_rebuild(stored: Stored, full_runs: int, month_runs: int) -> dict[str, Any]:
    from apps.portfolios.snapshots import portfolio_snapshots_rebuild

    def rebuild(from_date: date) -> tuple[float, int]:
        started = time.perf_counter()
        rows = portfolio_snapshots_rebuild(
            portfolio=stored.portfolio, from_date=from_date, until=stored.last_day
        )
        elapsed = time.perf_counter() - started
        if rows is None:
            raise RuntimeError("the rebuild was skipped: the portfolio row is locked")
        return elapsed, rows

    full = [rebuild(stored.first_day) for _ in range(full_runs)]
    month = [rebuild(stored.last_day - timedelta(days=30)) for _ in range(month_runs)]
    return {
        "full_runs": [t for t, _ in full],
        "full_ms": _ms(report.median(t for t, _ in full)),
        "full_rows": full[-1][1],
        "month_runs": [t for t, _ in month],
        "month_ms": _ms(report.median(t for t, _ in month)),
        "month_rows": month[-1][1],
    }


# --- 2. the API -------------------------------------------------------------------------------


@contextlib.contextmanager
def api_token(user: Any) -> Iterator[str]:
    from apps.accounts import services

    token, raw = services.api_token_create(user=user, name="bench-portfolios")
    try:
        yield raw
    finally:
        token.refresh_from_db()
        services.api_token_revoke(token=token, by=user)


def endpoints(portfolio_id: int) -> dict[str, str]:
    base = f"/api/v1/portfolios/{portfolio_id}"
    return {
        "summary": f"{base}/summary/",
        "performance": f"{base}/performance/",
        "history (1Y)": f"{base}/history/?range=1Y",
        "history (ALL)": f"{base}/history/?range=ALL",
        "tax": f"{base}/tax/",
    }


def _check_summary(body: bytes, holdings: int) -> None:
    data = json.loads(body)
    if len(data.get("holdings", [])) != holdings:
        raise RuntimeError(f"summary has {len(data.get('holdings', []))} holdings, not {holdings}")


def timed_gets(get: Callable[[], tuple[int, bytes]], count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        get()
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        status, body = get()
        times.append(_ms(time.perf_counter() - started))
        if status != 200:
            raise RuntimeError(f"answered {status}: {body[:300]!r}")
    return times


# A gunicorn config file for the measured servers: it only records the workers' full
# (generation 2) garbage collections, and with BENCH_GC_FREEZE set calls `gc.freeze()` once
# the worker has loaded the application (moving what the import made out of the collector's
# sight), the variant measured next to the default.
GC_HOOK = """
import atexit, gc, json, os, time


def post_worker_init(worker):
    if os.environ.get("BENCH_GC_FREEZE"):
        gc.freeze()
    pauses, started = [], [0.0]

    def record(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(record)
    path = os.path.join(os.environ["BENCH_GC_DIR"], f"{os.getpid()}.json")

    def dump():
        with open(path, "w") as out:
            json.dump({"full_ms": pauses, "tracked": len(gc.get_objects()),
                       "frozen": gc.get_freeze_count()}, out)

    atexit.register(dump)
"""


def _server(tmp: Path, freeze: bool) -> Any:
    from bench.http_servers import Server

    base = next(s for s in SERVERS if s.key == "gunicorn-sync")
    hook = tmp / "gc_hook.py"
    hook.write_text(GC_HOOK, encoding="utf-8")
    (tmp / "gc").mkdir(exist_ok=True)
    env = {"BENCH_GC_DIR": str(tmp / "gc")} | ({"BENCH_GC_FREEZE": "1"} if freeze else {})
    return Server(
        base.key + ("-freeze" if freeze else ""),
        base.name,
        base.interface,
        base.processes,
        base.package,
        lambda port: [*base.argv(port), "-c", str(hook)],
        env,
    )


def _gc_pauses(tmp: Path) -> dict[str, Any]:
    files = [json.loads(f.read_text()) for f in sorted((tmp / "gc").glob("*.json"))]
    pauses = [ms for f in files for ms in f["full_ms"]]
    return {
        "workers": len(files),
        "full": len(pauses),
        "full_median_ms": report.median(pauses) if pauses else 0.0,
        "full_max_ms": max(pauses, default=0.0),
        "tracked": [f["tracked"] for f in files],
        "frozen": [f["frozen"] for f in files],
    }


def bench_summary(stored: Stored, token: str, opts: Options) -> dict[str, dict[str, Any]]:
    """The summary through gunicorn, in `opts.rounds` runs of `opts.requests`, one request
    at a time and a new connection each (as sync workers close it after each response):
    latency as a client sees it, connect included. With `opts.freeze` a second server whose
    workers call `gc.freeze()` runs at the same time and the requests alternate between the
    two, so that both see the same load from the rest of the machine."""
    headers = {"Authorization": f"Bearer {token}"}
    path = endpoints(stored.portfolio.pk)["summary"]
    variants = ["default", "freeze"] if opts.freeze else ["default"]
    results: dict[str, dict[str, Any]] = {v: {"rounds": []} for v in variants}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        ports: dict[str, int] = {}
        dirs: dict[str, Path] = {}
        for variant in variants:
            dirs[variant] = Path(tmp) / variant
            dirs[variant].mkdir()
            server = _server(dirs[variant], freeze=variant == "freeze")
            ports[variant] = stack.enter_context(running(server, dirs[variant]))
            status, body = http_get(ports[variant], path, headers)
            if status != 200:
                raise RuntimeError(f"summary answered {status}: {body[:300]!r}")
            _check_summary(body, len(stored.instrument_ids))
            results[variant]["bytes"] = len(body)
            for _ in range(10):  # warm-up
                http_get(ports[variant], path, headers)
        for n in range(opts.rounds):
            times: dict[str, list[float]] = {v: [] for v in variants}
            for _ in range(opts.requests):
                for variant in variants:
                    started = time.perf_counter()
                    status, body = http_get(ports[variant], path, headers)
                    times[variant].append(_ms(time.perf_counter() - started))
                    if status != 200:
                        raise RuntimeError(f"summary answered {status}: {body[:300]!r}")
            for variant in variants:
                results[variant]["rounds"].append(times[variant])
                run = run_figures(times[variant])
                print(
                    f"  summary run {n + 1} ({variant}): p50 {run['p50']:.1f} ms, "
                    f"p95 {run['p95']:.1f} ms, p99 {run['p99']:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
        stack.close()  # stops the servers: their workers write the collections they saw
        for variant in variants:
            results[variant]["gc"] = _gc_pauses(dirs[variant])
    return results


def bench_endpoints(stored: Stored, token: str, opts: Options) -> dict[str, list[float]]:
    """The portfolio page's other endpoints, through the same (default) server."""
    headers = {"Authorization": f"Bearer {token}"}
    paths = endpoints(stored.portfolio.pk)
    results: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory() as name,
        running(_server(Path(name), False), Path(name)) as port,
    ):
        for key, path in paths.items():
            if key == "summary":
                continue
            results[key] = timed_gets(lambda p=path: http_get(port, p, headers), opts.others, 5)  # type: ignore[misc]
            print(
                f"  {key}: median {report.median(results[key]):.1f} ms, "
                f"p95 {pct(results[key], 0.95):.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    return results


def bench_in_process(stored: Stored, token: str, requests: int) -> dict[str, Any]:
    """The summary with no server (Django's test client), and its steps one by one."""
    from django.db import connection
    from django.test import Client

    from apps.market.feed import feed_status
    from apps.market.models import Instrument
    from apps.portfolios import selectors
    from apps.portfolios.ledger import ledger_replay
    from apps.portfolios.valuation import portfolio_valuation, valuation_data

    client = Client(HTTP_HOST="127.0.0.1")
    path = endpoints(stored.portfolio.pk)["summary"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get() -> tuple[int, bytes]:
        response = client.get(path, **auth)  # type: ignore[arg-type]
        return response.status_code, response.content

    # This process's own objects (the generated portfolio, numpy, the test client) out of
    # the collector's sight, as a worker's would be with `gc.freeze()`: the figures are the
    # request's, not this process's full collections.
    gc.collect()
    gc.freeze()
    total = timed_gets(get, requests, 10)
    pid = stored.portfolio.pk
    steps: dict[str, list[float]] = {}

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        steps.setdefault(name, []).append(_ms(time.perf_counter() - started))

    for _ in range(max(5, requests // 5)):
        with step("read + FIFO replay, streamed (`selectors._replay`)"):
            ledger = selectors._replay(pid)
        with (
            step("… of which the transactions query (rows read, no entries made)"),
            connection.cursor() as cursor,
        ):
            cursor.execute(selectors._ENTRIES_SQL, [pid])
            while cursor.fetchmany(1000):
                pass
        with step("instruments query"):
            instruments = Instrument.objects.select_related("exchange").in_bulk(
                list(ledger.positions)
            )
        held = [instruments[k] for k, p in ledger.positions.items() if p.lots]
        with step("quotes (Redis quote cache)"):
            quotes = selectors.portfolio_quotes(instruments=held)
        with step("valuation (`portfolio_valuation`)"):
            valuation = portfolio_valuation(ledger=ledger, instruments=instruments, quotes=quotes)
        with step("JSON data (`valuation_data`)"):
            valuation_data(valuation)
        with step("feed status (Redis)"):
            feed_status(exchange="NSE")
    kept: list[float] = []
    for _ in range(5):  # what the tax estimate and transaction edits replay
        started = time.perf_counter()
        realisations = len(
            ledger_replay(selectors.portfolio_entries(portfolio_id=pid)).realisations
        )
        kept.append(_ms(time.perf_counter() - started))
        gc.collect()
    return {
        "total": total,
        "steps": {k: report.median(v) for k, v in steps.items()},
        "kept_ms": report.median(kept),
        "realisations": realisations,
    }


def profile_summary(stored: Stored, token: str, requests: int = 30) -> str:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    path = endpoints(stored.portfolio.pk)["summary"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client.get(path, **auth)  # type: ignore[arg-type]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path, **auth)  # type: ignore[arg-type]
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --- 3. live updates ---------------------------------------------------------------------


def bench_live(stored: Stored, batches: int) -> dict[str, Any]:
    from apps.market.providers.base import Quote
    from apps.market.serializers import quote_data
    from apps.portfolios import selectors
    from apps.portfolios.live import LivePortfolio, LiveState

    pid, owner = stored.portfolio.pk, stored.user.pk
    loads: list[float] = []
    found = None
    for _ in range(3):
        started = time.perf_counter()
        found = selectors.portfolio_live_inputs(portfolio_id=pid, owner_id=owner)
        loads.append(_ms(time.perf_counter() - started))
    assert found is not None
    ledger, instruments, quotes = found
    keys = {(i.exchange.code, i.symbol): k for k, i in instruments.items()}
    live = LivePortfolio(
        pid,
        LiveState(owner_id=owner, ledger=ledger, instruments=instruments, quotes=quotes, keys=keys),
    )

    # Ticks made beforehand: the `ws` process receives them already serialised.
    rng = np.random.default_rng(9)
    price = {key: float(quotes[k].last_price) for key, k in keys.items()}
    prev = {key: quotes[k].prev_close for key, k in keys.items()}
    at = datetime.now(UTC).replace(microsecond=0)
    payloads: list[list[tuple[tuple[str, str], str]]] = []
    for n in range(batches):
        batch = []
        for key in keys:
            price[key] = _tick(price[key] * (1 + rng.normal(0, 0.001)))
            last = Decimal(str(price[key]))
            q = Quote(
                key[1],
                key[0],
                last,
                prev[key],
                max(last, prev[key]),
                min(last, prev[key]),
                prev[key],
                1_000_000 + n,
                at + timedelta(seconds=n),
                False,
            )
            batch.append((key, json.dumps(quote_data(q, stale=False), separators=(",", ":"))))
        payloads.append(batch)

    offer: list[float] = []
    frames: list[float] = []
    total: list[float] = []
    dumps: list[float] = []
    size = 0
    gc.collect()
    for n, batch in enumerate(payloads):
        t0 = time.perf_counter()
        for key, payload in batch:
            live.offer_quote(key, payload)
        t1 = time.perf_counter()
        frame = live.frame()
        t2 = time.perf_counter()
        offer.append((t1 - t0) * 1e6)
        frames.append((t2 - t1) * 1e6)
        total.append((t2 - t0) * 1e6)
        # What each subscribed socket adds: the consumer's `send_frame` serialisation.
        t3 = time.perf_counter()
        text = json.dumps({**frame, "seq": n}, default=str)
        dumps.append((time.perf_counter() - t3) * 1e6)
        size = len(text)
    assert len(frame["holdings"]) == len(keys)
    return {
        "symbols": len(keys),
        "batches": batches,
        "load_ms": report.median(loads),
        "offer_us": report.median(offer),
        "frame_us": report.median(frames),
        "total_us": report.median(total),
        "total_p95_us": pct(total, 0.95),
        "dumps_us": report.median(dumps),
        "frame_bytes": size,
    }


# --- the report ---------------------------------------------------------------------------


@dataclass
class Options:
    instruments: int
    transactions: int
    years: int
    full_runs: int
    month_runs: int
    requests: int  # summary requests per run
    rounds: int  # runs of the summary
    others: int  # requests per other endpoint
    batches: int
    freeze: bool  # also measure workers that call gc.freeze()
    write: bool
    profile: bool
    output: Path


def _row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {report.fmt_ms(report.median(values))} | "
        f"{report.fmt_ms(pct(values, 0.95))} | {len(values)} |"
    )


def run_figures(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 0.5),
        "p95": pct(values, 0.95),
        "p99": pct(values, 0.99),
        "max": max(values),
    }


def summary_figures(rounds: list[list[float]]) -> dict[str, float]:
    """The median over the runs of each run's p50, p95, p99 and maximum."""
    runs = [run_figures(r) for r in rounds]
    return {k: report.median(run[k] for run in runs) for k in ("p50", "p95", "p99", "max")}


def _runs_table(rounds: list[list[float]]) -> str:
    lines = ["| run | requests | p50 ms | p95 ms | p99 ms | max ms |", "|---|--:|--:|--:|--:|--:|"]
    for n, values in enumerate(rounds, 1):
        run = run_figures(values)
        lines.append(
            f"| {n} | {len(values)} | {run['p50']:.1f} | {run['p95']:.1f} | "
            f"{run['p99']:.1f} | {run['max']:.0f} |"
        )
    figures = summary_figures(rounds)
    lines.append(
        f"| **median of the runs** | | **{figures['p50']:.1f}** | "
        f"**{figures['p95']:.1f}** | **{figures['p99']:.1f}** | {figures['max']:.0f} |"
    )
    pooled = [t for r in rounds for t in r]
    lines.append(
        f"| all runs together | {len(pooled)} | {pct(pooled, 0.5):.1f} | "
        f"{pct(pooled, 0.95):.1f} | {pct(pooled, 0.99):.1f} | {max(pooled):.0f} |"
    )
    return "\n".join(lines)


def _gc_text(stats: dict[str, Any]) -> str:
    if not stats["workers"]:
        return "no worker reported its collections"
    if not stats["full"]:
        return f"no full collection in {stats['workers']} workers"
    return (
        f"{stats['full']} full collections in {stats['workers']} workers, "
        f"{stats['full_median_ms']:.0f} ms median, {stats['full_max_ms']:.0f} ms the longest "
        f"({', '.join(f'{n:,}' for n in stats['tracked'])} objects tracked per worker at "
        "exit" + (f", {stats['frozen'][0]:,} frozen" if any(stats["frozen"]) else "") + ")"
    )


def render(
    opts: Options,
    world: World,
    reb: dict[str, Any],
    summary: dict[str, dict[str, Any]],
    others: dict[str, list[float]],
    inp: dict[str, Any],
    live: dict[str, Any],
    elapsed: float,
) -> str:
    labels = (("buy", "buys"), ("sell", "sells"), ("dividend", "dividends"), ("split", "splits"),
              ("bonus", "bonus issues"), ("deposit", "deposits"), ("fee", "fees"))  # fmt: skip
    kinds = ", ".join(f"{world.kinds.get(k, 0):,} {label}" for k, label in labels)
    default = summary["default"]
    fig = summary_figures(default["rounds"])
    p95 = fig["p95"]
    verdict = "met" if p95 < TARGET_P95_MS else "missed"
    in_total = inp["total"]
    steps = "\n".join(f"| {name} | {ms:.1f} |" for name, ms in inp["steps"].items())
    versions = ", ".join(
        f"{name} {report.package_version(pkg)}"
        for name, pkg in (("Django", "django"), ("DRF", "djangorestframework"),
                          ("gunicorn", "gunicorn"), ("psycopg", "psycopg"))
    )  # fmt: skip
    other_rows = "\n".join(_row(f"`{name}`", values) for name, values in others.items())
    full_runs = " / ".join(f"{_ms(t):,.0f}" for t in reb["full_runs"])
    n_tx, n_days = world.n_transactions, len(world.days)
    alternated = (
        " (each request alternating with one to a second server, below, so that both met the"
        " same load from the rest of the machine)"
        if "freeze" in summary
        else ""
    )
    body = f"""## Portfolios: recomputation, summary API, live updates

_Written by `python -m bench.portfolios` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in
{elapsed:.0f} s; {report.machine_line()}; {versions}. The two cores were shared with other
work during the run (other agents' test suites, servers and benchmarks; load average
{os.getloadavg()[0]:.1f} at the end), which stretches the tails more than the medians._

**Portfolio** — {n_tx:,} transactions over {opts.years} years
({world.days[0]:%Y-%m-%d} to {world.days[-1]:%Y-%m-%d}, {n_days:,} trading days) in
{opts.instruments} NSE instruments, all still held at the end: {kinds}; brokerage, STT,
exchange fees, GST and stamp duty on every trade. {n_days:,} daily candles per instrument and
for the benchmark index (random walks; raw prices that fall on split and bonus dates), a
latest quote per instrument in PostgreSQL and in the Redis quote cache. Created under a
dedicated user in the development database, vacuumed and analysed, deleted after the run.

| measure | median | ratio to the target | target (issue) |
|---|--:|--:|--:|
| summary API p95 through gunicorn (median of {opts.rounds} runs of {opts.requests}) | \
**{p95:.1f} ms** | **{p95 / TARGET_P95_MS:.2f}×** ({verdict}) | < {TARGET_P95_MS:.0f} ms |
| summary API p50 / p99 | {fig["p50"]:.1f} / {fig["p99"]:.1f} ms | — | — |
| full snapshot recomputation ({reb["full_rows"]:,} days) | {reb["full_ms"]:,.0f} ms | — | — |
| one-month incremental rebuild ({reb["month_rows"]} days) | {reb["month_ms"]:,.0f} ms | — \
| — |
| live update per tick batch ({live["symbols"]} symbols) | {live["total_us"]:,.0f} µs | — | — |

**1. Snapshot recomputation** — `snapshots.portfolio_snapshots_rebuild`, in one database
transaction: read the {n_tx:,} transactions and {(opts.instruments + 1) * n_days:,} daily
closes, replay FIFO day by day, value the holdings at each close, delete and bulk-insert the
rows. From the first transaction: {reb["full_ms"]:,.0f} ms, median of
{len(reb["full_runs"])} ({full_runs} ms), {reb["full_rows"]:,} rows. From one month back
(what an edit of a recent transaction queues): {reb["month_ms"]:,.0f} ms, median of
{len(reb["month_runs"])}, {reb["month_rows"]} rows; it still replays every earlier
transaction to know the holdings on its first day, so the replay is most of its cost.

**2. REST API** — gunicorn `config.wsgi`, 2 sync workers, `DEBUG=false`, the full middleware
stack (as `bench.http_servers` runs it), API-token authentication. One request at a time from
this process, a new connection each (sync workers close it after a response): latency as a
client sees it, connection included, not throughput; 10 warm-up requests first. The summary
body is {default["bytes"] / 1024:,.0f} KiB ({opts.instruments} holdings with allocation).

`GET /api/v1/portfolios/<id>/summary/`{alternated}:

{_runs_table(default["rounds"])}

The other endpoints of the portfolio page, on a server of their own ({opts.others} requests
each after 5 warm-up):

| endpoint | median ms | p95 ms | requests |
|---|--:|--:|--:|
{other_rows}

The summary without a server (Django's test client, same settings, one thread, this
process's own objects frozen out of the collector): median {report.median(in_total):.1f} ms,
p95 {pct(in_total, 0.95):.1f} ms over {len(in_total)} requests. Its steps, timed one by one
(median ms):

| step | ms |
|---|--:|
{steps}

The summary replays the ledger on every request (no stored holdings that could go stale): one
pass over the rows as they are read, without keeping the FIFO realisations, which only the
tax estimate needs. The tax estimate and transaction edits replay from a list, realisations
kept (`ledger_replay(portfolio_entries(...))`): {inp["kept_ms"]:.0f} ms, median of 5.
Performance and history read only the stored snapshots. Most of the tax estimate's time is
not the replay but its response: `dataclasses.asdict` and DRF serializers over
{inp["realisations"]:,} FIFO realisations (cProfile, `apps/portfolios/api_analytics.py`).

Full garbage collections (generation 2) in the summary's workers: {_gc_text(default["gc"])}.
A full collection walks every object a worker holds (Django, DRF, the URL configuration:
about 200,000), and the request that triggers it pays for it. The summary keeps no object
per transaction beyond the request's replay, so full collections are rare, but each one is
one of the slowest requests.
"""
    if "freeze" in summary:
        frozen = summary["freeze"]
        ffig = summary_figures(frozen["rounds"])
        body += f"""
The same requests, alternating with the ones above, to workers that call `gc.freeze()` once
the application is loaded (gunicorn `post_worker_init`; **not** how `web` runs today):

{_runs_table(frozen["rounds"])}

There: {_gc_text(frozen["gc"])}. Median p95 {ffig["p95"]:.1f} ms and p99
{ffig["p99"]:.1f} ms against {fig["p95"]:.1f} ms and {fig["p99"]:.1f} ms.
"""
    body += f"""
**3. Live updates** — a `LivePortfolio` loaded as `live.live_state_load` does (ledger
replayed once: {live["load_ms"]:.0f} ms per subscribe or transaction change, median of 3),
then {live["batches"]} batches of one tick for each of the {live["symbols"]} held symbols
(JSON payloads as `quotes_publish` publishes them): `offer_quote` for every tick
({live["offer_us"]:,.0f} µs per batch) and one `frame()`, the revaluation and the
`portfolio.update` body ({live["frame_us"]:,.0f} µs): **{live["total_us"]:,.0f} µs per
batch** median, p95 {live["total_p95_us"]:,.0f} µs. With the 1-second push interval an open
portfolio of this size costs about {live["total_us"] / 10_000:.1f} % of a core while ticks
flow, however many sockets show it: the revaluation runs once per portfolio and process, and
every socket gets the same frame object. The one cost per socket is its own serialisation of
that frame when sending it (the consumer's `json.dumps`, with the socket's `seq`):
{live["dumps_us"]:,.0f} µs for {live["frame_bytes"] / 1024:,.0f} KiB per socket and push.
"""
    return body


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.portfolios", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 transactions in 20 instruments over 2 years, fewer requests; prints only",
    )
    parser.add_argument("--no-write", action="store_true", help="print, leave the docs alone")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="skip the second server run with gc.freeze() in the workers",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of 30 in-process summary requests",
    )
    parser.add_argument("--requests", type=int, default=200, help="summary requests per run [200]")
    parser.add_argument("--rounds", type=int, default=3, help="runs of the summary [3]")
    parser.add_argument("--output", type=Path, default=report.BENCHMARKS_MD)
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds) < 1:
        parser.error("--requests and --rounds must be positive")
    if args.quick:
        return Options(
            20,
            2000,
            2,
            1,
            2,
            min(args.requests, 50),
            1,
            10,
            50,
            False,
            False,
            args.profile,
            args.output,
        )
    return Options(
        100,
        10_000,
        5,
        3,
        5,
        args.requests,
        args.rounds,
        30,
        300,
        not args.no_freeze,
        not args.no_write,
        args.profile,
        args.output,
    )


def main(argv: list[str] | None = None) -> int:
    from django.db import connections

    from apps.portfolios.snapshots import last_completed_trading_day

    opts = parse_args(argv)
    started = time.perf_counter()
    leftover = cleanup()
    if any(leftover.values()):
        print(f"removed what an earlier run left: {leftover}", file=sys.stderr)
    world = make_world(
        opts.instruments, opts.transactions, opts.years, last_completed_trading_day()
    )
    print(
        f"world: {world.n_transactions:,} transactions {world.kinds}, {len(world.days)} days",
        file=sys.stderr,
        flush=True,
    )
    try:
        t = time.perf_counter()
        stored = store(world)
        world.txs = []  # not kept alive (and walked by the collector) while measuring
        gc.collect()
        print(f"stored in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        reb = bench_rebuild(stored, opts.full_runs, opts.month_runs)
        print(
            f"rebuild: full {reb['full_ms']:.0f} ms, month {reb['month_ms']:.0f} ms",
            file=sys.stderr,
            flush=True,
        )
        with api_token(stored.user) as token:
            inp = bench_in_process(stored, token, min(opts.requests, 100))
            print(
                f"in-process summary: median {report.median(inp['total']):.1f} ms, "
                f"steps {inp['steps']}",
                file=sys.stderr,
                flush=True,
            )
            if opts.profile:
                print(profile_summary(stored, token), file=sys.stderr)
            connections.close_all()
            summary = bench_summary(stored, token, opts)
            others = bench_endpoints(stored, token, opts)
        live = bench_live(stored, opts.batches)
        print(f"live: {live}", file=sys.stderr, flush=True)
    finally:
        removed = cleanup()
        print(f"cleaned up: {removed}", file=sys.stderr, flush=True)
    body = render(opts, world, reb, summary, others, inp, live, time.perf_counter() - started)
    print(body)
    if opts.write:
        report.write_section(SECTION, body, opts.output)
        print(f"Wrote the `{SECTION}` section of {opts.output}.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
