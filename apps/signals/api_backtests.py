"""Backtest runs over REST (`/api/v1/backtests/`).

Owner only, except `shared/<token>/`: someone else's run answers 404 exactly like a
missing id. Bad input is a 400 with messages per field (`params.fast`, `config.stop_atr`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.signals import run_selectors, runs
from apps.signals.models import BacktestRun
from apps.signals.run_serializers import (
    BacktestRunDetailSerializer,
    BacktestRunInputSerializer,
    BacktestRunOutputSerializer,
    ShareInputSerializer,
    ShareOutputSerializer,
)

_TAGS = ["backtests"]
_NOT_FOUND = {404: None}


def _owned(request: Request, run_id: int) -> BacktestRun:
    run = run_selectors.backtest_run_get(owner=request.user, run_id=run_id)  # type: ignore[arg-type]
    if run is None:
        raise Http404(_("No such backtest."))
    return run


class BacktestListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = BacktestRunOutputSerializer

    def get_queryset(self) -> QuerySet[BacktestRun]:
        user: User = self.request.user  # type: ignore[assignment]
        return run_selectors.backtest_run_summary_list(owner=user)

    @extend_schema(tags=_TAGS, summary="Your backtests, newest first (without their reports)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=_TAGS,
        request=BacktestRunInputSerializer,
        responses={201: BacktestRunOutputSerializer},
        summary="Start a backtest",
        description=(
            "Validates the request and queues it; a worker runs it and pushes "
            "`backtest.progress` / `backtest.done` to your sockets. At most 3 of your "
            "backtests may be queued or running at once."
        ),
    )
    def post(self, request: Request) -> Response:
        run = runs.backtest_run_create(owner=request.user, data=request.data)  # type: ignore[arg-type]
        run = _owned(request, run.pk)
        return Response(BacktestRunOutputSerializer(run).data, status=status.HTTP_201_CREATED)


class BacktestDetailApi(APIView):
    @extend_schema(
        tags=_TAGS,
        responses={200: BacktestRunDetailSerializer, **_NOT_FOUND},
        summary="A backtest with its report once done",
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(BacktestRunDetailSerializer(_owned(request, run_id)).data)

    @extend_schema(tags=_TAGS, responses={204: None, **_NOT_FOUND}, summary="Delete a backtest")
    def delete(self, request: Request, run_id: int) -> Response:
        runs.backtest_run_delete(run=_owned(request, run_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BacktestShareApi(APIView):
    @extend_schema(
        tags=_TAGS,
        request=ShareInputSerializer,
        responses={200: ShareOutputSerializer, **_NOT_FOUND},
        summary="Turn the public link of a backtest on or off",
    )
    def post(self, request: Request, run_id: int) -> Response:
        run = _owned(request, run_id)
        serializer = ShareInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = runs.backtest_run_share_link(run=run, shared=serializer.validated_data["shared"])
        urls = runs.share_urls(run)
        return Response(
            {
                "shared": run.shared,
                "url": request.build_absolute_uri(urls["url"]) if urls["url"] else None,
                "api_url": request.build_absolute_uri(urls["api_url"]) if urls["api_url"] else None,
            }
        )


class BacktestSharedApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=_TAGS,
        responses={200: BacktestRunDetailSerializer, **_NOT_FOUND},
        summary="A backtest shared by link (no sign-in needed)",
    )
    def get(self, request: Request, token: str) -> Response:
        run = run_selectors.backtest_run_get_shared(token=token)
        if run is None:
            raise Http404(_("No such backtest."))
        return Response(BacktestRunDetailSerializer(run).data)


urlpatterns = [
    path("backtests/", BacktestListCreateApi.as_view(), name="api-backtests"),
    path("backtests/<int:run_id>/", BacktestDetailApi.as_view(), name="api-backtest"),
    path("backtests/<int:run_id>/share/", BacktestShareApi.as_view(), name="api-backtest-share"),
    path(
        "backtests/shared/<str:token>/",
        BacktestSharedApi.as_view(),
        name="api-backtest-shared",
    ),
]
