"""Portfolio analytics over REST: returns and risk metrics, value history, tax estimate.

Owner only: another user's portfolio answers 404 exactly like a missing one. Ratios are
decimal strings with 6 places, money decimal strings, unknown figures null.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.portfolios import metrics
from apps.portfolios.models import Portfolio
from apps.portfolios.selectors import portfolio_get
from apps.portfolios.services import PortfolioNotFound
from apps.portfolios.snapshots import portfolio_history, portfolio_performance
from apps.portfolios.tax import CAVEAT, portfolio_capital_gains

_TAGS = ["portfolios"]
_NOT_FOUND = {404: None}


def _ratio(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=6, allow_null=True, read_only=True, **kwargs
    )


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=4, read_only=True, **kwargs)


# --- output ----------------------------------------------------------------------------


class PeriodReturnOutputSerializer(serializers.Serializer):
    twr = _ratio()
    xirr = _ratio()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)


class RiskOutputSerializer(serializers.Serializer):
    volatility = _ratio()
    sharpe = _ratio()
    sortino = _ratio()
    beta = _ratio()
    alpha = _ratio()
    max_drawdown = _ratio()
    max_drawdown_peak = serializers.DateField(allow_null=True)
    max_drawdown_trough = serializers.DateField(allow_null=True)
    max_drawdown_recovery = serializers.DateField(allow_null=True)
    correlation = _ratio()
    risk_free_rate = _ratio()
    observations = serializers.IntegerField()


class PerformanceOutputSerializer(serializers.Serializer):
    as_of = serializers.DateField(allow_null=True)
    recomputing = serializers.BooleanField()
    returns = serializers.DictField(child=PeriodReturnOutputSerializer())
    metrics = RiskOutputSerializer()
    definitions = serializers.DictField(child=serializers.CharField())


class HistoryInputSerializer(serializers.Serializer):
    range = serializers.ChoiceField(choices=metrics.RANGES, default="1Y")


class HistoryPointOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = _money()
    net_invested = _money()
    benchmark = _money(allow_null=True)


class HistoryOutputSerializer(serializers.Serializer):
    range = serializers.CharField()
    benchmark_symbol = serializers.CharField(allow_null=True)
    points = HistoryPointOutputSerializer(many=True)


class GainOutputSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    acquired = serializers.DateField()
    sold = serializers.DateField()
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    cost = _money()
    proceeds = _money()
    gain = _money()
    term = serializers.ChoiceField(choices=["short", "long"])
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)


class FinancialYearOutputSerializer(serializers.Serializer):
    year = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    short_term_gains = _money()
    short_term_losses = _money()
    long_term_gains = _money()
    long_term_losses = _money()
    net_short_term = _money()
    net_long_term = _money()
    ltcg_exemption = _money()
    exemption_used = _money()
    taxable_long_term = _money()
    short_term_tax = _money()
    long_term_tax = _money()
    total_tax = _money()
    unabsorbed_short_term_loss = _money()
    unabsorbed_long_term_loss = _money()
    realisations = GainOutputSerializer(many=True)


class TaxOutputSerializer(serializers.Serializer):
    estimate = serializers.BooleanField()
    caveat = serializers.CharField()
    financial_years = FinancialYearOutputSerializer(many=True)


# --- views -----------------------------------------------------------------------------


def _owned(request: Request, portfolio_id: int) -> Portfolio:
    portfolio = portfolio_get(owner=request.user, portfolio_id=portfolio_id)  # type: ignore[arg-type]
    if portfolio is None:
        raise PortfolioNotFound
    return portfolio


class PortfolioPerformanceApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: PerformanceOutputSerializer, **_NOT_FOUND},
        summary="Returns (TWR, XIRR) per period and risk metrics, with definitions",
        description=(
            "Periods: 1D, 1W, 1M, 3M, YTD (calendar year), 1Y, ALL (since inception); a "
            "period longer than the history is null. Computed from the daily snapshots; "
            "`recomputing` is true while an edit's rebuild is pending."
        ),
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        performance = portfolio_performance(portfolio=portfolio)
        data = {
            "as_of": performance.as_of,
            "recomputing": performance.recomputing,
            "returns": {key: asdict(value) for key, value in performance.returns.items()},
            "metrics": asdict(performance.risk),
            "definitions": {key: str(text) for key, text in metrics.DEFINITIONS.items()},
        }
        return Response(PerformanceOutputSerializer(data).data)


class PortfolioHistoryApi(APIView):
    @extend_schema(
        tags=_TAGS,
        parameters=[OpenApiParameter("range", str, enum=list(metrics.RANGES), default="1Y")],
        responses={200: HistoryOutputSerializer, 400: None, **_NOT_FOUND},
        summary="Daily value, net invested and the rebased benchmark over a range",
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        params = HistoryInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        range_ = params.validated_data["range"]
        points = portfolio_history(portfolio=portfolio, range_=range_)
        data = {
            "range": range_,
            "benchmark_symbol": portfolio.benchmark.symbol if portfolio.benchmark else None,
            "points": [asdict(point) for point in points],
        }
        return Response(HistoryOutputSerializer(data).data)


class PortfolioTaxApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: TaxOutputSerializer, **_NOT_FOUND},
        summary="Estimated capital gains tax per financial year (listed equity, FIFO)",
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        years = portfolio_capital_gains(portfolio=portfolio)
        data = {
            "estimate": True,
            "caveat": str(CAVEAT),
            "financial_years": [{**asdict(year), "total_tax": year.total_tax} for year in years],
        }
        return Response(TaxOutputSerializer(data).data)
