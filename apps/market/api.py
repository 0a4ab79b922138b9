"""Read-only market reference endpoints: instrument search and detail, market status."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.market import selectors
from apps.market.calendar import market_status
from apps.market.models import Instrument
from apps.market.serializers import (
    ExchangeInputSerializer,
    InstrumentDetailOutputSerializer,
    InstrumentListInputSerializer,
    InstrumentOutputSerializer,
    MarketStatusOutputSerializer,
    OptionalExchangeInputSerializer,
)

extend_schema_field(MarketStatusOutputSerializer)(
    InstrumentDetailOutputSerializer.get_market_status
)

_EXCHANGE = OpenApiParameter("exchange", OpenApiTypes.STR, description="Exchange code: NSE, BSE.")


class InstrumentListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = InstrumentOutputSerializer

    @extend_schema(
        summary="Search instruments",
        description=(
            "Symbol prefix (any case) or company name substring. An exact symbol match comes "
            "first, then symbols A-Z. Only active instruments."
        ),
        parameters=[InstrumentListInputSerializer],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Instrument]:
        serializer = InstrumentListInputSerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return selectors.instrument_list(**serializer.validated_data)


class InstrumentDetailApi(APIView):
    @extend_schema(
        summary="One instrument, with its exchange's market status",
        parameters=[OptionalExchangeInputSerializer],
        responses=InstrumentDetailOutputSerializer,
    )
    def get(self, request: Request, symbol: str) -> Response:
        params = OptionalExchangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        instrument = selectors.instrument_get(
            symbol=symbol, exchange=params.validated_data.get("exchange", "")
        )
        if instrument is None:
            raise Http404(_("No such instrument."))
        status = market_status(timezone.now(), exchange=instrument.exchange.code)
        body = InstrumentDetailOutputSerializer(
            instrument, context={"market_status": status}
        ).data
        return Response(body)


class MarketStatusApi(APIView):
    @extend_schema(
        summary="Is the market open?",
        description="Session state now: pre_open 09:00-09:15, open 09:15-15:30, else closed.",
        parameters=[ExchangeInputSerializer],
        responses=MarketStatusOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        params = ExchangeInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        status = market_status(timezone.now(), exchange=params.validated_data["exchange"])
        return Response(MarketStatusOutputSerializer(status).data)
