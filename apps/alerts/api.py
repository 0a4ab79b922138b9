"""Alert rules over REST. Another user's rule answers 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.alerts import selectors, services
from apps.alerts.models import AlertEvent, AlertRule
from apps.alerts.serializers import (
    EventOutputSerializer,
    PartialRuleInputSerializer,
    RuleFilterSerializer,
    RuleInputSerializer,
    RuleOutputSerializer,
)

_TAGS = ["alerts"]
_NOT_FOUND = {404: None}


def _owned(request: Request, rule_id: int) -> AlertRule:
    rule = selectors.alert_get(user=request.user, rule_id=rule_id)  # type: ignore[arg-type]
    if rule is None:
        raise services.AlertNotFound
    return rule


def _out(rule_id: int, request: Request, code: int = status.HTTP_200_OK) -> Response:
    return Response(RuleOutputSerializer(_owned(request, rule_id)).data, status=code)


class AlertListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = RuleOutputSerializer

    def get_queryset(self) -> QuerySet[AlertRule]:
        filters = RuleFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.alert_list(user=self.request.user,  # type: ignore[arg-type]
                                    **filters.validated_data)

    @extend_schema(
        tags=_TAGS, summary="Your alert rules",
        parameters=[
            OpenApiParameter("status", str, enum=["active", "paused", "expired", "fired"]),
            OpenApiParameter("symbol", str), OpenApiParameter("watchlist", int),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=_TAGS, request=RuleInputSerializer,
                   responses={201: RuleOutputSerializer}, summary="Create an alert rule")
    def post(self, request: Request) -> Response:
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.alert_create(by=request.user,  # type: ignore[arg-type]
                                     data=dict(serializer.validated_data))
        return _out(rule.pk, request, status.HTTP_201_CREATED)


class AlertDetailApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: RuleOutputSerializer, **_NOT_FOUND},
                   summary="An alert rule")
    def get(self, request: Request, rule_id: int) -> Response:
        return _out(rule_id, request)

    @extend_schema(tags=_TAGS, request=PartialRuleInputSerializer,
                   responses={200: RuleOutputSerializer, **_NOT_FOUND},
                   summary="Edit an alert rule (re-arms it)")
    def patch(self, request: Request, rule_id: int) -> Response:
        _owned(request, rule_id)
        serializer = PartialRuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.alert_update(rule_id=rule_id, by=request.user,  # type: ignore[arg-type]
                              data=dict(serializer.validated_data))
        return _out(rule_id, request)

    @extend_schema(tags=_TAGS, responses={204: None, **_NOT_FOUND},
                   summary="Delete an alert rule and its history")
    def delete(self, request: Request, rule_id: int) -> Response:
        services.alert_delete(rule_id=rule_id, by=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertPauseApi(APIView):
    @extend_schema(tags=_TAGS, request=None,
                   responses={200: RuleOutputSerializer, **_NOT_FOUND}, summary="Pause")
    def post(self, request: Request, rule_id: int) -> Response:
        services.alert_pause(rule_id=rule_id, by=request.user)  # type: ignore[arg-type]
        return _out(rule_id, request)


class AlertResumeApi(APIView):
    @extend_schema(tags=_TAGS, request=None,
                   responses={200: RuleOutputSerializer, **_NOT_FOUND},
                   summary="Resume (also re-arms a fired or expired rule)")
    def post(self, request: Request, rule_id: int) -> Response:
        services.alert_resume(rule_id=rule_id, by=request.user)  # type: ignore[arg-type]
        return _out(rule_id, request)


class AlertEventListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = EventOutputSerializer

    def get_queryset(self) -> QuerySet[AlertEvent]:
        rule = _owned(self.request, int(self.kwargs["rule_id"]))  # type: ignore[arg-type]
        return selectors.alert_event_list(rule=rule)

    @extend_schema(tags=_TAGS, responses={200: EventOutputSerializer(many=True), **_NOT_FOUND},
                   summary="A rule's firings with the values that fired it")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
