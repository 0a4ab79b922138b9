"""Backtest runs: request validation, the worker's execution, progress events, sharing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from apps.market.models import Instrument
from apps.realtime.events import user_group
from apps.signals import runs
from apps.signals.models import BacktestRun, RunKind, RunStatus
from apps.signals.run_selectors import run_summary
from apps.signals.tests.conftest import bars_synthetic, candles_insert
from apps.signals.tests.factories import BacktestRunFactory
from tests.events import published

pytestmark = pytest.mark.django_db


def new_run(**fields: Any) -> Any:
    """A saved run (factories are typed as themselves, not as the model they build)."""
    return BacktestRunFactory(**fields)


def _single(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "single",
        "strategy": "sma_crossover",
        "params": {"fast": 5, "slow": 20},
        "instruments": ["RELIANCE"],
        "timeframe": "1d",
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}  # None: omit


def _fields(data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        runs.backtest_request_clean(data=data)
    return caught.value.message_dict


# --- validation -------------------------------------------------------------------------------


def test_a_valid_single_request_is_stored_with_the_strategy_defaults_filled_in(
    reliance: Instrument,
) -> None:
    request, instruments = runs.backtest_request_clean(data=_single(params={"fast": 5}))
    assert instruments == [reliance]
    assert request["params"] == {"fast": 5, "slow": 50}
    assert request["start"] is None
    assert request["config"] == {}


def test_an_out_of_bounds_strategy_parameter_is_reported_under_its_name(
    reliance: Instrument,
) -> None:
    fields = _fields(_single(params={"fast": 0, "slow": 20}))
    assert list(fields) == ["params.fast"]
    assert "between 1 and 500" in fields["params.fast"][0]


def test_fast_not_below_slow_is_reported_on_fast(reliance: Instrument) -> None:
    assert "params.fast" in _fields(_single(params={"fast": 30, "slow": 20}))


def test_an_unknown_parameter_is_reported_under_its_name(reliance: Instrument) -> None:
    assert "params.speed" in _fields(_single(params={"speed": 3}))


def test_an_unknown_symbol_is_reported_on_its_position(reliance: Instrument) -> None:
    fields = _fields(_single(instruments=["NOPE"]))
    assert "NOPE" in fields["instruments.0"][0]


def test_a_single_run_needs_exactly_one_instrument(reliance: Instrument, tcs: Instrument) -> None:
    assert "instruments" in _fields(_single(instruments=["RELIANCE", "TCS"]))
    assert "instruments" in _fields(_single(instruments=[]))


def test_a_portfolio_needs_at_least_two_distinct_instruments(reliance: Instrument) -> None:
    fields = _fields(_single(kind="portfolio", instruments=["RELIANCE", "NSE:RELIANCE"]))
    assert "instruments" in fields


def test_the_nifty_50_universe_resolves_to_its_fifty_seeded_constituents(
    reliance: Instrument,
) -> None:
    request, instruments = runs.backtest_request_clean(
        data=_single(kind="portfolio", instruments=[], universe="NIFTY 50")
    )
    assert len(instruments) == 50
    assert request["universe"] == "NIFTY 50"
    assert reliance in instruments


def test_a_universe_is_refused_for_a_single_run(reliance: Instrument) -> None:
    assert "universe" in _fields(_single(instruments=[], universe="NIFTY 50"))


def test_an_end_before_the_start_is_refused(reliance: Instrument) -> None:
    assert "end" in _fields(_single(start="2024-05-01", end="2024-04-30"))


def test_config_values_out_of_bounds_are_reported_with_their_path(reliance: Instrument) -> None:
    fields = _fields(
        _single(config={"stop_atr": 0, "charges": {"stt_rate": 2}, "direction": "sideways"})
    )
    assert {"config.stop_atr", "config.charges.stt_rate", "config.direction"} <= set(fields)


def test_a_null_stop_and_target_are_accepted(reliance: Instrument) -> None:
    request, _ = runs.backtest_request_clean(
        data=_single(config={"stop_atr": None, "target_r": None, "initial_capital": "250000"})
    )
    assert request["config"] == {"stop_atr": None, "target_r": None, "initial_capital": "250000.00"}


def test_a_grid_value_out_of_bounds_is_reported_under_the_grid_parameter(
    reliance: Instrument,
) -> None:
    fields = _fields(_single(kind="sweep", params=None, grid={"fast": [5, 0], "slow": [20]}))
    assert "grid.fast" in fields


def test_a_grid_of_more_than_500_combinations_is_refused(reliance: Instrument) -> None:
    grid = {"fast": list(range(1, 27)), "slow": list(range(30, 50))}  # 26 x 20 = 520
    fields = _fields(_single(kind="sweep", params=None, grid=grid))
    assert "520" in fields["grid"][0]


def test_walk_forward_options_are_bounded(reliance: Instrument) -> None:
    fields = _fields(
        _single(kind="sweep", params=None, grid={"fast": [5]}, windows=1, in_sample=0.95)
    )
    assert {"windows", "in_sample"} <= set(fields)


def test_a_sweep_request_keeps_its_grid_and_walk_forward_defaults(reliance: Instrument) -> None:
    request, _ = runs.backtest_request_clean(
        data=_single(kind="sweep", params=None, grid={"fast": [5, 10, 10], "slow": [30, 60]})
    )
    assert request["grid"] == {"fast": [5, 10], "slow": [30, 60]}
    assert (request["windows"], request["in_sample"]) == (4, 0.7)


def test_a_fourth_active_run_is_refused(user: Any, reliance: Instrument) -> None:
    BacktestRunFactory.create_batch(2, owner=user, status=RunStatus.QUEUED)
    new_run(owner=user, status=RunStatus.RUNNING)
    new_run(owner=user, status=RunStatus.DONE)
    with pytest.raises(ValidationError) as caught:
        runs.backtest_run_create(owner=user, data=_single())
    assert "non_field_errors" in caught.value.message_dict


def test_creating_a_run_queues_its_task_after_commit(
    user: Any, reliance: Instrument, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from apps.signals.tasks import backtests

    queued: list[int] = []
    monkeypatch.setattr(backtests.backtest_run, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.backtest_run_create(owner=user, data=_single(name=" Trend test "))
    assert queued == [run.pk]
    assert (run.status, run.kind, run.name) == (RunStatus.QUEUED, RunKind.SINGLE, "Trend test")
    assert list(run.instruments.all()) == [reliance]


# --- execution --------------------------------------------------------------------------------


def _sma_trades_by_loop(close: np.ndarray, fast: int, slow: int) -> int:
    """Round trips of an always-all-in long SMA crossover, counted with a plain loop:
    a buy on the bar after a cross up, a sell on the bar after a cross down, and a position
    still open at the end closed there."""

    def sma(n: int, i: int) -> float:
        return float(np.mean(close[i - n + 1 : i + 1]))

    holding, pending, trades = False, 0, 0
    for i in range(len(close)):
        if pending == 1 and not holding:
            holding = True
        elif pending == -1 and holding:
            holding, trades = False, trades + 1
        pending = 0
        if i >= slow:
            before = sma(fast, i - 1) - sma(slow, i - 1)
            now = sma(fast, i) - sma(slow, i)
            if now > 0 >= before:
                pending = 1
            elif now < 0 <= before:
                pending = -1
    return trades + (1 if holding else 0)


def test_a_single_run_stores_its_report_and_tells_the_owner(
    user: Any, reliance: Instrument, django_capture_on_commit_callbacks: Any
) -> None:
    bars = bars_synthetic(300, seed=7)
    candles_insert(reliance, "1d", bars)
    run = new_run(
        owner=user,
        request={
            "params": {"fast": 5, "slow": 20},
            "config": {"stop_atr": None, "target_r": None, "slippage_bps": 0},
        },
    )
    run.instruments.set([reliance])

    def execute() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            runs.backtest_run_execute(run_id=run.pk)

    _, events = published([user_group(user.pk)], execute)
    run.refresh_from_db()
    assert (run.status, run.progress, run.error) == (RunStatus.DONE, 100, "")
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.result["summary"]["bars"] == 300
    assert run.result["summary"]["trades"] == _sma_trades_by_loop(bars["close"].to_numpy(), 5, 20)
    assert len(run.result["trades"]) == run.result["summary"]["trades"]
    kinds = [e["type"] for e in events[user_group(user.pk)]]
    assert kinds[0] == "backtest.progress"
    assert kinds[-1] == "backtest.done"
    progresses = [e["progress"] for e in events[user_group(user.pk)]]
    assert progresses == sorted(progresses)
    assert events[user_group(user.pk)][-1] == {
        "type": "backtest.done",
        "id": run.pk,
        "status": "done",
        "progress": 100,
    }


def test_the_period_limits_the_bars_used(user: Any, reliance: Instrument) -> None:
    candles_insert(reliance, "1d", bars_synthetic(300, seed=3, start="2024-01-01 03:45"))
    run = new_run(
        owner=user,
        request={"params": {"fast": 5, "slow": 20}, "start": "2024-02-01", "end": "2024-06-30"},
    )
    run.instruments.set([reliance])
    runs.backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.result["summary"]["bars"] == 29 + 31 + 30 + 31 + 30  # Feb..Jun 2024, daily
    assert run.result["summary"]["start"].startswith("2024-02-01")


def test_a_run_without_bars_fails_with_a_readable_error(user: Any, reliance: Instrument) -> None:
    run = new_run(owner=user, timeframe="15m")
    run.instruments.set([reliance])
    runs.backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "No 15m bars for RELIANCE in this period."
    assert run.result is None


def test_a_run_with_too_few_bars_says_how_many_it_found(user: Any, reliance: Instrument) -> None:
    candles_insert(reliance, "1d", bars_synthetic(40))
    run = new_run(owner=user)
    run.instruments.set([reliance])
    runs.backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("Only 40 1d bars for RELIANCE")


def test_running_a_finished_run_again_does_nothing(user: Any, reliance: Instrument) -> None:
    run = new_run(owner=user, status=RunStatus.DONE, progress=100, result={"x": 1})
    assert runs.backtest_run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.result) == (RunStatus.DONE, {"x": 1})


def test_a_deleted_run_is_ignored_by_the_worker(user: Any) -> None:
    assert runs.backtest_run_execute(run_id=987654) is None


def test_the_task_runs_the_service(user: Any, reliance: Instrument) -> None:
    from apps.signals.tasks.backtests import backtest_run

    candles_insert(reliance, "1d", bars_synthetic(120))
    run = new_run(owner=user)
    run.instruments.set([reliance])
    assert backtest_run.apply(args=(run.pk,)).get() == "done"


def test_jsonable_turns_numpy_and_non_finite_values_into_json() -> None:
    value = {"a": np.float64(1.5), "b": float("nan"), "c": [np.int64(2), float("inf")]}
    assert runs.jsonable(value) == {"a": 1.5, "b": None, "c": [2, None]}


# --- sharing ----------------------------------------------------------------------------------


def test_turning_the_link_off_and_on_keeps_the_same_token(user: Any) -> None:
    run = new_run(owner=user)
    token = run.share_token
    runs.backtest_run_share_link(run=run, shared=True)
    assert runs.share_urls(run)["url"] == f"/signals/backtests/shared/{token}/"
    runs.backtest_run_share_link(run=run, shared=False)
    assert runs.share_urls(run) == {"url": None, "api_url": None}
    runs.backtest_run_share_link(run=run, shared=True)
    run.refresh_from_db()
    assert (run.shared, run.share_token) == (True, token)


def test_deleting_a_run_removes_it(user: Any) -> None:
    run = new_run(owner=user)
    runs.backtest_run_delete(run=run)
    assert not BacktestRun.objects.filter(pk=run.pk).exists()


def test_a_portfolio_run_breaks_its_trades_down_by_instrument(
    user: Any, reliance: Instrument, tcs: Instrument
) -> None:
    frames = {"RELIANCE": bars_synthetic(200, seed=21), "TCS": bars_synthetic(200, seed=22)}
    candles_insert(reliance, "1d", frames["RELIANCE"])
    candles_insert(tcs, "1d", frames["TCS"])
    run = new_run(
        owner=user,
        kind=RunKind.PORTFOLIO,
        request={"params": {"fast": 5, "slow": 20}, "config": {"stop_atr": None, "target_r": None}},
    )
    run.instruments.set([reliance, tcs])
    runs.backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    by_symbol = {row["symbol"]: row for row in run.result["instruments"]}
    for symbol, bars in frames.items():
        expected = _sma_trades_by_loop(bars["close"].to_numpy(), 5, 20)
        assert by_symbol[symbol]["trades"] == expected
        assert sum(t["symbol"] == symbol for t in run.result["trades"]) == expected
    assert run.result["skipped"] == []


def test_a_sweep_run_stores_every_combination_and_its_walk_forward_windows(
    user: Any, reliance: Instrument
) -> None:
    candles_insert(reliance, "1d", bars_synthetic(400, seed=5))
    run = new_run(
        owner=user,
        kind=RunKind.SWEEP,
        request={"grid": {"fast": [5, 10], "slow": [20, 40]}, "windows": 3, "in_sample": 0.6},
    )
    run.instruments.set([reliance])
    runs.backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    assert len(run.result["results"]) == 4
    assert len(run.result["walk_forward"]["windows"]) == 3
    assert run_summary(run.result) == run.result["walk_forward"]["summary"]
