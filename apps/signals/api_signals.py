"""Signals, strategies and follows over REST (`/api/v1/`). Signals and strategies are
market-wide: every signed-in user sees them. A follow is its owner's: another user's
answers 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.market.models import Timeframe
from apps.signals import follows, selectors
from apps.signals.models import Action, Outcome, Signal, SignalFollow
from apps.signals.serializers import (
    FollowInputSerializer,
    FollowOutputSerializer,
    SignalFilterSerializer,
    SignalOutputSerializer,
    StrategyDetailOutputSerializer,
    StrategyOutputSerializer,
)
from apps.signals.strategies import STRATEGIES, Strategy

_TAGS = ["signals"]
_NOT_FOUND = {404: None}
RECENT_SIGNALS = 20


def strategy_data(strategy: Strategy, records: list[selectors.Record]) -> dict[str, Any]:
    """A strategy's description, parameters and records, as StrategyOutputSerializer reads."""
    return {
        "key": strategy.key,
        "name": str(strategy.name),
        "description": str(strategy.description),
        "params": strategy.params,
        "records": [record.as_dict() for record in records],
    }


class SignalListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = SignalOutputSerializer

    def get_queryset(self) -> QuerySet[Signal]:
        filters = SignalFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.signal_list(**filters.validated_data)

    @extend_schema(
        tags=_TAGS,
        summary="Signals, newest first",
        parameters=[
            OpenApiParameter("symbol", str, description="RELIANCE (NSE) or BSE:RELIANCE"),
            OpenApiParameter("strategy", str, enum=sorted(STRATEGIES)),
            OpenApiParameter("timeframe", str, enum=Timeframe.values),
            OpenApiParameter("action", str, enum=Action.values),
            OpenApiParameter("outcome", str, enum=Outcome.values),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SignalDetailApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: SignalOutputSerializer, **_NOT_FOUND},
        summary="A signal: levels, explanation, evidence and outcome",
    )
    def get(self, request: Request, signal_id: int) -> Response:
        signal = selectors.signal_get(signal_id=signal_id)
        if signal is None:
            raise Http404
        return Response(SignalOutputSerializer(signal).data)


class StrategyListApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: StrategyOutputSerializer(many=True)},
        summary="Every strategy with its backtested and live records",
    )
    def get(self, request: Request) -> Response:
        records = selectors.strategy_records()
        data = [strategy_data(s, records.get(key, [])) for key, s in STRATEGIES.items()]
        return Response(StrategyOutputSerializer(data, many=True).data)


class StrategyDetailApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: StrategyDetailOutputSerializer, **_NOT_FOUND},
        summary="A strategy: records per timeframe and per instrument, recent signals",
    )
    def get(self, request: Request, key: str) -> Response:
        strategy = STRATEGIES.get(key)
        if strategy is None:
            raise Http404
        data = strategy_data(strategy, selectors.strategy_records(strategy=key).get(key, []))
        data["instruments"] = [
            r.as_dict() for r in selectors.strategy_instrument_records(strategy=key)
        ]
        data["recent_signals"] = selectors.signal_list(strategy=key)[:RECENT_SIGNALS]
        return Response(StrategyDetailOutputSerializer(data).data)


class FollowListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = FollowOutputSerializer

    def get_queryset(self) -> QuerySet[SignalFollow]:
        return selectors.follow_list(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(tags=_TAGS, summary="The strategies and instruments you follow")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=_TAGS,
        request=FollowInputSerializer,
        responses={201: FollowOutputSerializer},
        summary="Follow a strategy or an instrument",
    )
    def post(self, request: Request) -> Response:
        serializer = FollowInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user: User = request.user  # type: ignore[assignment]
        follow = follows.signal_follow_create(user=user, **serializer.validated_data)
        follow = selectors.follow_get(user=user, follow_id=follow.pk) or follow
        return Response(FollowOutputSerializer(follow).data, status=status.HTTP_201_CREATED)


class FollowDetailApi(APIView):
    @extend_schema(tags=_TAGS, responses={204: None, **_NOT_FOUND}, summary="Stop following")
    def delete(self, request: Request, follow_id: int) -> Response:
        follow = selectors.follow_get(
            user=request.user,  # type: ignore[arg-type]
            follow_id=follow_id,
        )
        if follow is None:
            raise Http404
        follows.signal_follow_delete(follow=follow)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("signals/", SignalListApi.as_view(), name="api-signals"),
    path("signals/<int:signal_id>/", SignalDetailApi.as_view(), name="api-signal"),
    path("strategies/", StrategyListApi.as_view(), name="api-strategies"),
    path("strategies/<str:key>/", StrategyDetailApi.as_view(), name="api-strategy"),
    path("signal-follows/", FollowListCreateApi.as_view(), name="api-signal-follows"),
    path("signal-follows/<int:follow_id>/", FollowDetailApi.as_view(), name="api-signal-follow"),
]
