"""Sharing a backtest report into a room: owner only, finished runs only, a frozen card with
the headline metrics and the report's link, which sharing turns on."""

from __future__ import annotations

from typing import Any

import pytest

from apps.rooms.models import Room
from apps.signals.models import RunKind, RunStatus
from apps.signals.tests.factories import BacktestRunFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def new_run(**fields: Any) -> Any:
    """A saved run (factories are typed as themselves, not as the model they build)."""
    return BacktestRunFactory(**fields)


SUMMARY = {
    "start": "2024-01-01T03:45:00+00:00",
    "end": "2024-12-31T03:45:00+00:00",
    "net_return": 0.184,
    "cagr": 0.179,
    "sharpe": 1.21,
    "max_drawdown": 0.092,
    "trades": 14,
    "win_rate": 0.5,
    "sortino": 1.8,
}


def _run(owner: Any, instruments: Any, **fields: Any) -> Any:
    done = {
        "status": RunStatus.DONE,
        "progress": 100,
        "result": {"summary": SUMMARY, "equity": [], "drawdown": [], "trades": []},
    }
    run = new_run(owner=owner, name="Trend on TCS", **{**done, **fields})
    run.instruments.set([instruments["NSE:TCS"]])
    return run


def _share(room: Room, user: Any, run_id: Any) -> Any:
    return client_for(user).post(
        f"/api/v1/rooms/{room.pk}/messages/",
        {"body": "", "share": {"type": "backtest", "backtest_id": run_id}},
    )


def test_a_members_backtest_becomes_a_frozen_card_and_its_link_is_turned_on(
    room: Room, member: Any, instruments: Any
) -> None:
    run = _run(member, instruments)
    response = _share(room, member, run.pk)
    assert response.status_code == 201, response.content
    assert response.json()["share"] == {
        "type": "backtest",
        "backtest_id": run.pk,
        "name": "Trend on TCS",
        "kind": RunKind.SINGLE,
        "strategy": "sma_crossover",
        "strategy_name": "SMA crossover",
        "params": {"fast": 20, "slow": 50},
        "grid": {},
        "instruments": ["TCS"],
        "timeframe": "1d",
        "start": SUMMARY["start"],
        "end": SUMMARY["end"],
        "metrics": {
            "net_return": 0.184,
            "cagr": 0.179,
            "sharpe": 1.21,
            "max_drawdown": 0.092,
            "trades": 14,
            "win_rate": 0.5,
        },
        "url": f"/signals/backtests/shared/{run.share_token}/",
    }
    run.refresh_from_db()
    assert run.shared
    assert (
        client_for(member).get(f"/signals/backtests/shared/{run.share_token}/").status_code == 200
    )


def test_only_the_runs_owner_may_share_it(
    room: Room, member: Any, owner: Any, instruments: Any
) -> None:
    run = _run(owner, instruments)
    response = _share(room, member, run.pk)
    assert response.status_code == 400
    assert "share.backtest_id" in response.json()["error"]["fields"]
    run.refresh_from_db()
    assert not run.shared


def test_an_unfinished_backtest_cannot_be_shared(room: Room, member: Any, instruments: Any) -> None:
    run = _run(member, instruments, status=RunStatus.RUNNING, result=None)
    response = _share(room, member, run.pk)
    assert response.status_code == 400
    assert "share.backtest_id" in response.json()["error"]["fields"]


def test_a_backtest_share_needs_an_integer_id(room: Room, member: Any) -> None:
    response = _share(room, member, "seven")
    assert response.status_code == 400
    assert "share.backtest_id" in response.json()["error"]["fields"]
