"""The backtest engine, its report, portfolio backtests and parameter sweeps with walk-forward
validation, written on numpy/pandas (see docs/backtesting.md)."""

from .config import NO_CHARGES, BacktestConfig, Charges
from .engine import Result, backtest
from .fills import first_exit
from .portfolio import portfolio_backtest
from .report import BARS_PER_YEAR, report
from .sweep import sweep

__all__ = [
    "BARS_PER_YEAR",
    "NO_CHARGES",
    "BacktestConfig",
    "Charges",
    "Result",
    "backtest",
    "first_exit",
    "portfolio_backtest",
    "report",
    "sweep",
]
