"""Room messages over REST: history pages, posting (with the flood limit), edits, deletes,
reactions, copying a shared alert, read marks and the activity feeds. Members only, as in
`apps.rooms.api`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.alerts.selectors import alert_get
from apps.alerts.serializers import RuleOutputSerializer
from apps.rooms import selectors, services
from apps.rooms.api import NOT_FOUND, TAGS, member_of, request_user
from apps.rooms.serializers import (
    RoomActivityFilterSerializer,
    RoomActivityPageOutputSerializer,
    RoomMessageEditInputSerializer,
    RoomMessageFilterSerializer,
    RoomMessageInputSerializer,
    RoomMessageOutputSerializer,
    RoomMessagePageOutputSerializer,
    RoomReactionInputSerializer,
    RoomReadInputSerializer,
    RoomReadOutputSerializer,
)

_DENIED: dict[int | str, Any] = {403: None, 404: None}


class TooFast(exceptions.Throttled):
    """429 with Retry-After and the service's message as it is."""

    def __init__(self, *, wait: int, detail: str) -> None:
        exceptions.APIException.__init__(self, detail, "throttled")
        self.wait = wait


def _message(request: Request, message: Any) -> dict[str, Any]:
    return selectors.message_data(message, viewer_id=request.user.pk)


# --- messages -----------------------------------------------------------------------------------


class RoomMessageListCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="rooms_messages_list",
        parameters=[RoomMessageFilterSerializer],
        responses={200: RoomMessagePageOutputSerializer, **NOT_FOUND},
        summary="Messages: newest first (before=id for older), or oldest first "
        "after an id (catching up); parent=id for a thread",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room, member = member_of(request, room_id)
        query = RoomMessageFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page, has_more = selectors.message_list(
            room=room,
            before=params.get("before"),
            after=params.get("after"),
            parent=params.get("parent"),
            limit=params["limit"],
        )
        return Response(
            {
                "results": selectors.messages_data(page, viewer_id=member.user_id),
                "has_more": has_more,
            }
        )

    @extend_schema(
        tags=TAGS,
        request=RoomMessageInputSerializer,
        responses={
            201: RoomMessageOutputSerializer,
            200: RoomMessageOutputSerializer,
            400: None,
            429: None,
            **NOT_FOUND,
        },
        summary="Post a message (201; 200 when client_id was already used)",
        description="429 with Retry-After when sending too fast (per user per room: "
        "bursts of 10, then one a second).",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room, _member = member_of(request, room_id)
        serializer = RoomMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            message, created = services.message_post(
                room=room,
                author=request_user(request),
                body=data["body"],
                parent_id=data["parent"],
                share=data["share"],
                client_id=data["client_id"],
            )
        except services.RoomRateLimited as exc:
            raise TooFast(wait=exc.retry_after, detail=exc.messages[0]) from exc
        return Response(
            _message(request, message),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RoomMessageDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: RoomMessageOutputSerializer, **NOT_FOUND},
        summary="One message",
    )
    def get(self, request: Request, room_id: int, message_id: int) -> Response:
        room, _member = member_of(request, room_id)
        message = selectors.message_get(room=room, message_id=message_id)
        if message is None:
            raise services.RoomNotFound
        return Response(_message(request, message))

    @extend_schema(
        tags=TAGS,
        request=RoomMessageEditInputSerializer,
        responses={200: RoomMessageOutputSerializer, **_DENIED},
        summary="Edit your message (within 24 hours)",
    )
    def patch(self, request: Request, room_id: int, message_id: int) -> Response:
        room, _member = member_of(request, room_id)
        serializer = RoomMessageEditInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_edit(
            room=room,
            message_id=message_id,
            body=serializer.validated_data["body"],
            by=request_user(request),
        )
        return Response(_message(request, message))

    @extend_schema(
        tags=TAGS,
        responses={204: None, **_DENIED},
        summary="Delete a message (its author, the owner or a moderator)",
    )
    def delete(self, request: Request, room_id: int, message_id: int) -> Response:
        room, _member = member_of(request, room_id)
        services.message_delete(room=room, message_id=message_id, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomReactionApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=RoomReactionInputSerializer,
        responses={200: RoomMessageOutputSerializer, 400: None, **NOT_FOUND},
        summary="Add your reaction, or take it back if you had it",
    )
    def post(self, request: Request, room_id: int, message_id: int) -> Response:
        room, _member = member_of(request, room_id)
        serializer = RoomReactionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, _added = services.reaction_toggle(
            room=room,
            message_id=message_id,
            emoji=serializer.validated_data["emoji"],
            by=request_user(request),
        )
        return Response(_message(request, message))


class RoomAlertCopyApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={201: RuleOutputSerializer, 400: None, **NOT_FOUND},
        summary="Copy a shared alert to your alerts",
    )
    def post(self, request: Request, room_id: int, message_id: int) -> Response:
        room, _member = member_of(request, room_id)
        rule = services.message_alert_copy(
            room=room, message_id=message_id, by=request_user(request)
        )
        loaded = alert_get(user=request_user(request), rule_id=rule.pk) or rule
        return Response(RuleOutputSerializer(loaded).data, status=status.HTTP_201_CREATED)


class RoomReadApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=RoomReadInputSerializer,
        responses={200: RoomReadOutputSerializer, 400: None, **NOT_FOUND},
        summary="Mark the room read up to a message (never moves back)",
    )
    def post(self, request: Request, room_id: int) -> Response:
        _room, member = member_of(request, room_id)
        serializer = RoomReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.room_mark_read(
            member=member, message_id=serializer.validated_data["message_id"]
        )
        unread, first = selectors.room_unread(member=member)
        return Response(
            {
                "room": member.room_id,
                "last_read_message_id": member.last_read_message_id,
                "unread_count": unread,
                "first_unread_id": first,
            }
        )


# --- activity -----------------------------------------------------------------------------------


def _activity_page(page: list[Any], has_more: bool) -> Response:
    return Response(
        {
            "results": [selectors.activity_data(a) for a in page],
            "has_more": has_more,
        }
    )


class RoomActivityApi(APIView):
    @extend_schema(
        tags=TAGS,
        parameters=[RoomActivityFilterSerializer],
        responses={200: RoomActivityPageOutputSerializer, **NOT_FOUND},
        summary="The room's activity, newest first (before=id for older)",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room, _member = member_of(request, room_id)
        query = RoomActivityFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, has_more = selectors.activity_list_for_room(
            room=room,
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        return _activity_page(page, has_more)


class MyActivityApi(APIView):
    @extend_schema(
        tags=TAGS,
        parameters=[RoomActivityFilterSerializer],
        responses={200: RoomActivityPageOutputSerializer},
        operation_id="rooms_activity_mine",
        summary="Activity in all your rooms, newest first",
    )
    def get(self, request: Request) -> Response:
        query = RoomActivityFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, has_more = selectors.activity_list_for_user(
            user=request_user(request),
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        return _activity_page(page, has_more)
