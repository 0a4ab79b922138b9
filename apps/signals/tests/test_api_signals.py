"""The signals REST API: the feed's filters, a signal's detail, strategies with their
backtested vs live records and drift, and follows (owner / other user / anonymous)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.signals.models import Action, Outcome, Signal, SignalFollow, StrategyEvidence
from apps.signals.strategies import STRATEGIES
from apps.signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


def _resolved(instrument: Instrument, r: str, **fields: Any) -> Signal:
    outcome = Outcome.TARGET if Decimal(r) > 0 else Outcome.STOP
    return SignalFactory.create(
        instrument=instrument,
        outcome=outcome,
        r_multiple=Decimal(r),
        exit_price=Decimal("2500"),
        resolved_at=datetime(2026, 3, 1, 3, 45, tzinfo=UTC),
        bars_held=3,
        days_held=3,
        **fields,
    )


def _evidence(
    instrument: Instrument,
    trades: int,
    wins: int,
    avg_r: float | None,
    strategy: str = "sma_crossover",
    timeframe: str = "1d",
) -> StrategyEvidence:
    return StrategyEvidence.objects.create(
        instrument=instrument,
        strategy=strategy,
        params_key="fast=20,slow=50",
        timeframe=timeframe,
        trades=trades,
        wins=wins,
        hit_rate=wins / trades if trades else None,
        avg_r=avg_r,
    )


# --- the list and its filters ---------------------------------------------------------------


def test_signals_are_listed_newest_first_with_levels_as_decimal_strings(
    auth_client: APIClient, reliance: Instrument
) -> None:
    old = SignalFactory.create(
        instrument=reliance, bar_time=datetime(2026, 1, 5, 3, 45, tzinfo=UTC)
    )
    new = SignalFactory.create(
        instrument=reliance, bar_time=datetime(2026, 1, 6, 3, 45, tzinfo=UTC)
    )
    body = auth_client.get("/api/v1/signals/").json()
    assert [s["id"] for s in body["results"]] == [new.pk, old.pk]
    first = body["results"][0]
    assert first["stock"] == "RELIANCE"
    assert first["exchange"] == "NSE"
    assert first["entry_price"] == "2480.00"
    assert first["target_price"] == "2650.00"
    assert first["stop_loss"] == "2395.00"
    assert first["risk_reward"] == "2.00"
    assert first["strategy_name"] == "SMA crossover"
    assert first["evidence"]["backtest"]["trades"] == 40
    assert first["outcome"] == "open"
    assert first["bar_time"] == "2026-01-06T09:15:00+05:30"
    assert first["exit_signal"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("symbol=RELIANCE", {"reliance_sma", "reliance_15m"}),
        ("symbol=nse:tcs", {"tcs_rsi_sell"}),
        ("strategy=rsi_reversion", {"tcs_rsi_sell"}),
        ("timeframe=15m", {"reliance_15m"}),
        ("action=SELL", {"tcs_rsi_sell"}),
        ("outcome=target", {"reliance_15m"}),
        ("symbol=RELIANCE&timeframe=1d", {"reliance_sma"}),
    ],
)
def test_each_filter_narrows_the_list(
    auth_client: APIClient,
    reliance: Instrument,
    tcs: Instrument,
    query: str,
    expected: set[str],
) -> None:
    made = {
        "reliance_sma": SignalFactory.create(instrument=reliance),
        "tcs_rsi_sell": SignalFactory.create(
            instrument=tcs, strategy="rsi_reversion", action=Action.SELL
        ),
        "reliance_15m": _resolved(reliance, "2", timeframe="15m"),
    }
    names = {v.pk: k for k, v in made.items()}
    body = auth_client.get(f"/api/v1/signals/?{query}").json()
    assert {names[s["id"]] for s in body["results"]} == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("symbol=NOSUCH", "symbol"),
        ("symbol=BSE:NOSUCH", "symbol"),
        ("strategy=astrology", "strategy"),
        ("timeframe=2d", "timeframe"),
        ("action=HOLD", "action"),
        ("outcome=won", "outcome"),
    ],
)
def test_bad_filter_values_answer_400_naming_the_field(
    auth_client: APIClient, market_seed: None, query: str, field: str
) -> None:
    response = auth_client.get(f"/api/v1/signals/?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_anonymous_requests_are_refused(market_seed: None) -> None:
    client = APIClient()
    for url in (
        "/api/v1/signals/",
        "/api/v1/signals/1/",
        "/api/v1/strategies/",
        "/api/v1/strategies/sma_crossover/",
        "/api/v1/signal-follows/",
    ):
        assert client.get(url).status_code in (401, 403), url
    assert client.post(
        "/api/v1/signal-follows/", {"kind": "strategy", "strategy": "sma_crossover"}
    ).status_code in (401, 403)
    assert not SignalFollow.objects.exists()


# --- detail ---------------------------------------------------------------------------------


def test_detail_has_outcome_fields_and_the_closing_exit(
    auth_client: APIClient, reliance: Instrument
) -> None:
    signal = _resolved(reliance, "-1", bar_time=datetime(2026, 2, 2, 3, 45, tzinfo=UTC))
    signal.outcome = Outcome.EXITED
    signal.save()
    exit_signal = SignalFactory.create(
        instrument=reliance,
        action=Action.EXIT,
        closes=signal,
        target_price=None,
        stop_loss=None,
        risk_reward=None,
        bar_time=datetime(2026, 2, 5, 3, 45, tzinfo=UTC),
    )
    body = auth_client.get(f"/api/v1/signals/{signal.pk}/").json()
    assert body["outcome"] == "exited"
    assert body["exit_price"] == "2500.00"
    assert body["r_multiple"] == "-1.0000"
    assert body["bars_held"] == 3
    assert body["days_held"] == 3
    assert body["resolved_at"] == "2026-03-01T09:15:00+05:30"
    assert body["exit_signal"] == exit_signal.pk
    assert body["explanation"].startswith("SMA 20 crossed above SMA 50")
    exit_body = auth_client.get(f"/api/v1/signals/{exit_signal.pk}/").json()
    assert exit_body["closes"] == signal.pk
    assert exit_body["target_price"] is None


def test_missing_signal_is_404(auth_client: APIClient, market_seed: None) -> None:
    response = auth_client.get("/api/v1/signals/987654/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- strategies -----------------------------------------------------------------------------


def test_strategies_list_every_strategy_with_its_parameters(
    auth_client: APIClient, market_seed: None
) -> None:
    body = auth_client.get("/api/v1/strategies/").json()
    assert [s["key"] for s in body] == list(STRATEGIES)
    sma = body[0]
    assert sma["name"] == "SMA crossover"
    assert sma["description"].startswith("Buy when the fast simple moving average")
    assert sma["params"] == [
        {"name": "fast", "default": 20.0, "min": 1.0, "max": 500.0, "integer": True},
        {"name": "slow", "default": 50.0, "min": 2.0, "max": 1000.0, "integer": True},
    ]
    assert sma["records"] == []


def test_strategy_records_sum_backtests_and_live_signals_and_flag_drift(
    auth_client: APIClient, reliance: Instrument, tcs: Instrument, settings: Any
) -> None:
    settings.SIGNALS_DRIFT_MIN_LIVE = 10
    settings.SIGNALS_DRIFT_THRESHOLD = 0.15
    # Backtests: RELIANCE 40 trades, 24 wins, avg R 0.5; TCS 20 trades, 6 wins, avg R -0.1.
    _evidence(reliance, 40, 24, 0.5)
    _evidence(tcs, 20, 6, -0.1)
    # Live: 10 resolved on RELIANCE (3 wins at +2 R, 7 losses at -1 R) and 2 still open.
    for _ in range(3):
        _resolved(reliance, "2")
    for _ in range(7):
        _resolved(reliance, "-1")
    SignalFactory.create_batch(2, instrument=reliance)
    # Another strategy and an EXIT do not count.
    _resolved(reliance, "2", strategy="rsi_reversion")
    SignalFactory.create(
        instrument=tcs, action=Action.EXIT, outcome=Outcome.EXITED, r_multiple=Decimal("5")
    )

    body = auth_client.get("/api/v1/strategies/").json()
    [record] = next(s for s in body if s["key"] == "sma_crossover")["records"]
    trades, wins = 40 + 20, 24 + 6
    assert record["timeframe"] == "1d"
    assert record["backtest"]["trades"] == trades
    assert record["backtest"]["wins"] == wins
    assert record["backtest"]["hit_rate"] == pytest.approx(wins / trades)  # 0.5
    assert record["backtest"]["avg_r"] == pytest.approx((40 * 0.5 + 20 * -0.1) / 60)  # 0.3
    assert record["live"] == {
        "resolved": 10,
        "wins": 3,
        "hit_rate": pytest.approx(0.3),
        "avg_r": pytest.approx((3 * 2 - 7) / 10),
        "open": 2,
    }
    # |0.3 - 0.5| = 0.2 >= 0.15 with 10 resolved: drifting.
    assert record["drift"] is True

    settings.SIGNALS_DRIFT_THRESHOLD = 0.25  # 0.2 is now within the tolerance
    body = auth_client.get("/api/v1/strategies/").json()
    assert next(s for s in body if s["key"] == "sma_crossover")["records"][0]["drift"] is False


def test_too_few_live_signals_never_drift(
    auth_client: APIClient, reliance: Instrument, settings: Any
) -> None:
    settings.SIGNALS_DRIFT_MIN_LIVE = 10
    _evidence(reliance, 40, 36, 1.0)  # 90 % backtested
    for _ in range(9):
        _resolved(reliance, "-1")  # 0 % live, but only 9 resolved
    body = auth_client.get("/api/v1/strategies/sma_crossover/").json()
    assert body["records"][0]["live"]["resolved"] == 9
    assert body["records"][0]["drift"] is False


def test_strategy_detail_has_per_instrument_rows_and_recent_signals(
    auth_client: APIClient, reliance: Instrument, tcs: Instrument, settings: Any
) -> None:
    settings.SIGNALS_DRIFT_MIN_LIVE = 2
    _evidence(reliance, 10, 8, 1.2)
    _evidence(tcs, 30, 15, None)  # a backtest without an average R
    _evidence(tcs, 5, 1, 0.4, timeframe="15m")
    _resolved(reliance, "-1")
    _resolved(reliance, "-1")
    signals = SignalFactory.create_batch(22, instrument=tcs, strategy="sma_crossover")

    body = auth_client.get("/api/v1/strategies/sma_crossover/").json()
    assert body["key"] == "sma_crossover"
    rows = {(r["symbol"], r["timeframe"]): r for r in body["instruments"]}
    assert list(rows) == [("RELIANCE", "1d"), ("TCS", "15m"), ("TCS", "1d")]
    reliance_row = rows[("RELIANCE", "1d")]
    assert reliance_row["exchange"] == "NSE"
    assert reliance_row["backtest"]["hit_rate"] == pytest.approx(0.8)
    assert reliance_row["backtest"]["avg_r"] == pytest.approx(1.2)
    assert reliance_row["live"]["resolved"] == 2
    assert reliance_row["live"]["hit_rate"] == 0.0
    assert reliance_row["drift"] is True  # 0 % live vs 80 % backtested, 2 resolved
    assert rows[("TCS", "1d")]["backtest"]["avg_r"] is None
    assert rows[("TCS", "1d")]["live"]["open"] == 22
    assert rows[("TCS", "1d")]["drift"] is False  # nothing resolved live
    # Per timeframe: 1d sums RELIANCE and TCS; the R average weighs only rows that have one.
    by_tf = {r["timeframe"]: r for r in body["records"]}
    assert by_tf["1d"]["backtest"]["trades"] == 40
    assert by_tf["1d"]["backtest"]["avg_r"] == pytest.approx(1.2)
    assert by_tf["15m"]["backtest"]["hit_rate"] == pytest.approx(0.2)
    newest = sorted(
        signals + list(Signal.objects.filter(instrument=reliance)),
        key=lambda s: (s.bar_time, s.pk),
        reverse=True,
    )[:20]
    assert [s["id"] for s in body["recent_signals"]] == [s.pk for s in newest]


def test_unknown_strategy_is_404(auth_client: APIClient) -> None:
    assert auth_client.get("/api/v1/strategies/astrology/").status_code == 404


# --- follows --------------------------------------------------------------------------------


def test_following_a_strategy_and_an_instrument(
    auth_client: APIClient, user: Any, reliance: Instrument
) -> None:
    response = auth_client.post(
        "/api/v1/signal-follows/", {"kind": "strategy", "strategy": "supertrend"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["strategy_name"] == "SuperTrend"
    response = auth_client.post(
        "/api/v1/signal-follows/", {"kind": "instrument", "symbol": "reliance", "timeframe": "1d"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["symbol"], body["exchange"], body["timeframe"]) == ("RELIANCE", "NSE", "1d")
    listed = auth_client.get("/api/v1/signal-follows/").json()["results"]
    assert [(f["kind"], f["strategy"], f["symbol"]) for f in listed] == [
        ("instrument", "", "RELIANCE"),
        ("strategy", "supertrend", None),
    ]
    assert SignalFollow.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "strategy", "strategy": "astrology"}, "strategy"),
        ({"kind": "strategy"}, "strategy"),
        ({"kind": "instrument", "symbol": "NOSUCH"}, "symbol"),
        ({"kind": "instrument"}, "symbol"),
        ({"kind": "sector", "strategy": "supertrend"}, "kind"),
        ({"kind": "strategy", "strategy": "supertrend", "timeframe": "2d"}, "timeframe"),
    ],
)
def test_bad_follows_answer_400_naming_the_field(
    auth_client: APIClient, market_seed: None, body: dict[str, str], field: str
) -> None:
    response = auth_client.post("/api/v1/signal-follows/", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_following_twice_answers_400(auth_client: APIClient, market_seed: None) -> None:
    body = {"kind": "strategy", "strategy": "supertrend"}
    assert auth_client.post("/api/v1/signal-follows/", body).status_code == 201
    response = auth_client.post("/api/v1/signal-follows/", body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"non_field_errors": ["You already follow this."]}


def test_follows_are_private_to_their_owner(
    auth_client: APIClient, user: Any, other_user: Any, reliance: Instrument
) -> None:
    mine = SignalFollow.objects.create(user=user, kind="instrument", instrument=reliance)
    theirs = SignalFollow.objects.create(user=other_user, kind="strategy", strategy="supertrend")
    listed = auth_client.get("/api/v1/signal-follows/").json()["results"]
    assert [f["id"] for f in listed] == [mine.pk]

    missing = auth_client.delete("/api/v1/signal-follows/987654/")
    other = auth_client.delete(f"/api/v1/signal-follows/{theirs.pk}/")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert SignalFollow.objects.filter(pk=theirs.pk).exists()

    assert APIClient().delete(f"/api/v1/signal-follows/{mine.pk}/").status_code in (401, 403)
    assert auth_client.delete(f"/api/v1/signal-follows/{mine.pk}/").status_code == 204
    assert not SignalFollow.objects.filter(pk=mine.pk).exists()


def test_schema_documents_the_signals_endpoints(auth_client: APIClient) -> None:
    paths = auth_client.get("/api/schema/?format=json").json()["paths"]
    for url in (
        "/api/v1/signals/",
        "/api/v1/signals/{signal_id}/",
        "/api/v1/strategies/",
        "/api/v1/strategies/{key}/",
        "/api/v1/signal-follows/",
        "/api/v1/signal-follows/{follow_id}/",
    ):
        assert url in paths, url
