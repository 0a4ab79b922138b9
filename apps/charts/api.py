"""Chart drawings REST: list and create on an instrument, delete by id. Own drawings only."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.charts import selectors, services
from apps.charts.serializers import (
    DrawingInputSerializer,
    DrawingListOutputSerializer,
    DrawingOutputSerializer,
)
from apps.market import selectors as market_selectors
from apps.market.models import Instrument

_EXCHANGE = OpenApiParameter(
    "exchange", OpenApiTypes.STR, description="Exchange code: NSE, BSE (NSE preferred)."
)


def _instrument(request: Request, symbol: str) -> Instrument:
    exchange = str(request.query_params.get("exchange", "")).strip()
    instrument = market_selectors.instrument_get(symbol=symbol, exchange=exchange)
    if instrument is None:
        raise Http404(_("No such instrument."))
    return instrument


class DrawingListCreateApi(APIView):
    @extend_schema(
        summary="Your drawings on one instrument's chart",
        parameters=[_EXCHANGE],
        responses=DrawingListOutputSerializer,
    )
    def get(self, request: Request, symbol: str) -> Response:
        user: User = request.user  # type: ignore[assignment]
        drawings = selectors.drawing_list(user=user, instrument=_instrument(request, symbol))
        return Response(
            {
                "results": DrawingOutputSerializer(drawings, many=True).data,
                "limit": services.MAX_DRAWINGS_PER_INSTRUMENT,
            }
        )

    @extend_schema(
        summary="Save a drawing (trend line or horizontal line)",
        parameters=[_EXCHANGE],
        request=DrawingInputSerializer,
        responses={201: DrawingOutputSerializer},
    )
    def post(self, request: Request, symbol: str) -> Response:
        instrument = _instrument(request, symbol)
        serializer = DrawingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        drawing = services.drawing_create(
            user=request.user,  # type: ignore[arg-type]
            instrument=instrument,
            **serializer.validated_data,
        )
        return Response(DrawingOutputSerializer(drawing).data, status=status.HTTP_201_CREATED)


class DrawingDeleteApi(APIView):
    @extend_schema(summary="Delete one of your drawings", responses={204: None})
    def delete(self, request: Request, drawing_id: int) -> Response:
        drawing = get_object_or_404(
            selectors.drawing_list(user=request.user), pk=drawing_id  # type: ignore[arg-type]
        )
        services.drawing_delete(drawing=drawing)
        return Response(status=status.HTTP_204_NO_CONTENT)
