"""Rich shares: what a message card carries, validated and frozen when it is posted.

A share is a copy, not a reference: editing or deleting the original later does not change
the room's history, and the copy holds only what the author chose to show.

- chart: `{"type": "chart", "symbol", "timeframe", "drawings": [...]}` — a known instrument
  and timeframe; drawings as apps/charts stores them (`kind`, `points`, `color`).
- alert: `{"type": "alert", "alert_id"}` — one of the author's alert rules: its name,
  instrument or watchlist, conditions and trigger (not its channels, message or status);
  members can copy it to their own alerts.
- portfolio: `{"type": "portfolio", "portfolio_id", "fields": [...]}` — one of the author's
  portfolios: the allocation weights by instrument and by sector, plus only the `fields`
  chosen among PORTFOLIO_FIELDS. No quantities, prices, amounts or transactions.
- watchlist: `{"type": "watchlist", "watchlist_id"}` — a watchlist the author can see: its
  name and instruments (not its notes or members).
- backtest: `{"type": "backtest", "backtest_id"}` — one of the author's finished backtest
  runs: its name, strategy, params (or grid), instruments, timeframe, period and headline
  metrics, with the link to its shared report. Sharing it turns the run's link sharing on.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.alerts.selectors import alert_get
from apps.charts.serializers import DrawingInputSerializer
from apps.market.models import Instrument, Timeframe
from apps.market.selectors import instrument_get
from apps.portfolios.selectors import portfolio_get, portfolio_summary
from apps.rooms.models import ShareKind
from apps.signals.models import RunStatus
from apps.signals.run_selectors import backtest_run_get
from apps.signals.runs import backtest_run_card, backtest_run_share_link
from apps.watchlists.selectors import watchlist_get_for_user, watchlist_item_list

MAX_SHARED_DRAWINGS = 50
# What a portfolio's owner may add to its allocation (values as in the portfolio summary).
PORTFOLIO_FIELDS = (
    "name",
    "total_value",
    "invested",
    "profit_loss",
    "profit_loss_percent",
    "unrealised_pl_percent",
    "day_change_percent",
)


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({f"share.{field}" if field else "share": [message]})


def _positive_int(share: dict[str, Any], field: str) -> int:
    value = share.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise _error(field, _("Give the id (a positive integer)."))
    return value


def _key(instrument: Instrument) -> str:
    return f"{instrument.exchange.code}:{instrument.symbol}"


def _instrument(value: Any) -> Instrument:
    symbol = value.strip().upper() if isinstance(value, str) else ""
    exchange, _sep, code = symbol.rpartition(":")
    found = instrument_get(symbol=code, exchange=exchange or "NSE") if code else None
    if found is None:
        raise _error("symbol", _("No active instrument “%(s)s”.") % {"s": str(value)[:40]})
    return found


def _chart(share: dict[str, Any]) -> dict[str, Any]:
    instrument = _instrument(share.get("symbol"))
    timeframe = share.get("timeframe")
    if timeframe not in Timeframe.values:
        raise _error("timeframe", _("Choose one of %(tf)s.") % {"tf": ", ".join(Timeframe.values)})
    drawings = share.get("drawings", [])
    if not isinstance(drawings, list):
        raise _error("drawings", _("Give a list of drawings."))
    if len(drawings) > MAX_SHARED_DRAWINGS:
        raise _error("drawings", _("At most %(n)d drawings.") % {"n": MAX_SHARED_DRAWINGS})
    clean = []
    for index, drawing in enumerate(drawings):
        serializer = DrawingInputSerializer(data=drawing if isinstance(drawing, dict) else {})
        if not serializer.is_valid():
            first = next(iter(serializer.errors.items()))
            raise _error(f"drawings.{index}.{first[0]}", str(first[1][0]))
        data = serializer.validated_data
        clean.append({"kind": data["kind"], "points": data["points"], "color": data["color"]})
    return {
        "type": ShareKind.CHART.value,
        "symbol": _key(instrument),
        "name": instrument.name,
        "timeframe": timeframe,
        "drawings": clean,
    }


def _alert(share: dict[str, Any], author: User) -> dict[str, Any]:
    rule = alert_get(user=author, rule_id=_positive_int(share, "alert_id"))
    if rule is None:
        raise _error("alert_id", _("Share one of your own alerts."))
    return {
        "type": ShareKind.ALERT.value,
        "alert_id": rule.pk,
        "name": rule.name,
        "symbol": _key(rule.instrument) if rule.instrument else None,
        "watchlist": {"id": rule.watchlist.pk, "name": rule.watchlist.name}
        if rule.watchlist
        else None,
        "conditions": rule.conditions,
        "combine": rule.combine,
        "trigger_mode": rule.trigger_mode,
        "bar_timeframe": rule.bar_timeframe,
        "cooldown_seconds": rule.cooldown_seconds,
    }


def _portfolio(share: dict[str, Any], author: User) -> dict[str, Any]:
    portfolio = portfolio_get(owner=author, portfolio_id=_positive_int(share, "portfolio_id"))
    if portfolio is None:
        raise _error("portfolio_id", _("Share one of your own portfolios."))
    fields = share.get("fields", [])
    if not isinstance(fields, list) or any(f not in PORTFOLIO_FIELDS for f in fields):
        raise _error("fields", _("Choose among %(f)s.") % {"f": ", ".join(PORTFOLIO_FIELDS)})
    summary = portfolio_summary(portfolio=portfolio)
    totals = summary["totals"]
    shown: dict[str, Any] = {}
    for name in dict.fromkeys(fields):
        shown[name] = portfolio.name if name == "name" else totals.get(name)
    allocation = {
        kind: [
            {"key": item["key"], "label": item["label"], "weight": item["weight"]}
            for item in summary["allocation"].get(kind, [])
        ]
        for kind in ("instrument", "sector")
    }
    return {"type": ShareKind.PORTFOLIO.value, "allocation": allocation, "fields": shown}


def _watchlist(share: dict[str, Any], author: User) -> dict[str, Any]:
    found = watchlist_get_for_user(user=author, watchlist_id=_positive_int(share, "watchlist_id"))
    if found is None:
        raise _error("watchlist_id", _("Share a watchlist you can see."))
    watchlist = found[0]
    return {
        "type": ShareKind.WATCHLIST.value,
        "watchlist_id": watchlist.pk,
        "name": watchlist.name,
        "items": [
            {"symbol": _key(item.instrument), "name": item.instrument.name}
            for item in watchlist_item_list(watchlist=watchlist)
        ],
    }


def _backtest(share: dict[str, Any], author: User) -> dict[str, Any]:
    run = backtest_run_get(owner=author, run_id=_positive_int(share, "backtest_id"))
    if run is None:
        raise _error("backtest_id", _("Share one of your own backtests."))
    if run.status != RunStatus.DONE:
        raise _error("backtest_id", _("Share a backtest once it has finished."))
    # Room members reach the report through its link, so posting it turns the link on.
    backtest_run_share_link(run=run, shared=True)
    return {"type": ShareKind.BACKTEST.value, **backtest_run_card(run=run)}


def share_freeze(*, share: Any, author: User) -> dict[str, Any]:
    """The frozen card for `share` as posted by `author`, or ValidationError keyed
    `share` / `share.<field>`."""
    if not isinstance(share, dict) or share.get("type") not in ShareKind.values:
        raise _error("", _("A share needs a type: %(t)s.") % {"t": ", ".join(ShareKind.values)})
    kind = share["type"]
    if kind == ShareKind.CHART:
        return _chart(share)
    if kind == ShareKind.ALERT:
        return _alert(share, author)
    if kind == ShareKind.PORTFOLIO:
        return _portfolio(share, author)
    if kind == ShareKind.BACKTEST:
        return _backtest(share, author)
    return _watchlist(share, author)


def share_title(share: dict[str, Any]) -> str:
    """A one-line description for the activity feed."""
    kind = share.get("type")
    if kind == ShareKind.CHART:
        return f"{share['symbol']} {share['timeframe']}"
    if kind == ShareKind.ALERT:
        return str(share.get("name") or "")
    if kind == ShareKind.PORTFOLIO:
        return str(share.get("fields", {}).get("name") or _("portfolio allocation"))
    if kind == ShareKind.BACKTEST:
        return str(share.get("name") or share.get("strategy_name") or _("backtest"))
    return str(share.get("name") or "")
