"""Signals issued on bar close, their live outcomes, follows, backtest evidence and runs.

A `Signal` is issued once per (instrument, strategy, parameters, timeframe, bar). It is
followed on later bars until its target, its stop or its expiry (the same fill rule as
the backtest engine, `apps.signals.backtest.fills`), and its outcome is stored on the row.
`StrategyEvidence` caches the backtested record that a signal's confidence comes from.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument, Timeframe


class Action(models.TextChoices):
    BUY = "BUY", _("Buy")
    SELL = "SELL", _("Sell")
    EXIT = "EXIT", _("Exit")


class Outcome(models.TextChoices):
    OPEN = "open", _("Open")
    TARGET = "target", _("Target hit")
    STOP = "stop", _("Stopped out")
    EXPIRED = "expired", _("Expired")
    EXITED = "exited", _("Closed by an exit signal")


class Signal(models.Model):
    id = models.BigAutoField(primary_key=True)
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="+")
    strategy = models.CharField(max_length=40)  # key in apps.signals.strategies.STRATEGIES
    params = models.JSONField(default=dict)
    # Canonical text of `params` ("fast=20,slow=50"), for uniqueness and grouping.
    params_key = models.CharField(max_length=200)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    bar_time = models.DateTimeField()  # start of the closed bar the signal was computed on
    action = models.CharField(max_length=4, choices=Action.choices)
    # Levels: entry = the signal bar's close; stop ATR-based; target = entry ± R × risk.
    # EXIT signals carry only the entry (the price the exit refers to).
    entry_price = models.DecimalField(max_digits=16, decimal_places=4)
    target_price = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    stop_loss = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    risk_reward = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    strength = models.FloatField(default=0.0)  # 0..1, see docs/signals.md
    # Evidence-based: null when the backtest has too few trades to say anything.
    confidence = models.FloatField(null=True, blank=True)
    # {"backtest": {"trades", "hit_rate", "avg_r", "from", "to"}, "live": {...}}
    evidence = models.JSONField(default=dict, blank=True)
    explanation = models.TextField()
    # For EXIT: the BUY/SELL signal it closed.
    closes = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Live track record (BUY/SELL only): followed bar by bar until resolved.
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)  # bar start of the exit
    exit_price = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    r_multiple = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    bars_held = models.PositiveIntegerField(null=True, blank=True)
    days_held = models.PositiveIntegerField(null=True, blank=True)
    # The last bar start the tracker looked at, so each run only reads newer bars.
    checked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-bar_time", "-id")
        verbose_name = _("signal")
        verbose_name_plural = _("signals")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "strategy", "params_key", "timeframe", "bar_time"],
                name="signals_signal_once_per_bar",
            ),
        ]
        indexes = [
            models.Index(fields=["-bar_time", "-id"], name="signals_signal_feed_idx"),
            models.Index(
                fields=["instrument", "strategy", "timeframe", "-bar_time"],
                name="signals_signal_series_idx",
            ),
            models.Index(
                fields=["outcome"],
                name="signals_signal_open_idx",
                condition=models.Q(outcome="open"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.instrument_id} {self.strategy} {self.timeframe}"


class FollowKind(models.TextChoices):
    STRATEGY = "strategy", _("Strategy")
    INSTRUMENT = "instrument", _("Instrument")


class SignalFollow(models.Model):
    """A user follows a strategy or an instrument (optionally one timeframe) and is notified
    of its new signals through the notification system."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signal_follows"
    )
    kind = models.CharField(max_length=10, choices=FollowKind.choices)
    strategy = models.CharField(max_length=40, blank=True)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices, blank=True)  # "" = all
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("signal follow")
        verbose_name_plural = _("signal follows")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="strategy", instrument__isnull=True) & ~models.Q(strategy="")
                )
                | models.Q(kind="instrument", instrument__isnull=False, strategy=""),
                name="signals_follow_kind_target",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "strategy", "instrument", "timeframe"],
                name="signals_follow_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.strategy or self.instrument_id} {self.timeframe}"


class StrategyEvidence(models.Model):
    """The backtested record of one strategy (default parameters) on one instrument and
    timeframe, recomputed when stale; a signal's confidence is derived from it."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="+")
    strategy = models.CharField(max_length=40)
    params_key = models.CharField(max_length=200)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    trades = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    hit_rate = models.FloatField(null=True, blank=True)
    avg_r = models.FloatField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("strategy evidence")
        verbose_name_plural = _("strategy evidence")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "strategy", "params_key", "timeframe"],
                name="signals_evidence_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} {self.instrument_id} {self.timeframe}: {self.trades} trades"


class RunKind(models.TextChoices):
    SINGLE = "single", _("Single instrument")
    PORTFOLIO = "portfolio", _("Portfolio of instruments")
    SWEEP = "sweep", _("Parameter sweep with walk-forward")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def _share_token() -> str:
    return secrets.token_urlsafe(18)


class BacktestRun(models.Model):
    """A user's backtest: the validated request, progress while a worker runs it, and the
    stored report. Visible to its owner, to anyone with the link once `shared` is set, and
    as a frozen card in rooms it was shared to."""

    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests"
    )
    name = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=10, choices=RunKind.choices)
    strategy = models.CharField(max_length=40)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    instruments = models.ManyToManyField(Instrument, related_name="+")
    # The validated request: params (or grid), period, BacktestConfig fields, walk-forward.
    request = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # 0..100
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)  # the report, see docs/backtesting.md
    shared = models.BooleanField(default=False)
    share_token = models.CharField(max_length=32, unique=True, default=_share_token)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("backtest run")
        verbose_name_plural = _("backtest runs")
        indexes = [models.Index(fields=["owner", "-created_at"], name="signals_run_owner_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.strategy} {self.timeframe} ({self.status})"
