"""A backtest from the form to its report, run by a real Celery worker, then opened by a
signed-out visitor through its share link."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.market.models import Instrument
from apps.signals.models import BacktestRun, RunStatus
from apps.signals.tests.conftest import bars_synthetic, candles_insert
from tests.browser.helpers import as_server, sign_in, verified_user
from tests.workers import celery_worker

PASSWORD = "long-enough-passphrase-42"

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_backtest_runs_from_the_form_and_its_shared_report_opens_signed_out(
    live_server: Any,
    ws_server: str,
    market_seed: Any,
    page: Page,
    second_page: Page,
    tmp_path: Any,
    screenshot: Any,
) -> None:
    base = live_server.url
    reliance = Instrument.objects.get(exchange__code="NSE", symbol="RELIANCE")
    candles_insert(reliance, "1d", bars_synthetic(300, seed=11))
    owner = verified_user("kavya.menon@example.in", PASSWORD, display_name="Kavya")
    sign_in(page, base, owner.email, PASSWORD)

    with celery_worker(tmp_path / "worker.log", "backtests"):
        page.get_by_role("navigation").get_by_role("link", name="Backtests").click()
        page.wait_for_url(f"{base}/signals/backtests/")
        page.get_by_role("link", name="New backtest").click()
        form = page.locator("[data-backtest-form]")
        # Module scripts run after parsing: type only once the form's listeners are on.
        expect(page.locator("[data-backtest-form-page]")).to_have_attribute("data-ready", "true")
        expect(form.get_by_label("Strategy")).to_have_value("sma_crossover")
        form.locator("[data-symbol-input]").fill("RELI")
        form.get_by_role("option", name=re.compile("RELIANCE")).click()
        expect(form.locator('[data-symbols] [data-symbol="RELIANCE"]')).to_be_visible()
        form.locator('input[name="params.fast"]').fill("10")
        form.locator('input[name="params.slow"]').fill("30")
        form.get_by_label("Name (optional)").fill("SMA 10/30 on Reliance")
        form.get_by_role("button", name="Run backtest").click()
        page.wait_for_url(re.compile(rf"{re.escape(base)}/signals/backtests/\d+/$"))

        report = page.locator("[data-report]")
        expect(report).to_be_visible(timeout=60_000)

    run = BacktestRun.objects.get(owner=owner)
    assert run.status == RunStatus.DONE, run.error
    assert run.result is not None
    assert run.request["params"] == {"fast": 10, "slow": 30}
    trades = run.result["summary"]["trades"]
    assert trades > 0
    canvas = page.locator("[data-equity-chart] canvas").first
    expect(canvas).to_be_visible()
    width = canvas.evaluate("(c) => c.width")
    assert width > 0
    expect(page.locator('[data-metric="net_return"] dt')).to_have_text("Net return")
    expect(page.locator('[data-metric="trades"] .bt-metric-value')).to_have_text(str(trades))
    expect(page.locator("[data-trades-body] tr")).to_have_count(len(run.result["trades"]))
    screenshot(page, "backtest-report")

    page.get_by_label("Anyone with the link can view this report").check()
    link = page.locator("[data-share-url]")
    expect(link).to_have_value(re.compile(r"/signals/backtests/shared/[\w-]+/$"))
    shared_url = link.input_value()

    second_page.goto(shared_url)
    expect(second_page.get_by_text("Shared backtest report (read-only)")).to_be_visible()
    expect(second_page.locator("[data-report]")).to_be_visible()
    expect(second_page.locator("[data-trades-body] tr")).to_have_count(len(run.result["trades"]))
    expect(second_page.locator("[data-equity-chart] canvas").first).to_be_visible()
    expect(second_page.locator("[data-share-box]")).to_have_count(0)
    expect(second_page.get_by_role("link", name="Sign in")).to_be_visible()


def test_a_sweep_report_shows_its_combinations_windows_and_out_of_sample_trades(
    live_server: Any, ws_server: str, market_seed: Any, page: Page
) -> None:
    from apps.signals.runs import backtest_run_execute

    base = live_server.url
    reliance = Instrument.objects.get(exchange__code="NSE", symbol="RELIANCE")
    candles_insert(reliance, "1d", bars_synthetic(600, seed=5))
    owner = verified_user("arjun.rao@example.in", PASSWORD, display_name="Arjun")
    run = BacktestRun.objects.create(
        owner=owner,
        kind="sweep",
        strategy="sma_crossover",
        timeframe="1d",
        request={
            "grid": {"fast": [5, 10], "slow": [20, 40]},
            "windows": 3,
            "in_sample": 0.7,
            "config": {"stop_atr": None, "target_r": None},
        },
    )
    run.instruments.set([reliance])
    as_server(backtest_run_execute, run_id=run.pk)  # it publishes: off the browser's loop
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    assert run.result is not None
    walk = run.result["walk_forward"]
    assert walk["trades"], "the synthetic walk should trade out-of-sample"

    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/signals/backtests/{run.pk}/")
    combos = page.locator("[data-sweep] tbody tr")
    expect(combos).to_have_count(4)
    best = run.result["results"][0]["params"]
    expect(combos.first.locator("th")).to_have_text(f"fast {best['fast']}, slow {best['slow']}")
    windows = page.locator("[data-windows] tbody tr")
    expect(windows).to_have_count(len(walk["windows"]))
    first = walk["windows"][0]["params"]
    expect(windows.first.locator("td").nth(1)).to_have_text(
        f"fast {first['fast']}, slow {first['slow']}"
    )
    expect(page.locator("[data-windows] thead")).to_contain_text("In-sample Sharpe ratio")
    expect(page.locator("[data-trades-body] tr")).to_have_count(len(walk["trades"]))
    expect(page.locator("[data-summary-title]")).to_have_text(
        "Out-of-sample (stitched walk-forward windows)"
    )


def test_a_report_shared_to_a_room_shows_as_a_card_that_opens_the_report(
    live_server: Any, ws_server: str, market_seed: Any, page: Page, second_page: Page
) -> None:
    from apps.rooms import services as room_services
    from apps.rooms.models import Visibility
    from apps.signals.runs import backtest_run_execute

    base = live_server.url
    reliance = Instrument.objects.get(exchange__code="NSE", symbol="RELIANCE")
    candles_insert(reliance, "1d", bars_synthetic(300, seed=11))
    owner = verified_user("kavya.menon@example.in", PASSWORD, display_name="Kavya")
    member = verified_user("dev.shah@example.in", PASSWORD, display_name="Dev")
    room = as_server(
        room_services.room_create,
        by=owner, name="Swing traders", description="", visibility=Visibility.DISCOVERABLE,
    )  # fmt: skip
    as_server(room_services.room_join, room_id=room.pk, by=member)
    run = BacktestRun.objects.create(
        owner=owner,
        name="SMA 10/30 on Reliance",
        kind="single",
        strategy="sma_crossover",
        timeframe="1d",
        request={"params": {"fast": 10, "slow": 30}, "config": {}},
    )
    run.instruments.set([reliance])
    as_server(backtest_run_execute, run_id=run.pk)  # it publishes: off the browser's loop

    sign_in(page, base, owner.email, PASSWORD)
    page.goto(f"{base}/signals/backtests/{run.pk}/")
    page.get_by_label("Share to a room").select_option(label="Swing traders")
    page.get_by_role("button", name="Share to room").click()
    expect(page.locator("[data-share-status]")).to_contain_text("Swing traders")
    expect(page.locator("[data-share-url]")).to_have_value(re.compile(r"/shared/[\w-]+/$"))

    sign_in(second_page, base, member.email, PASSWORD)
    second_page.goto(f"{base}/rooms/{room.pk}/")
    card = second_page.locator('[data-messages] [data-share="backtest"]')
    expect(card).to_contain_text("Backtest: SMA 10/30 on Reliance")
    expect(card).to_contain_text("Net return")
    expect(card).to_contain_text("RELIANCE · 1d")
    card.get_by_role("link", name="Open the report").click()
    second_page.wait_for_url(re.compile(r"/signals/backtests/shared/[\w-]+/$"))
    expect(second_page.locator("[data-report]")).to_be_visible()
    expect(second_page.locator("[data-share-box]")).to_have_count(0)
