"""Factories for signals models: rows made directly (no events); use services to test behaviour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from apps.signals.models import Action, BacktestRun, RunKind, Signal
from tests.factories import UserFactory


class SignalFactory(factory.django.DjangoModelFactory[Signal]):
    """A BUY of the default SMA crossover on a daily bar; pass ``instrument``."""

    class Meta:
        model = Signal

    strategy = "sma_crossover"
    params = factory.LazyFunction(lambda: {"fast": 20, "slow": 50})
    params_key = "fast=20,slow=50"
    timeframe = "1d"
    bar_time = factory.Sequence(lambda n: datetime(2026, 1, 1, 3, 45, tzinfo=UTC) + timedelta(n))
    action = Action.BUY
    entry_price = Decimal("2480.00")
    target_price = Decimal("2650.00")
    stop_loss = Decimal("2395.00")
    risk_reward = Decimal("2.00")
    strength = 0.6
    confidence = 0.58
    evidence = factory.LazyFunction(
        lambda: {"backtest": {"trades": 40, "wins": 23, "hit_rate": 0.575, "avg_r": 0.31}}
    )
    explanation = "SMA 20 crossed above SMA 50; SMA 20 2478.10, SMA 50 2471.55"


class BacktestRunFactory(factory.django.DjangoModelFactory[BacktestRun]):
    class Meta:
        model = BacktestRun

    owner = factory.SubFactory(UserFactory)
    kind = RunKind.SINGLE
    strategy = "sma_crossover"
    timeframe = "1d"
    request = factory.LazyFunction(lambda: {"params": {"fast": 20, "slow": 50}})
