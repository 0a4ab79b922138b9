"""Portfolio pages: the list, one portfolio, and its tax estimate.

The views only look up what the caller owns (anything else is a 404, like a missing id) and
embed the texts and API addresses; `frontend/js/portfolio*.js` fetch the figures from the
REST API (`apps/portfolios/api.py`), write through it and keep the page live over the
WebSocket (`portfolio.update`, `portfolio.changed`: docs/websocket.md).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.market import selectors as market_selectors
from apps.market.models import InstrumentKind
from apps.portfolios import selectors
from apps.portfolios.models import Portfolio, TransactionKind
from apps.portfolios.serializers import PortfolioOutputSerializer, symbol_text
from apps.portfolios.tax import CAVEAT

ZERO_ID = "/0/"


def _owned(*, user: User, portfolio_id: int) -> Portfolio:
    """The API's owner-only lookup: someone else's portfolio is as missing as a deleted one."""
    portfolio = selectors.portfolio_get(owner=user, portfolio_id=portfolio_id)
    if portfolio is None:
        raise Http404(_("No such portfolio."))
    return portfolio


def _api_urls() -> dict[str, str]:
    """The REST addresses the scripts call; `{id}` / `{tx}` are filled in by them."""
    one = reverse("api-portfolio", args=[0])
    return {
        "portfolios": reverse("api-portfolios"),
        "portfolio": one.replace(ZERO_ID, "/{id}/"),
        "summary": reverse("api-portfolio-summary", args=[0]).replace(ZERO_ID, "/{id}/"),
        "transactions": reverse("api-portfolio-transactions", args=[0]).replace(ZERO_ID, "/{id}/"),
        "transaction": reverse("api-portfolio-transaction", args=[0, 0]).replace(
            "/0/transactions/0/", "/{id}/transactions/{tx}/"
        ),
        "import": reverse("api-portfolio-import", args=[0]).replace(ZERO_ID, "/{id}/"),
        "export": reverse("api-portfolio-export", args=[0]).replace(ZERO_ID, "/{id}/"),
        "performance": reverse("api-portfolio-performance", args=[0]).replace(ZERO_ID, "/{id}/"),
        "history": reverse("api-portfolio-history", args=[0]).replace(ZERO_ID, "/{id}/"),
        "tax": reverse("api-portfolio-tax", args=[0]).replace(ZERO_ID, "/{id}/"),
        "instruments": reverse("api-instruments"),
        "page": reverse("portfolio", args=[0]).replace(ZERO_ID, "/{id}/"),
        "instrument": reverse("instrument", args=["SYMBOL"]).replace("SYMBOL", "{symbol}"),
    }


def _common_strings() -> dict[str, str]:
    return {
        "networkError": _("Could not reach StockSense. Check your connection and try again."),
        "genericError": _("Something went wrong. Please try again."),
        "invalidFields": _("Please correct the fields marked below."),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "rename": _("Rename"),
        "delete": _("Delete"),
        "edit": _("Edit"),
        "none": "—",
        "up": _("up"),
        "down": _("down"),
        "unchanged": _("unchanged"),
    }


def _list_strings() -> dict[str, str]:
    return {
        **_common_strings(),
        "empty": _(
            "You have no portfolios yet. Create one below, then add your buys and sells by "
            "hand or import a Zerodha tradebook."
        ),
        "confirmDelete": _(
            "Delete the portfolio “{name}” and all its transactions? This cannot be undone."
        ),
        "deleted": _("Portfolio “{name}” deleted."),
        "renamed": _("Portfolio renamed to “{name}”."),
        "nameLabel": _("New name for “{name}”"),
        "value": _("Value"),
        "dayChange": _("Day change"),
        "profitLoss": _("Total P/L"),
    }


def _detail_strings() -> dict[str, str]:
    kinds = {f"kind_{value}": str(label) for value, label in TransactionKind.choices}
    return {
        **_common_strings(),
        **kinds,
        "unpriced": _("No price yet"),
        "asOf": _("Prices as of {time} IST"),
        "investedSeries": _("Net invested"),
        "chargesLabel": _("Charges"),
        "unrealisedLabel": _("Unrealised"),
        "realisedLabel": _("Realised"),
        "allocationLabel": _("Allocation by {mode}: {parts}"),
        "allocationEmpty": _("Nothing to allocate yet."),
        "byInstrument": _("instrument"),
        "bySector": _("sector"),
        "byMarketCap": _("market capitalisation"),
        "other": _("Other"),
        "noHistory": _(
            "No history yet: daily values are recorded after each market close, and "
            "rebuilt in the background after you change past transactions."
        ),
        "portfolioSeries": _("Portfolio value"),
        "benchmarkSeries": _("{name}, rebased to the portfolio's first value"),
        "chartLabel": _("Portfolio value and {name} over {range}"),
        "noMetrics": _("Not available yet"),
        "metric_volatility": _("Volatility (annualised)"),
        "metric_sharpe": _("Sharpe ratio"),
        "metric_sortino": _("Sortino ratio"),
        "metric_beta": _("Beta"),
        "metric_alpha": _("Alpha (annualised)"),
        "metric_max_drawdown": _("Maximum drawdown"),
        "metric_correlation": _("Correlation with the benchmark"),
        "metric_risk_free_rate": _("Risk-free rate"),
        "metric_observations": _("Daily values used"),
        "drawdownDates": _("Peak {peak}, trough {trough}, recovered {recovery}"),
        "notRecovered": _("not yet"),
        "period_1D": _("1 day"),
        "period_1W": _("1 week"),
        "period_1M": _("1 month"),
        "period_3M": _("3 months"),
        "period_YTD": _("Year to date"),
        "period_1Y": _("1 year"),
        "period_ALL": _("Since inception"),
        "confirmDeleteTx": _("Delete this {kind} of {date}? Holdings and returns are recomputed."),
        "txAdded": _("Transaction added."),
        "txSaved": _("Transaction saved."),
        "txDeleted": _("Transaction deleted."),
        "addTransaction": _("Add a transaction"),
        "editTransaction": _("Edit transaction"),
        "noMatches": _("No instruments match."),
        "ratio": _("{from} : {to}"),
        "chooseFile": _("Choose a CSV file first."),
        "previewOk": _(
            "{imported} rows can be imported; {duplicates} already present will be skipped."
        ),
        "imported": _("Imported {imported} rows; {duplicates} already present were skipped."),
        "importErrors": _("Nothing was imported."),
        "lineError": _("Line {line}"),
    }


def _tax_strings() -> dict[str, str]:
    return {
        **_common_strings(),
        "noGains": _("No sales yet, so there are no realised gains to tax."),
        "yearTitle": _("Financial year {year}"),
        "yearRange": _("{start} to {end}"),
        "summaryCaption": _("Capital gains of the financial year {year}, in Indian rupees."),
        "short": _("Short-term"),
        "long": _("Long-term"),
        "gains": _("Gains"),
        "losses": _("Losses"),
        "net": _("Net after set-off"),
        "exemption": _("Exemption"),
        "exemptionUsed": _("{used} of {limit} used"),
        "taxable": _("Taxable"),
        "tax": _("Estimated tax"),
        "totalTax": _("Estimated tax"),
        "unabsorbed": _(
            "Losses left after set-off this year: short-term {short}, long-term {long}."
        ),
        "realisations": _("Sales matched to purchases (FIFO): {count}"),
        "col_symbol": _("Symbol"),
        "col_bought": _("Bought"),
        "col_sold": _("Sold"),
        "col_quantity": _("Quantity"),
        "col_cost": _("Cost"),
        "col_proceeds": _("Proceeds"),
        "col_gain": _("Gain"),
        "col_term": _("Term"),
        "col_rate": _("Rate"),
    }


@login_required
def portfolio_list_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    portfolios = PortfolioOutputSerializer(selectors.portfolio_list(owner=user), many=True).data
    benchmarks = [
        (symbol_text(instrument), f"{instrument.name} ({instrument.exchange.code})")
        for instrument in market_selectors.instrument_list(kind=InstrumentKind.INDEX)
    ]
    data = {"portfolios": portfolios, "strings": _list_strings(), "urls": _api_urls()}
    return render(
        request,
        "portfolios/list.html",
        {
            "data": data,
            "portfolios": portfolios,
            "benchmarks": benchmarks,
            "default_benchmark": settings.PORTFOLIO_DEFAULT_BENCHMARK,
        },
    )


@login_required
def portfolio_detail_page(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    portfolio = _owned(user=user, portfolio_id=portfolio_id)
    data = {
        "portfolio": PortfolioOutputSerializer(portfolio).data,
        # The first paint needs no round trip; later figures come over REST and the socket.
        "summary": selectors.portfolio_summary(portfolio=portfolio),
        "strings": _detail_strings(),
        "urls": _api_urls(),
    }
    return render(
        request,
        "portfolios/detail.html",
        {
            "data": data,
            "portfolio": portfolio,
            "kinds": TransactionKind.choices,
            "ranges": ["1M", "3M", "6M", "YTD", "1Y", "ALL"],
            "export_url": reverse("api-portfolio-export", args=[portfolio.pk]),
        },
    )


@login_required
def portfolio_tax_page(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    portfolio = _owned(user=user, portfolio_id=portfolio_id)
    data = {
        "portfolio": PortfolioOutputSerializer(portfolio).data,
        "strings": _tax_strings(),
        "urls": _api_urls(),
    }
    return render(
        request, "portfolios/tax.html", {"data": data, "portfolio": portfolio, "caveat": CAVEAT}
    )
