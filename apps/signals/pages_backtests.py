"""Backtest pages: my runs, the "New backtest" form, a run's report and a shared report.

The views look up what the caller may see (someone else's run is a 404, like a missing id)
and embed the texts, strategies and API addresses; `frontend/js/backtest-*.js` post the
form to the REST API (`api_backtests.py`), follow a run's progress over the WebSocket
(`backtest.progress` / `backtest.done`) and draw the report.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.portfolios.serializers import instrument_from_symbol, symbol_text
from apps.rooms.selectors import room_membership_list
from apps.signals import run_selectors, runs
from apps.signals.backtest.config import BacktestConfig, Charges
from apps.signals.models import BacktestRun, RunKind, RunStatus
from apps.signals.run_serializers import (
    DIRECTIONS,
    SIZINGS,
    TIMEFRAMES,
    UNIVERSES,
    BacktestRunDetailSerializer,
    BacktestRunOutputSerializer,
)
from apps.signals.strategies import STRATEGIES

ZERO = "/0/"

# The summary metrics, in the order the report shows them (texts: `_metric_strings`).
METRICS = (
    "net_return",
    "cagr",
    "buy_and_hold_return",
    "net_profit",
    "max_drawdown",
    "max_drawdown_duration_days",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "exposure",
    "trades",
    "win_rate",
    "avg_win",
    "avg_loss",
    "best_trade",
    "worst_trade",
    "profit_factor",
    "expectancy",
    "avg_r",
    "avg_duration_days",
    "max_duration_days",
    "charges_total",
)


def _metric_strings() -> dict[str, str]:
    # Spelled out once per metric so makemessages finds each text.
    labels = {
        "net_return": (_("Net return"), _("Final equity over initial capital, minus one.")),
        "cagr": (_("CAGR"), _("Compound annual growth rate of the equity over the period.")),
        "buy_and_hold_return": (
            _("Buy and hold"),
            _("Return of holding the instrument(s) throughout."),
        ),
        "net_profit": (_("Net profit"), _("Final equity minus initial capital, after charges.")),
        "max_drawdown": (_("Max drawdown"), _("Largest fall of the equity from a previous peak.")),
        "max_drawdown_duration_days": (
            _("Longest drawdown"),
            _("Calendar days from a peak to recovery."),
        ),
        "volatility": (_("Volatility"), _("Annualised standard deviation of bar returns.")),
        "sharpe": (_("Sharpe ratio"), _("Annualised mean bar return over its standard deviation.")),
        "sortino": (_("Sortino ratio"), _("Like Sharpe, counting only downside deviation.")),
        "calmar": (_("Calmar ratio"), _("CAGR over the maximum drawdown.")),
        "exposure": (_("Exposure"), _("Share of bars with a position open.")),
        "trades": (_("Trades"), _("Closed trades.")),
        "win_rate": (_("Win rate"), _("Share of trades that made money after charges.")),
        "avg_win": (_("Average win"), _("Mean profit of winning trades.")),
        "avg_loss": (_("Average loss"), _("Mean loss of losing trades.")),
        "best_trade": (_("Best trade"), _("Largest profit of one trade, after charges.")),
        "worst_trade": (_("Worst trade"), _("Largest loss of one trade, after charges.")),
        "profit_factor": (_("Profit factor"), _("Gross profit over gross loss.")),
        "expectancy": (_("Expectancy"), _("Mean profit per trade.")),
        "avg_r": (_("Average R"), _("Mean trade result in multiples of its initial risk.")),
        "avg_duration_days": (_("Average duration"), _("Mean calendar days a trade was held.")),
        "max_duration_days": (_("Longest trade"), _("Most calendar days a trade was held.")),
        "charges_total": (
            _("Charges"),
            _("Brokerage, STT, exchange, SEBI, GST and stamp duty paid."),
        ),
    }
    out: dict[str, str] = {}
    for key, (label, definition) in labels.items():
        out[f"metric_{key}"] = label
        out[f"define_{key}"] = definition
    return out


def _strings() -> dict[str, str]:
    statuses = {f"status_{value}": str(label) for value, label in RunStatus.choices}
    kinds = {f"kind_{value}": str(label) for value, label in RunKind.choices}
    return {
        **statuses,
        **kinds,
        **_metric_strings(),
        "networkError": _("Could not reach StockSense. Check your connection and try again."),
        "genericError": _("Something went wrong. Please try again."),
        "invalidFields": _("Please correct the fields marked below."),
        "none": "—",
        "noMatches": _("No instruments match."),
        "remove": _("Remove"),
        "removeSymbol": _("Remove {symbol}"),
        "defaultBounds": _("Default {default}; {min} to {max}."),
        "gridHelp": _("Values to try, separated by commas (e.g. 10, 20, 30). {min} to {max}."),
        "combos": _("{n} combinations (at most {max})."),
        # xgettext:no-python-format
        "progress": _("{progress}% done"),
        "queued": _("Waiting for a worker…"),
        "running": _("Running… {progress}%"),
        "failed": _("The backtest failed: {error}"),
        "confirmDelete": _("Delete this backtest and its report? This cannot be undone."),
        "deleted": _("Backtest deleted."),
        "equitySeries": _("Equity"),
        "drawdownSeries": _("Drawdown"),
        "equityLabel": _("Equity curve, in Indian rupees"),
        "drawdownLabel": _("Drawdown from the previous peak, in percent"),
        "tradesCapped": _("Showing the first {shown} of {total} trades."),
        "noTrades": _("No trades in this period."),
        "linkOn": _("Anyone with this link can see the report (not your other backtests)."),
        "linkOff": _("Link sharing is off."),
        "copied": _("Link copied."),
        "copyFailed": _("Could not copy: select the link and copy it yourself."),
        "sharedToRoom": _("Shared to {room}."),
        "chooseRoom": _("Choose a room first."),
        "long": _("Long"),
        "short": _("Short"),
        "skipped": _("Left out for too little history: {symbols}"),
        "bestCombo": _("Best in-sample"),
        "outOfSample": _("Out-of-sample (stitched walk-forward windows)"),
        "colParams": _("Parameters"),
        "colWindow": _("Window"),
        "colInSample": _("In-sample"),
        "colOutSample": _("Out-of-sample"),
        "colInMetric": _("In-sample {metric}"),
        "colOutMetric": _("Out-of-sample {metric}"),
        "colOutReturn": _("Out-of-sample return"),
        "window": _("Window {n}"),
    }


def _urls() -> dict[str, str]:
    return {
        "backtests": reverse("api-backtests"),
        "backtest": reverse("api-backtest", args=[0]).replace(ZERO, "/{id}/"),
        "share": reverse("api-backtest-share", args=[0]).replace(ZERO, "/{id}/"),
        "page": reverse("signals:backtest_detail", args=[0]).replace(ZERO, "/{id}/"),
        "list": reverse("signals:backtest_list"),
        "instruments": reverse("api-instruments"),
        "roomMessages": reverse("api-room-messages", args=[0]).replace(ZERO, "/{id}/"),
    }


def _strategies() -> list[dict[str, Any]]:
    return [
        {
            "key": strategy.key,
            "name": str(strategy.name),
            "description": str(strategy.description),
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "minimum": p.minimum,
                    "maximum": p.maximum,
                    "integer": p.integer,
                }
                for p in strategy.params
            ],
        }
        for strategy in STRATEGIES.values()
    ]


def _rooms(user: User) -> list[dict[str, Any]]:
    return [{"id": m.room_id, "name": m.room.name} for m in room_membership_list(user=user)[:100]]


@login_required
def backtest_list_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rows = list(run_selectors.backtest_run_summary_list(owner=user)[:100])
    data = {
        "runs": BacktestRunOutputSerializer(rows, many=True).data,
        "strings": _strings(),
        "urls": _urls(),
    }
    return render(request, "backtests/list.html", {"data": data, "runs": rows})


@login_required
def backtest_new_page(request: HttpRequest) -> HttpResponse:
    strategy = request.GET.get("strategy", "")
    symbol = request.GET.get("symbol", "")
    instrument = instrument_from_symbol(symbol) if symbol and len(symbol) <= 50 else None
    defaults = BacktestConfig()
    data = {
        "strategies": _strategies(),
        "initial": {
            "strategy": strategy if strategy in STRATEGIES else "sma_crossover",
            "symbols": [symbol_text(instrument)] if instrument else [],
        },
        "strings": _strings(),
        "urls": _urls(),
    }
    return render(
        request,
        "backtests/new.html",
        {
            "data": data,
            "strategies": data["strategies"],
            "initial": data["initial"],
            "kinds": RunKind.choices,
            "timeframes": TIMEFRAMES,
            "universes": UNIVERSES,
            "directions": DIRECTIONS,
            "sizings": SIZINGS,
            "config": defaults,
            "charges": Charges(),
        },
    )


def _report_page(request: HttpRequest, run: BacktestRun, *, owner_view: bool) -> HttpResponse:
    urls = _urls()
    share = runs.share_urls(run)
    data = {
        "run": BacktestRunDetailSerializer(run).data,
        "owner": owner_view,
        "shareUrl": request.build_absolute_uri(share["url"]) if share["url"] else None,
        "rooms": _rooms(request.user) if owner_view else [],  # type: ignore[arg-type]
        "metrics": METRICS,
        "strings": _strings(),
        "urls": urls if owner_view else {},
    }
    return render(
        request,
        "backtests/report.html",
        {"data": data, "run": run, "owner_view": owner_view},
    )


@login_required
def backtest_detail_page(request: HttpRequest, run_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    run = run_selectors.backtest_run_get(owner=user, run_id=run_id)
    if run is None:
        raise Http404(_("No such backtest."))
    return _report_page(request, run, owner_view=True)


def backtest_shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """The report, read-only, for anyone with the link while sharing is on."""
    run = run_selectors.backtest_run_get_shared(token=token)
    if run is None:
        raise Http404(_("No such backtest."))
    return _report_page(request, run, owner_view=False)


urlpatterns = [
    path("", backtest_list_page, name="backtest_list"),
    path("new/", backtest_new_page, name="backtest_new"),
    path("<int:run_id>/", backtest_detail_page, name="backtest_detail"),
    path("shared/<str:token>/", backtest_shared_page, name="backtest_shared"),
]
