"""Signals pages: the feed (`/signals/`), a signal's card, the strategies and one strategy.

Rendered on the server (they work without JavaScript); `frontend/js/signals-*.js` adds the
live feed, the card's chart with its levels, the instrument search and the follow buttons.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.market.models import Timeframe
from apps.signals import selectors
from apps.signals.models import Action, Signal
from apps.signals.serializers import SignalFilterSerializer, SignalOutputSerializer
from apps.signals.strategies import STRATEGIES
from apps.signals.templatetags.signals_extras import pct

FEED_PAGE = 30
RECENT_SIGNALS = 20
# Bars shown after an exit, so the card shows how the trade ended and a little beyond.
BARS_AFTER_EXIT = 20
_BAR = {
    "1m": timedelta(minutes=1),
    "3m": timedelta(minutes=3),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}


def confidence_text(signal: Signal) -> str:
    """ "58 % hit rate over 40 backtested trades", or "too little evidence"."""
    backtest = (signal.evidence or {}).get("backtest") or {}
    if signal.confidence is None or not backtest.get("trades"):
        return _("too little evidence")
    rate = backtest.get("hit_rate")
    if rate is None:
        rate = signal.confidence
    return _("%(rate)s %% hit rate over %(trades)d backtested trades") % {
        "rate": pct(rate),
        "trades": int(backtest["trades"]),
    }


def _card(signal: Signal) -> dict[str, Any]:
    return {
        "signal": signal,
        "confidence_text": confidence_text(signal),
        "strategy_name": _strategy_name(signal.strategy),
    }


def _strategy_name(key: str) -> str:
    strategy = STRATEGIES.get(key)
    return str(strategy.name) if strategy else key


def _strings() -> dict[str, Any]:
    return {
        "tooLittle": _("too little evidence"),
        # xgettext:no-python-format
        "hitRate": _("{rate} % hit rate over {trades} backtested trades"),
        "entry": _("Entry"),
        "target": _("Target"),
        "stop": _("Stop-loss"),
        "rr": _("R:R"),
        "newSignal": _("New signal: {action} {symbol}"),
        "noMatches": _("No matching instruments"),
        "follow": _("Follow"),
        "unfollow": _("Unfollow"),
        "followError": _("Something went wrong. Please try again."),
        "actions": {value: str(label) for value, label in Action.choices},
    }


def _urls() -> dict[str, str]:
    return {
        "follows": reverse("api-signal-follows"),
        "follow": reverse("api-signal-follow", args=[0]).replace("/0/", "/{id}/"),
        "instruments": reverse("api-instruments"),
        "signal": reverse("signals:signal_detail", args=[0]).replace("/0/", "/{id}/"),
    }


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    """Signals newest first, filtered by instrument, strategy, timeframe and action."""
    raw = {
        k: str(request.GET.get(k, "")).strip()
        for k in ("symbol", "strategy", "timeframe", "action")
    }
    raw = {k: v for k, v in raw.items() if v}
    filters = SignalFilterSerializer(data=raw)
    errors: dict[str, list[str]] = {}
    if filters.is_valid():
        signals = selectors.signal_list(**filters.validated_data)
    else:
        errors = {name: [str(m) for m in messages] for name, messages in filters.errors.items()}  # type: ignore[union-attr]
        signals = selectors.signal_list().none()
    page = Paginator(signals, FEED_PAGE).get_page(request.GET.get("page"))
    instrument = filters.validated_data.get("instrument") if not errors else None
    live_filter = {
        "symbol": f"{instrument.exchange.code}:{instrument.symbol}" if instrument else "",
        "strategy": raw.get("strategy", "") if not errors else "",
        "timeframe": raw.get("timeframe", "") if not errors else "",
        "action": raw.get("action", "") if not errors else "",
    }
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "signals/feed.html",
        {
            "cards": [_card(s) for s in page.object_list],
            "page": page,
            "query": query.urlencode(),
            "filters": raw,
            "errors": errors,
            "strategies": [(key, s.name) for key, s in STRATEGIES.items()],
            "timeframes": Timeframe.choices,
            "actions": Action.choices,
            "data": {
                "filter": live_filter,
                "strings": _strings(),
                "urls": _urls(),
                "live": not errors and page.number == 1,
            },
        },
    )


@login_required
def signal_detail(request: HttpRequest, signal_id: int) -> HttpResponse:
    """One signal: chart with its levels, explanation, evidence, outcome, follow buttons."""
    signal = selectors.signal_get(signal_id=signal_id)
    if signal is None:
        raise Http404
    user: User = request.user  # type: ignore[assignment]
    instrument = signal.instrument
    end = None
    if signal.resolved_at is not None:
        end = signal.resolved_at + BARS_AFTER_EXIT * _BAR.get(signal.timeframe, timedelta(days=1))
    evidence = signal.evidence or {}
    symbol = (
        instrument.symbol
        if instrument.exchange.code == "NSE"
        else f"{instrument.exchange.code}:{instrument.symbol}"
    )
    return render(
        request,
        "signals/signal.html",
        {
            **_card(signal),
            "instrument": instrument,
            "symbol": symbol,
            "backtest": evidence.get("backtest") or {},
            "live": evidence.get("live") or {},
            "record": selectors.signal_record(signal=signal),
            "chart_end": end,
            "strategy_follow": selectors.follow_find(user=user, strategy=signal.strategy),
            "instrument_follow": selectors.follow_find(user=user, instrument=instrument),
            "payload": SignalOutputSerializer(signal).data,
            "data": {"strings": _strings(), "urls": _urls()},
        },
    )


@login_required
def strategy_list(request: HttpRequest) -> HttpResponse:
    records = selectors.strategy_records()
    return render(
        request,
        "signals/strategies.html",
        {
            "strategies": [
                {"strategy": s, "records": records.get(key, [])} for key, s in STRATEGIES.items()
            ],
            "data": {"strings": _strings(), "urls": _urls()},
        },
    )


@login_required
def strategy_detail(request: HttpRequest, key: str) -> HttpResponse:
    strategy = STRATEGIES.get(key)
    if strategy is None:
        raise Http404
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "signals/strategy.html",
        {
            "strategy": strategy,
            "records": selectors.strategy_records(strategy=key).get(key, []),
            "instruments": selectors.strategy_instrument_records(strategy=key),
            "cards": [_card(s) for s in selectors.signal_list(strategy=key)[:RECENT_SIGNALS]],
            "strategy_follow": selectors.follow_find(user=user, strategy=key),
            "data": {"strings": _strings(), "urls": _urls()},
        },
    )


urlpatterns = [
    path("", feed, name="feed"),
    path("<int:signal_id>/", signal_detail, name="signal_detail"),
    path("strategies/", strategy_list, name="strategy_list"),
    path("strategies/<str:key>/", strategy_detail, name="strategy_detail"),
]
