"""What a backtest is asked to do: direction, sizing, levels, costs and timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["long", "short", "both"]
Sizing = Literal["fixed", "percent", "risk"]


@dataclass(frozen=True)
class Charges:
    """Indian equity charges as fractions of turnover (defaults: delivery on NSE through a
    discount broker, 2025 rates). Each leg pays brokerage (capped per order), the exchange
    transaction charge and SEBI's fee, GST on those three; STT on both legs (delivery);
    stamp duty on the buy leg only."""

    brokerage_rate: float = 0.0
    brokerage_cap: float = 20.0  # rupees per order; 0 = no cap
    stt_rate: float = 0.001
    exchange_rate: float = 0.0000297
    sebi_rate: float = 0.000001
    gst_rate: float = 0.18
    stamp_rate: float = 0.00015


NO_CHARGES = Charges(
    brokerage_rate=0.0,
    brokerage_cap=0.0,
    stt_rate=0.0,
    exchange_rate=0.0,
    sebi_rate=0.0,
    gst_rate=0.0,
    stamp_rate=0.0,
)


@dataclass(frozen=True)
class BacktestConfig:
    """Signals are acted on at the *next* bar's open (a signal is known only once its bar has
    closed). ``stop_atr``/``target_r`` of None mean no stop / no target."""

    direction: Direction = "long"
    sizing: Sizing = "percent"
    initial_capital: float = 1_000_000.0
    fixed_amount: float = 100_000.0  # rupees per trade (sizing "fixed")
    percent_of_equity: float = 100.0  # % of equity per trade (sizing "percent")
    risk_percent: float = 1.0  # % of equity lost if the stop is hit (sizing "risk")
    stop_atr: float | None = 2.0  # stop = entry -/+ stop_atr x ATR(atr_period) at the signal
    target_r: float | None = 2.0  # target = entry +/- target_r x (entry - stop)
    atr_period: int = 14
    max_bars: int | None = None  # time exit after this many bars held
    slippage_bps: float = 5.0  # every fill moves this many basis points against us
    fractional: bool = False  # whole shares unless set
    charges: Charges = field(default_factory=Charges)
