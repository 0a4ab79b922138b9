"""Backtested evidence (StrategyEvidence), confidence and the live record of a series."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from apps.market.models import Instrument, InstrumentKind
from apps.signals.backtest import BacktestConfig, backtest
from apps.signals.evidence import (
    confidence_of,
    evidence_get,
    evidence_refresh,
    evidence_refresh_all,
    live_record,
    params_key_of,
)
from apps.signals.models import Action, Outcome, StrategyEvidence
from apps.signals.strategies import STRATEGIES
from apps.signals.tests.conftest import bars_synthetic, candles_insert
from apps.signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db

START = "2022-01-01 18:30"  # daily bars at 00:00 IST


def _expected(bars: pd.DataFrame, key: str) -> tuple[int, int, float]:
    """Trades, wins and mean R of the engine's run, counted here with plain loops."""
    params = STRATEGIES[key].validate()
    config = BacktestConfig(direction="both", stop_atr=2.0, target_r=2.0, atr_period=14)
    trades = backtest(bars, STRATEGIES[key].signals(bars, **params), config).trades
    wins = sum(1 for pnl in trades["pnl"] if pnl > 0)
    mean_r = sum(trades["r_multiple"]) / len(trades)
    return len(trades), wins, mean_r


def test_the_params_key_is_sorted_name_value_pairs_in_g_format() -> None:
    assert params_key_of({"slow": 50, "fast": 20}) == "fast=20,slow=50"
    assert params_key_of({"period": 10, "multiplier": 3.0}) == "multiplier=3,period=10"
    assert params_key_of({"nbdev": 2.5, "period": 20}) == "nbdev=2.5,period=20"


def test_evidence_is_the_engines_record_over_the_stored_closed_bars(reliance: Any) -> None:
    bars = bars_synthetic(900, seed=3, start=START)
    candles_insert(reliance, "1d", bars)
    now = bars.index[-1].to_pydatetime() + timedelta(hours=16)

    evidence = evidence_refresh(
        instrument_id=reliance.pk, strategy_key="ema_crossover", timeframe="1d", now=now
    )

    trades, wins, mean_r = _expected(bars, "ema_crossover")
    assert trades > 0
    assert (evidence.trades, evidence.wins) == (trades, wins)
    assert evidence.hit_rate == pytest.approx(wins / trades)
    assert evidence.avg_r == pytest.approx(mean_r, abs=1e-4)
    assert evidence.params_key == "fast=20,slow=50"
    assert evidence.period_start == bars.index[0].to_pydatetime()
    assert evidence.period_end == bars.index[-1].to_pydatetime()
    assert evidence.computed_at == now


def test_a_bar_still_forming_is_left_out_of_the_evidence(reliance: Any) -> None:
    bars = bars_synthetic(300, seed=4, start=START)
    candles_insert(reliance, "1d", bars)
    during_last_bar = bars.index[-1].to_pydatetime() + timedelta(hours=11)

    evidence = evidence_refresh(
        instrument_id=reliance.pk, strategy_key="supertrend", timeframe="1d", now=during_last_bar
    )

    assert evidence.period_end == bars.index[-2].to_pydatetime()
    assert evidence.trades == _expected(bars.iloc[:-1], "supertrend")[0]


def test_fresh_evidence_is_reused_and_stale_evidence_recomputed(
    reliance: Any, settings: Any
) -> None:
    settings.SIGNALS_EVIDENCE_MAX_AGE_HOURS = 24
    bars = bars_synthetic(600, seed=5, start=START)
    candles_insert(reliance, "1d", bars.iloc[:400])
    now = bars.index[399].to_pydatetime() + timedelta(hours=16)
    first = evidence_get(
        instrument_id=reliance.pk, strategy_key="macd_crossover", timeframe="1d", now=now
    )
    candles_insert(reliance, "1d", bars.iloc[400:])
    later = bars.index[-1].to_pydatetime() + timedelta(hours=16)

    reused = evidence_get(
        instrument_id=reliance.pk,
        strategy_key="macd_crossover",
        timeframe="1d",
        now=now + timedelta(hours=23),
    )
    recomputed = evidence_get(
        instrument_id=reliance.pk, strategy_key="macd_crossover", timeframe="1d", now=later
    )

    assert (reused.pk, reused.trades, reused.computed_at) == (first.pk, first.trades, now)
    assert recomputed.pk == first.pk
    assert recomputed.computed_at == later
    assert recomputed.trades == _expected(bars, "macd_crossover")[0]
    assert StrategyEvidence.objects.count() == 1


@pytest.mark.parametrize(
    ("trades", "wins", "expected"),
    [(9, 9, None), (10, 6, 7 / 12), (40, 23, 24 / 42), (10, 0, 1 / 12)],
)
def test_confidence_is_laplace_smoothed_from_ten_trades_on(
    trades: int, wins: int, expected: float | None
) -> None:
    evidence = StrategyEvidence(trades=trades, wins=wins)
    if expected is None:
        assert confidence_of(evidence) is None
    else:
        assert confidence_of(evidence) == pytest.approx(expected, abs=1e-4)


def test_the_live_record_counts_resolved_signals_of_the_same_series_only(
    reliance: Any, tcs: Any
) -> None:
    for outcome, r in (
        (Outcome.TARGET, "2.0000"),
        (Outcome.STOP, "-1.0000"),
        (Outcome.EXPIRED, "0.3000"),
        (Outcome.EXITED, "-0.2000"),
    ):
        SignalFactory(instrument=reliance, outcome=outcome, r_multiple=Decimal(r))
    SignalFactory(instrument=reliance)  # open
    SignalFactory(instrument=reliance, action=Action.EXIT, outcome=Outcome.TARGET)
    SignalFactory(instrument=tcs, outcome=Outcome.TARGET, r_multiple=Decimal("2"))
    SignalFactory(
        instrument=reliance, strategy="ema_crossover", outcome=Outcome.STOP, r_multiple=-1
    )
    SignalFactory(instrument=reliance, timeframe="15m", outcome=Outcome.STOP, r_multiple=-1)

    record = live_record(
        instrument_id=reliance.pk,
        strategy_key="sma_crossover",
        params_key="fast=20,slow=50",
        timeframe="1d",
    )

    assert record == {
        "resolved": 4,
        "wins": 2,
        "hit_rate": 0.5,
        "avg_r": pytest.approx((2.0 - 1.0 + 0.3 - 0.2) / 4),
    }


def test_the_nightly_refresh_covers_every_strategy_on_every_active_equity(
    reliance: Any, settings: Any
) -> None:
    settings.SIGNALS_TIMEFRAMES = ["1d"]
    candles_insert(reliance, "1d", bars_synthetic(300, seed=6, start=START))
    equities = Instrument.objects.filter(active=True, kind=InstrumentKind.EQUITY).count()

    written = evidence_refresh_all()

    assert written == equities * len(STRATEGIES)
    assert StrategyEvidence.objects.count() == written
    assert not StrategyEvidence.objects.filter(instrument__kind=InstrumentKind.INDEX).exists()
    assert StrategyEvidence.objects.filter(instrument=reliance, trades__gt=0).exists()
