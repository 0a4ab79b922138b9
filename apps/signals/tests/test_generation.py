"""Live signal generation on bar close: the signal, its levels, explanation and evidence."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.conf import settings

from apps.market.models import Instrument
from apps.signals.backtest import BacktestConfig, backtest
from apps.signals.generation import signals_generate
from apps.signals.models import Action, Outcome, Signal
from apps.signals.strategies import STRATEGIES
from apps.signals.tasks import signals_bar_close
from apps.signals.tests.conftest import bars_synthetic, candles_insert, wilder_atr
from apps.signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db

START = "2025-01-01 18:30"  # daily bars start at 00:00 IST


def _sma(close: list[float], period: int, i: int) -> float:
    return sum(close[i - period + 1 : i + 1]) / period


def _crossings(close: list[float], fast: int = 20, slow: int = 50) -> list[tuple[int, int]]:
    """(bar, +1 up / -1 down) where SMA fast crosses SMA slow, by plain loops."""
    out = []
    for i in range(slow, len(close)):
        now = _sma(close, fast, i) - _sma(close, slow, i)
        before = _sma(close, fast, i - 1) - _sma(close, slow, i - 1)
        if now > 0 >= before:
            out.append((i, 1))
        elif now < 0 <= before:
            out.append((i, -1))
    return out


def _frame(close: list[float], volume: list[float]) -> pd.DataFrame:
    opens = [close[0], *close[:-1]]
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": [max(o, c) + 2 for o, c in zip(opens, close, strict=True)],
            "low": [min(o, c) - 2 for o, c in zip(opens, close, strict=True)],
            "close": close,
            "volume": volume,
        },
        index=pd.date_range(START, periods=len(close), freq="D", tz="UTC", name="start"),
    )
    return frame.round(2)


def _rising_at_the_end() -> pd.DataFrame:
    """A slow decline then a climb, cut at the bar where SMA 20 crosses above SMA 50; the
    last bar trades 1.8x the volume of the bars before it."""
    close = [1000.0 - 2 * i for i in range(70)] + [860.0 + 6 * i for i in range(1, 40)]
    up = [i for i, side in _crossings(close) if side > 0]
    close = close[: up[0] + 1]
    return _frame(close, [1000.0] * (len(close) - 1) + [1800.0])


def _after_close(bars: pd.DataFrame, i: int = -1) -> datetime:
    """16:00 IST on the day of bar ``i``: it has closed, the next one has not started."""
    return bars.index[i].to_pydatetime() + timedelta(hours=16)


def _sma_signal(instrument: Instrument) -> Signal:
    return Signal.objects.get(
        instrument=instrument, strategy="sma_crossover", action__in=[Action.BUY, Action.EXIT]
    )


def test_a_crossover_on_the_last_closed_bar_issues_a_buy_with_levels_and_explanation(
    reliance: Any,
) -> None:
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    nifty = Instrument.objects.get(symbol="NIFTY 50")
    candles_insert(nifty, "1d", bars)  # an index: never gets signals

    created = signals_generate(timeframe="1d", now=_after_close(bars))

    assert {s.instrument_id for s in created} == {reliance.pk}
    signal = _sma_signal(reliance)
    assert signal in created
    close = bars["close"].tolist()
    entry = close[-1]
    atr = wilder_atr(bars["high"].tolist(), bars["low"].tolist(), close, 14)
    stop = math.floor((entry - 2 * atr) * 100) / 100
    assert signal.action == Action.BUY
    assert signal.bar_time == bars.index[-1].to_pydatetime()
    assert (signal.params, signal.params_key, signal.timeframe) == (
        {"fast": 20, "slow": 50},
        "fast=20,slow=50",
        "1d",
    )
    assert signal.entry_price == Decimal(f"{entry:.2f}")
    assert signal.stop_loss == Decimal(f"{stop:.2f}")
    assert signal.target_price == Decimal(f"{entry + 2 * (entry - stop):.2f}")
    assert signal.risk_reward == Decimal("2.00")
    move = min(abs(close[-1] - close[-2]) / atr, 1.0)
    assert signal.strength == pytest.approx((move + min(1.8 / 2, 1.0)) / 2, abs=1e-4)
    n = len(close) - 1
    assert signal.explanation == (
        f"SMA 20 crossed above SMA 50; SMA 20 {_sma(close, 20, n):.2f}, "
        f"SMA 50 {_sma(close, 50, n):.2f}; volume 1.8× average"
    )
    assert signal.outcome == Outcome.OPEN


def test_a_second_run_on_the_same_bar_creates_nothing(reliance: Any) -> None:
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    first = signals_generate(timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk])

    again = signals_generate(
        timeframe="1d", now=_after_close(bars) + timedelta(hours=1), instrument_ids=[reliance.pk]
    )

    assert first
    assert again == []
    assert Signal.objects.count() == len(first)


def test_a_bar_still_forming_is_not_used(reliance: Any) -> None:
    bars = _rising_at_the_end()
    forming = _frame([*bars["close"].tolist(), 500.0], [1000.0] * (len(bars) + 1)).iloc[-1:]
    forming.index = pd.DatetimeIndex([bars.index[-1] + pd.Timedelta(days=1)], name="start")
    candles_insert(reliance, "1d", pd.concat([bars, forming]))

    # Noon IST on the forming bar's day: the signal is the crossover bar's, the day before.
    noon = forming.index[0].to_pydatetime() + timedelta(hours=12)
    signals_generate(timeframe="1d", now=noon, instrument_ids=[reliance.pk])

    signal = _sma_signal(reliance)
    assert signal.bar_time == bars.index[-1].to_pydatetime()
    assert signal.entry_price == Decimal(f"{bars['close'].iloc[-1]:.2f}")


def test_a_buy_event_with_an_open_sell_is_an_exit_that_resolves_the_sell(reliance: Any) -> None:
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    sell: Any = SignalFactory(
        instrument=reliance,
        bar_time=bars.index[-6].to_pydatetime(),
        action=Action.SELL,
        entry_price=Decimal("900.00"),
        stop_loss=Decimal("950.00"),
        target_price=Decimal("800.00"),
    )

    signals_generate(timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk])

    exit_signal = _sma_signal(reliance)
    close = float(bars["close"].iloc[-1])
    assert exit_signal.action == Action.EXIT
    assert exit_signal.closes_id == sell.pk
    assert exit_signal.entry_price == Decimal(f"{close:.2f}")
    assert (exit_signal.stop_loss, exit_signal.target_price, exit_signal.confidence) == (
        None,
        None,
        None,
    )
    sell.refresh_from_db()
    assert sell.outcome == Outcome.EXITED
    assert sell.exit_price == Decimal(f"{close:.4f}")
    assert sell.resolved_at == bars.index[-1].to_pydatetime()
    assert sell.r_multiple == Decimal(f"{-(close - 900) / 50:.4f}")
    assert (sell.bars_held, sell.days_held) == (5, 5)
    assert not Signal.objects.filter(
        instrument=reliance, strategy="sma_crossover", action=Action.BUY
    ).exists()


def test_too_little_backtest_evidence_gives_no_confidence_and_says_so(reliance: Any) -> None:
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    strategy = STRATEGIES["sma_crossover"]
    trades = backtest(bars, strategy.signals(bars, fast=20, slow=50), _live_config()).trades

    signals_generate(timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk])

    signal = _sma_signal(reliance)
    assert len(trades) < settings.SIGNALS_MIN_EVIDENCE_TRADES
    assert signal.confidence is None
    assert signal.evidence["backtest"]["trades"] == len(trades)
    assert signal.evidence["sufficient"] is False
    assert "Too little evidence" in signal.evidence["note"]


def _live_config() -> BacktestConfig:
    return BacktestConfig(direction="both", stop_atr=2.0, target_r=2.0, atr_period=14)


def test_confidence_is_the_laplace_smoothed_backtested_hit_rate(reliance: Any) -> None:
    walk = bars_synthetic(1500, seed=7, start=START)
    close = walk["close"].tolist()
    last, side = _crossings(close)[-1]
    bars = walk.iloc[: last + 1]
    candles_insert(reliance, "1d", bars)
    resolved: Any = SignalFactory(
        instrument=reliance,
        bar_time=bars.index[-40].to_pydatetime(),
        outcome=Outcome.TARGET,
        r_multiple=Decimal("2.0000"),
    )
    trades = backtest(
        bars, STRATEGIES["sma_crossover"].signals(bars, fast=20, slow=50), _live_config()
    ).trades
    wins = int((trades["pnl"] > 0).sum())

    signals_generate(timeframe="1d", now=_after_close(bars), instrument_ids=[reliance.pk])

    signal = Signal.objects.exclude(pk=resolved.pk).get(strategy="sma_crossover")
    assert signal.action == (Action.BUY if side > 0 else Action.SELL)
    assert len(trades) >= settings.SIGNALS_MIN_EVIDENCE_TRADES
    assert signal.confidence == pytest.approx((wins + 1) / (len(trades) + 2), abs=1e-4)
    backtested = signal.evidence["backtest"]
    assert (backtested["trades"], backtested["wins"]) == (len(trades), wins)
    assert backtested["hit_rate"] == pytest.approx(wins / len(trades), abs=1e-4)
    assert backtested["avg_r"] == pytest.approx(float(np.mean(trades["r_multiple"])), abs=1e-4)
    assert backtested["from"] == bars.index[0].isoformat()
    assert backtested["to"] == bars.index[-1].isoformat()
    assert signal.evidence["live"] == {"resolved": 1, "wins": 1, "hit_rate": 1.0, "avg_r": 2.0}


def test_the_bar_close_task_issues_signals_after_the_close_of_a_trading_day(
    reliance: Any,
) -> None:
    bars = _rising_at_the_end()
    candles_insert(reliance, "1d", bars)
    day = bars.index[-1].tz_convert("Asia/Kolkata").date()
    assert day.isoformat() == "2025-03-28"  # a Friday, no NSE holiday

    assert signals_bar_close("1d", at="2025-03-28T15:40:00+05:30") > 0

    assert _sma_signal(reliance).bar_time == bars.index[-1].to_pydatetime()


@pytest.mark.parametrize(
    "at",
    [
        "2025-03-29T15:40:00+05:30",  # a Saturday
        "2025-03-31T15:40:00+05:30",  # Id-Ul-Fitr, an NSE holiday
        "2025-03-28T09:10:00+05:30",  # before the open
    ],
)
def test_the_bar_close_task_does_nothing_outside_trading_days_and_hours(
    reliance: Any, at: str
) -> None:
    candles_insert(reliance, "1d", _rising_at_the_end())

    assert signals_bar_close("1d", at=at) == 0

    assert not Signal.objects.exists()
