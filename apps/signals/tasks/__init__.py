"""Celery tasks of the signals app: live signals (``live``) and backtest runs (``backtests``)."""

from .backtests import *  # noqa: F403
from .live import *  # noqa: F403
