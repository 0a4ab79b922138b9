"""Notifications over REST: the centre, destinations (with test and verify), preferences.

Another user's notification or destination answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.notifications import selectors, services, verification
from apps.notifications.models import Destination, Notification
from apps.notifications.serializers import (
    DeliveryOutputSerializer,
    DestinationCreateInputSerializer,
    DestinationOutputSerializer,
    DestinationUpdateInputSerializer,
    NotificationFilterSerializer,
    NotificationOutputSerializer,
    PreferencesSerializer,
    PushKeySerializer,
    UnreadCountSerializer,
    VerifyInputSerializer,
)

_TAGS = ["notifications"]
_NOT_FOUND = {404: None}


def _user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _destination(request: Request, destination_id: int) -> Destination:
    found = selectors.destination_get(user=_user(request), destination_id=destination_id)
    if found is None:
        raise Http404
    return found


def _notification(request: Request, notification_id: int) -> Notification:
    found = selectors.notification_get(user=_user(request), notification_id=notification_id)
    if found is None:
        raise Http404
    return found


class NotificationListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = NotificationOutputSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        filters = NotificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.notification_list(user=_user(self.request), **filters.validated_data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = [selectors.notification_data(n) for n in page or []]
        return self.get_paginated_response(data)

    @extend_schema(tags=_TAGS, summary="Your notifications, newest first",
                   parameters=[NotificationFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationReadApi(APIView):
    @extend_schema(tags=_TAGS, request=None,
                   responses={200: NotificationOutputSerializer, **_NOT_FOUND},
                   summary="Mark a notification read")
    def post(self, request: Request, notification_id: int) -> Response:
        notification = services.notification_mark_read(
            notification=_notification(request, notification_id)
        )
        return Response(selectors.notification_data(notification))


class NotificationReadAllApi(APIView):
    @extend_schema(tags=_TAGS, request=None, responses={200: UnreadCountSerializer},
                   summary="Mark every notification read")
    def post(self, request: Request) -> Response:
        services.notification_mark_all_read(user=_user(request))
        return Response({"unread_count": 0})


class UnreadCountApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: UnreadCountSerializer},
                   summary="How many notifications are unread")
    def get(self, request: Request) -> Response:
        return Response({"unread_count": selectors.unread_count(user_id=_user(request).pk)})


class NotificationDeliveriesApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: DeliveryOutputSerializer(many=True), **_NOT_FOUND},
                   summary="Where a notification went, with every attempt")
    def get(self, request: Request, notification_id: int) -> Response:
        deliveries = selectors.delivery_list(
            notification=_notification(request, notification_id)
        )
        return Response(DeliveryOutputSerializer(deliveries, many=True).data)


class DestinationListCreateApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: DestinationOutputSerializer(many=True)},
                   summary="Your destinations")
    def get(self, request: Request) -> Response:
        destinations = selectors.destination_list(user=_user(request))
        return Response(DestinationOutputSerializer(destinations, many=True).data)

    @extend_schema(tags=_TAGS, request=DestinationCreateInputSerializer,
                   responses={201: DestinationOutputSerializer},
                   summary="Add a destination",
                   description="SMS and other e-mail addresses get a 6-digit code to enter at "
                               "`…/verify/`; other kinds are verified by a successful test.")
    def post(self, request: Request) -> Response:
        serializer = DestinationCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_create(user=_user(request), **serializer.validated_data)
        return Response(DestinationOutputSerializer(destination).data,
                        status=status.HTTP_201_CREATED)


class DestinationDetailApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: DestinationOutputSerializer, **_NOT_FOUND},
                   summary="A destination")
    def get(self, request: Request, destination_id: int) -> Response:
        return Response(DestinationOutputSerializer(_destination(request, destination_id)).data)

    @extend_schema(tags=_TAGS, request=DestinationUpdateInputSerializer,
                   responses={200: DestinationOutputSerializer, **_NOT_FOUND},
                   summary="Change a destination (a new address must be verified again)")
    def patch(self, request: Request, destination_id: int) -> Response:
        destination = _destination(request, destination_id)
        serializer = DestinationUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_update(
            destination=destination, **serializer.validated_data
        )
        return Response(DestinationOutputSerializer(destination).data)

    @extend_schema(tags=_TAGS, responses={204: None, **_NOT_FOUND}, summary="Remove a destination")
    def delete(self, request: Request, destination_id: int) -> Response:
        services.destination_delete(destination=_destination(request, destination_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DestinationTestApi(APIView):
    @extend_schema(tags=_TAGS, request=None, responses={202: DeliveryOutputSerializer,
                                                         **_NOT_FOUND},
                   summary="Send a test message to this destination")
    def post(self, request: Request, destination_id: int) -> Response:
        delivery = services.destination_send_test(
            destination=_destination(request, destination_id)
        )
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DestinationVerifyApi(APIView):
    @extend_schema(tags=_TAGS, request=VerifyInputSerializer,
                   responses={200: DestinationOutputSerializer, **_NOT_FOUND},
                   summary="Enter the code sent to this phone number or address")
    def post(self, request: Request, destination_id: int) -> Response:
        destination = _destination(request, destination_id)
        serializer = VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = verification.code_check(
            destination=destination, code=serializer.validated_data["code"]
        )
        return Response(DestinationOutputSerializer(destination).data)


class DestinationSendCodeApi(APIView):
    @extend_schema(tags=_TAGS, request=None, responses={202: None, **_NOT_FOUND},
                   summary="Send a new verification code (at most once a minute)")
    def post(self, request: Request, destination_id: int) -> Response:
        verification.code_request(destination=_destination(request, destination_id))
        return Response(status=status.HTTP_202_ACCEPTED)


class PreferencesApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: PreferencesSerializer},
                   summary="Quiet hours and the daily digest")
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(selectors.preferences_get(user=_user(request))).data)

    @extend_schema(tags=_TAGS, request=PreferencesSerializer,
                   responses={200: PreferencesSerializer},
                   summary="Change quiet hours and the daily digest")
    def patch(self, request: Request) -> Response:
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        prefs = services.preferences_update(user=_user(request), **serializer.validated_data)
        return Response(PreferencesSerializer(prefs).data)


class PushKeyApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: PushKeySerializer},
                   summary="The VAPID public key browsers subscribe with (empty: push is off)")
    def get(self, request: Request) -> Response:
        return Response({"public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY})
