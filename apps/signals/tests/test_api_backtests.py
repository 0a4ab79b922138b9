"""The backtests REST API: owner / other user / anonymous on every endpoint, shapes, errors."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.signals.models import BacktestRun, RunStatus
from apps.signals.tests.factories import BacktestRunFactory

pytestmark = pytest.mark.django_db


def new_run(**fields: Any) -> Any:
    """A saved run (factories are typed as themselves, not as the model they build)."""
    return BacktestRunFactory(**fields)


REPORT = {
    "summary": {"net_return": 0.12, "sharpe": 1.1, "trades": 3},
    "equity": [[1700000000, 1000000.0]],
    "drawdown": [[1700000000, 0.0]],
    "trades": [],
}


@pytest.fixture
def run(user: Any, reliance: Instrument) -> BacktestRun:
    made = new_run(owner=user, status=RunStatus.DONE, progress=100, result=REPORT)
    made.instruments.set([reliance])
    return made


@pytest.fixture
def other_client(other_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture(autouse=True)
def _no_worker(monkeypatch: Any) -> None:
    from apps.signals.tasks import backtests

    monkeypatch.setattr(backtests.backtest_run, "delay", lambda run_id: None)


def test_the_owner_lists_their_runs_with_headline_figures_but_no_report(
    auth_client: APIClient, run: BacktestRun, other_user: Any
) -> None:
    new_run(owner=other_user)
    response = auth_client.get("/api/v1/backtests/")
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["results"]] == [run.pk]
    row = body["results"][0]
    assert row["summary"] == REPORT["summary"]
    assert row["instruments"] == ["RELIANCE"]
    assert "result" not in row


def test_anonymous_cannot_list_or_create(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/backtests/").status_code in (401, 403)
    assert api_client.post("/api/v1/backtests/", {}, format="json").status_code in (401, 403)


def test_a_valid_post_creates_a_queued_run(auth_client: APIClient, reliance: Instrument) -> None:
    response = auth_client.post(
        "/api/v1/backtests/",
        {
            "kind": "single",
            "strategy": "ema_crossover",
            "params": {"fast": 9, "slow": 21},
            "instruments": ["NSE:RELIANCE"],
            "timeframe": "1d",
            "config": {"sizing": "risk", "risk_percent": 0.5, "initial_capital": "500000"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["progress"], body["strategy"]) == ("queued", 0, "ema_crossover")
    assert body["request"]["config"]["initial_capital"] == "500000.00"


def test_invalid_fields_answer_400_with_messages_per_field(
    auth_client: APIClient, reliance: Instrument
) -> None:
    response = auth_client.post(
        "/api/v1/backtests/",
        {
            "kind": "single",
            "strategy": "sma_crossover",
            "params": {"fast": -3},
            "instruments": ["RELIANCE"],
            "timeframe": "1d",
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["params.fast"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "nope"}, "kind"),
        ({"timeframe": "1w"}, "timeframe"),
        ({"strategy": "martingale"}, "strategy"),
        ({"config": {"slippage_bps": "lots"}}, "config.slippage_bps"),
        ({"params": "fast=5"}, "params"),
        ({"instruments": "RELIANCE"}, "instruments"),
    ],
)
def test_badly_typed_input_is_a_400_never_a_500(
    auth_client: APIClient, reliance: Instrument, body: dict[str, Any], field: str
) -> None:
    base = {"kind": "single", "strategy": "sma_crossover", "instruments": ["RELIANCE"]}
    response = auth_client.post(
        "/api/v1/backtests/", {"timeframe": "1d", **base, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_non_object_body_is_a_400(auth_client: APIClient) -> None:
    response = auth_client.post("/api/v1/backtests/", [1, 2], format="json")
    assert response.status_code == 400


def test_the_owner_reads_the_report_of_a_done_run(auth_client: APIClient, run: BacktestRun) -> None:
    response = auth_client.get(f"/api/v1/backtests/{run.pk}/")
    assert response.status_code == 200
    assert response.json()["result"] == REPORT


def test_another_user_gets_the_same_404_as_for_a_missing_run(
    other_client: APIClient, run: BacktestRun
) -> None:
    theirs = other_client.get(f"/api/v1/backtests/{run.pk}/")
    missing = other_client.get("/api/v1/backtests/999999/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert other_client.delete(f"/api/v1/backtests/{run.pk}/").status_code == 404
    share = other_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": True})
    assert share.status_code == 404
    run.refresh_from_db()
    assert not run.shared


def test_anonymous_cannot_read_delete_or_share_a_run(
    api_client: APIClient, run: BacktestRun
) -> None:
    assert api_client.get(f"/api/v1/backtests/{run.pk}/").status_code in (401, 403)
    assert api_client.delete(f"/api/v1/backtests/{run.pk}/").status_code in (401, 403)
    share = api_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": True})
    assert share.status_code in (401, 403)
    assert BacktestRun.objects.filter(pk=run.pk, shared=False).exists()


def test_the_owner_deletes_a_run(auth_client: APIClient, run: BacktestRun) -> None:
    assert auth_client.delete(f"/api/v1/backtests/{run.pk}/").status_code == 204
    assert not BacktestRun.objects.filter(pk=run.pk).exists()


def test_sharing_returns_the_link_that_then_works_without_sign_in(
    auth_client: APIClient, api_client: APIClient, run: BacktestRun
) -> None:
    response = auth_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": True})
    assert response.status_code == 200
    body = response.json()
    assert body["url"] == f"http://testserver/signals/backtests/shared/{run.share_token}/"
    public = api_client.get(f"/api/v1/backtests/shared/{run.share_token}/")
    assert public.status_code == 200
    assert public.json()["result"] == REPORT
    assert api_client.get(body["url"]).status_code == 200


def test_a_link_stops_working_once_sharing_is_off(
    auth_client: APIClient, api_client: APIClient, run: BacktestRun
) -> None:
    auth_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": True})
    response = auth_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": False})
    assert response.json() == {"shared": False, "url": None, "api_url": None}
    assert api_client.get(f"/api/v1/backtests/shared/{run.share_token}/").status_code == 404
    assert api_client.get(f"/signals/backtests/shared/{run.share_token}/").status_code == 404


def test_an_unshared_or_unknown_token_is_404(
    api_client: APIClient, other_client: APIClient, run: BacktestRun
) -> None:
    assert api_client.get(f"/api/v1/backtests/shared/{run.share_token}/").status_code == 404
    assert other_client.get(f"/api/v1/backtests/shared/{run.share_token}/").status_code == 404
    assert api_client.get("/api/v1/backtests/shared/nope/").status_code == 404


def test_share_needs_a_boolean(auth_client: APIClient, run: BacktestRun) -> None:
    response = auth_client.post(f"/api/v1/backtests/{run.pk}/share/", {"shared": "maybe"})
    assert response.status_code == 400
    assert "shared" in response.json()["error"]["fields"]


# --- pages ------------------------------------------------------------------------------------


def test_pages_are_for_the_owner_and_the_shared_page_for_anyone(
    client: Any, user: Any, other_user: Any, run: BacktestRun
) -> None:
    assert client.get("/signals/backtests/").status_code == 302  # to the sign-in page
    assert client.get(f"/signals/backtests/{run.pk}/").status_code == 302
    client.force_login(other_user)
    assert client.get(f"/signals/backtests/{run.pk}/").status_code == 404
    client.force_login(user)
    for path in ("/signals/backtests/", "/signals/backtests/new/", f"/signals/backtests/{run.pk}/"):
        assert client.get(path).status_code == 200, path
    run.shared = True
    run.save()
    client.logout()
    page = client.get(f"/signals/backtests/shared/{run.share_token}/")
    assert page.status_code == 200
    assert b"backtest-report-data" in page.content


def test_the_form_is_prefilled_from_the_query(client: Any, user: Any, reliance: Instrument) -> None:
    client.force_login(user)
    page = client.get("/signals/backtests/new/?strategy=rsi_reversion&symbol=reliance")
    data = page.context["data"]["initial"]
    assert data == {"strategy": "rsi_reversion", "symbols": ["RELIANCE"]}


def test_the_form_ignores_an_unknown_strategy_and_a_symbol_with_a_nul_byte(
    client: Any, user: Any, reliance: Instrument
) -> None:
    client.force_login(user)
    page = client.get("/signals/backtests/new/?strategy=nope&symbol=REL%00IANCE")
    assert page.status_code == 200
    assert page.context["data"]["initial"]["symbols"] == []
