"""Portfolios over REST: portfolios, their transactions and their valuation.

Owner only: another user's portfolio (or a transaction in it) answers 404 exactly like a
missing id. Validation errors are 400 with messages per field (see `services`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.portfolios import selectors, services
from apps.portfolios.models import Portfolio, Transaction, TransactionKind
from apps.portfolios.serializers import (
    PortfolioInputSerializer,
    PortfolioOutputSerializer,
    SummaryOutputSerializer,
    TransactionFilterSerializer,
    TransactionInputSerializer,
    TransactionOutputSerializer,
    TransactionPatchSerializer,
)

_TAGS = ["portfolios"]
_NOT_FOUND = {404: None}


def _owned(request: Request, portfolio_id: int, *, with_count: bool = False) -> Portfolio:
    portfolio = selectors.portfolio_get(
        owner=request.user, portfolio_id=portfolio_id, with_count=with_count
    )
    if portfolio is None:
        raise services.PortfolioNotFound
    return portfolio


def _portfolio_out(request: Request, portfolio_id: int, code: int = status.HTTP_200_OK) -> Response:
    portfolio = _owned(request, portfolio_id, with_count=True)
    return Response(PortfolioOutputSerializer(portfolio).data, status=code)


def _transaction_out(
    portfolio: Portfolio, transaction_id: int, code: int = status.HTTP_200_OK
) -> Response:
    row = selectors.transaction_get(portfolio=portfolio, transaction_id=transaction_id)
    if row is None:
        raise services.TransactionNotFound
    return Response(TransactionOutputSerializer(row).data, status=code)


class PortfolioListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = PortfolioOutputSerializer

    def get_queryset(self) -> QuerySet[Portfolio]:
        return selectors.portfolio_list(owner=self.request.user)

    @extend_schema(tags=_TAGS, summary="Your portfolios")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=_TAGS,
        request=PortfolioInputSerializer,
        responses={201: PortfolioOutputSerializer},
        summary="Create a portfolio",
    )
    def post(self, request: Request) -> Response:
        serializer = PortfolioInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        portfolio = services.portfolio_create(
            owner=request.user,  # type: ignore[arg-type]
            name=data["name"],
            description=data.get("description", ""),
            benchmark=data.get("benchmark", services.UNSET),
        )
        return _portfolio_out(request, portfolio.pk, status.HTTP_201_CREATED)


class PortfolioDetailApi(APIView):
    @extend_schema(
        tags=_TAGS, responses={200: PortfolioOutputSerializer, **_NOT_FOUND}, summary="A portfolio"
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        return _portfolio_out(request, portfolio_id)

    @extend_schema(
        tags=_TAGS,
        request=PortfolioInputSerializer,
        responses={200: PortfolioOutputSerializer, **_NOT_FOUND},
        summary="Rename, describe or change the benchmark",
    )
    def patch(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        serializer = PortfolioInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.portfolio_update(
            portfolio=portfolio,
            name=data.get("name"),
            description=data.get("description"),
            benchmark=data.get("benchmark", services.UNSET),
        )
        return _portfolio_out(request, portfolio_id)

    @extend_schema(
        tags=_TAGS,
        responses={204: None, **_NOT_FOUND},
        summary="Delete a portfolio with its transactions",
    )
    def delete(self, request: Request, portfolio_id: int) -> Response:
        services.portfolio_delete(portfolio=_owned(request, portfolio_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PortfolioSummaryApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: SummaryOutputSerializer, **_NOT_FOUND},
        summary="Holdings, P/L, day change, allocation and concentration warnings",
        description=(
            "Valued at the latest quotes (a holding without one: its last daily close, else "
            "its cost, with `priced` false). P/L counts the holdings only: deposits and "
            "withdrawals move `cash`, not returns. Money has 2 places, percentages 2, "
            "weights 4 (0–1)."
        ),
    )
    def get(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        return Response(selectors.portfolio_summary(portfolio=portfolio))


class TransactionListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = TransactionOutputSerializer

    def get_queryset(self) -> QuerySet[Transaction]:
        portfolio = _owned(self.request, int(self.kwargs["portfolio_id"]))
        filters = TransactionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.transaction_list(
            portfolio=portfolio,
            symbol=filters.validated_data.get("instrument", ""),
            kind=filters.validated_data.get("kind", ""),
        )

    @extend_schema(
        tags=_TAGS,
        summary="A portfolio's transactions, newest first",
        parameters=[
            OpenApiParameter("instrument", str, description='A symbol: "TCS" or "BSE:TCS".'),
            OpenApiParameter("kind", str, enum=TransactionKind.values),
        ],
        responses={200: TransactionOutputSerializer(many=True), **_NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=_TAGS,
        request=TransactionInputSerializer,
        responses={201: TransactionOutputSerializer, **_NOT_FOUND},
        summary="Add a transaction",
    )
    def post(self, request: Request, portfolio_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        serializer = TransactionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.transaction_create(
            portfolio=portfolio, data=services.TransactionData(**serializer.validated_data)
        )
        return _transaction_out(portfolio, row.pk, status.HTTP_201_CREATED)


class TransactionDetailApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: TransactionOutputSerializer, **_NOT_FOUND},
        summary="A transaction",
    )
    def get(self, request: Request, portfolio_id: int, transaction_id: int) -> Response:
        return _transaction_out(_owned(request, portfolio_id), transaction_id)

    @extend_schema(
        tags=_TAGS,
        request=TransactionInputSerializer,
        responses={200: TransactionOutputSerializer, **_NOT_FOUND},
        summary="Edit a transaction (any subset of its fields)",
    )
    def patch(self, request: Request, portfolio_id: int, transaction_id: int) -> Response:
        portfolio = _owned(request, portfolio_id)
        if selectors.transaction_get(portfolio=portfolio, transaction_id=transaction_id) is None:
            raise services.TransactionNotFound
        serializer = TransactionPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.transaction_update(
            portfolio=portfolio,
            transaction_id=transaction_id,
            changes=dict(serializer.validated_data),
        )
        return _transaction_out(portfolio, transaction_id)

    @extend_schema(
        tags=_TAGS,
        responses={204: None, **_NOT_FOUND},
        summary="Delete a transaction (refused if later ones depend on it)",
    )
    def delete(self, request: Request, portfolio_id: int, transaction_id: int) -> Response:
        services.transaction_delete(
            portfolio=_owned(request, portfolio_id), transaction_id=transaction_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
