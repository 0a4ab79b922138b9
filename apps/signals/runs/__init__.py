"""Backtest runs: create (validate and queue), execute (in a worker), share, delete.

A run goes queued → running → done | failed. The worker claims a queued run atomically, so a
duplicated task does nothing; progress is saved at most every `PROGRESS_STEP` points and
pushed to the owner's sockets as `backtest.progress`, then `backtest.done` at the end. A
failure stores a sentence for the user (never a traceback). See docs/backtesting.md.
"""

from .execution import RunFailed, backtest_run_execute, jsonable
from .requests import backtest_request_clean, universe_instruments
from .services import (
    backtest_run_card,
    backtest_run_create,
    backtest_run_delete,
    backtest_run_share_link,
    share_urls,
)

__all__ = [
    "RunFailed",
    "backtest_request_clean",
    "backtest_run_card",
    "backtest_run_create",
    "backtest_run_delete",
    "backtest_run_execute",
    "backtest_run_share_link",
    "jsonable",
    "share_urls",
    "universe_instruments",
]
