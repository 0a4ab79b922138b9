"""Rooms over REST: rooms, members, invitations and invite links (messages, reactions, read
marks and activity: `api_messages`). Members only: a room the caller is not a member of
answers 404 exactly like a missing one; an action the caller's role does not allow answers
403 (see `services`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.rooms import selectors, services
from apps.rooms.models import Room, RoomInvitation, RoomMember, RoomRole
from apps.rooms.serializers import (
    RoomCreateInputSerializer,
    RoomDiscoverFilterSerializer,
    RoomDiscoverOutputSerializer,
    RoomInvitationInputSerializer,
    RoomInvitationOutputSerializer,
    RoomInviteLinkInputSerializer,
    RoomInviteLinkOutputSerializer,
    RoomListItemOutputSerializer,
    RoomMemberOutputSerializer,
    RoomMemberRoleInputSerializer,
    RoomMemberViewOutputSerializer,
    RoomOwnerTransferInputSerializer,
    RoomUpdateInputSerializer,
)
from apps.rooms.services.common import role_require

TAGS = ["rooms"]
NOT_FOUND: dict[int | str, Any] = {404: None}
_DENIED: dict[int | str, Any] = {403: None, 404: None}


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = _("This invite link no longer works.")
    default_code = "gone"


def request_user(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def member_of(request: Request, room_id: int) -> tuple[Room, RoomMember]:
    found = selectors.room_get_for_member(user=request.user, room_id=room_id)
    if found is None:
        raise services.RoomNotFound
    return found


def _view(request: Request, room_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    room, member = member_of(request, room_id)
    return Response(selectors.room_member_view(room=room, member=member), status=code)


def _link_data(request: Request, link: RoomInvitation) -> dict[str, Any]:
    data = selectors.invite_link_data(link)
    data["url"] = request.build_absolute_uri(data["path"])
    return data


# --- rooms --------------------------------------------------------------------------------------


class RoomListCreateApi(GenericAPIView):  # type: ignore[type-arg]
    serializer_class = RoomListItemOutputSerializer

    def get_queryset(self) -> QuerySet[RoomMember]:
        return selectors.room_membership_list(user=self.request.user)

    @extend_schema(
        tags=TAGS,
        operation_id="rooms_list",
        responses={200: RoomListItemOutputSerializer(many=True)},
        summary="Your rooms, newest message first, with unread counts",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(selectors.room_list_data(page or []))

    @extend_schema(
        tags=TAGS,
        request=RoomCreateInputSerializer,
        responses={201: RoomMemberViewOutputSerializer},
        summary="Create a room (you own it)",
        description="Without `watchlist`, a new watchlist named after the room is "
        "created and shared with its members.",
    )
    def post(self, request: Request) -> Response:
        serializer = RoomCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        room = services.room_create(
            by=request_user(request),
            name=data["name"],
            description=data["description"],
            visibility=data["visibility"],
            watchlist_id=data["watchlist"],
        )
        return _view(request, room.pk, code=status.HTTP_201_CREATED)


class RoomDiscoverApi(GenericAPIView):  # type: ignore[type-arg]
    serializer_class = RoomDiscoverOutputSerializer

    @extend_schema(
        tags=TAGS,
        parameters=[RoomDiscoverFilterSerializer],
        responses={200: RoomDiscoverOutputSerializer(many=True)},
        summary="Discoverable rooms you are not in (search by name with q)",
    )
    def get(self, request: Request) -> Response:
        query = RoomDiscoverFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rooms = selectors.room_discover_list(user=request.user, query=query.validated_data["q"])
        page = self.paginate_queryset(rooms)
        return self.get_paginated_response([selectors.room_discover_data(r) for r in page or []])


class RoomDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: RoomMemberViewOutputSerializer, **NOT_FOUND},
        summary="A room, your role and unread count",
    )
    def get(self, request: Request, room_id: int) -> Response:
        return _view(request, room_id)

    @extend_schema(
        tags=TAGS,
        request=RoomUpdateInputSerializer,
        responses={200: RoomMemberViewOutputSerializer, **_DENIED},
        summary="Change a room (name, description: moderators; visibility, watchlist: owner)",
    )
    def patch(self, request: Request, room_id: int) -> Response:
        serializer = RoomUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.room_update(
            room_id=room_id,
            by=request_user(request),
            name=data.get("name", services.UNSET),
            description=data.get("description", services.UNSET),
            visibility=data.get("visibility", services.UNSET),
            watchlist_id=data.get("watchlist", services.UNSET),
        )
        return _view(request, room_id)

    @extend_schema(tags=TAGS, responses={204: None, **_DENIED}, summary="Delete a room (owner)")
    def delete(self, request: Request, room_id: int) -> Response:
        services.room_delete(room_id=room_id, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomJoinApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: RoomMemberViewOutputSerializer, 400: None, **NOT_FOUND},
        summary="Join a discoverable room",
    )
    def post(self, request: Request, room_id: int) -> Response:
        services.room_join(room_id=room_id, by=request_user(request))
        return _view(request, room_id)


class RoomLeaveApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={204: None, 400: None, **NOT_FOUND},
        summary="Leave a room (the owner transfers ownership first)",
    )
    def post(self, request: Request, room_id: int) -> Response:
        services.room_leave(room_id=room_id, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomTransferApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=RoomOwnerTransferInputSerializer,
        responses={200: RoomMemberViewOutputSerializer, **_DENIED},
        summary="Transfer ownership to a member (owner; you become a moderator)",
    )
    def post(self, request: Request, room_id: int) -> Response:
        serializer = RoomOwnerTransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.room_owner_transfer(
            room_id=room_id, user_id=serializer.validated_data["user"], by=request_user(request)
        )
        return _view(request, room_id)


# --- members ------------------------------------------------------------------------------------


class RoomMemberListApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: RoomMemberOutputSerializer(many=True), **NOT_FOUND},
        summary="Members: the owner, moderators, then members",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room, _member = member_of(request, room_id)
        members = selectors.room_member_list(room=room)
        return Response([selectors.member_data(m) for m in members])


class RoomMemberDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=RoomMemberRoleInputSerializer,
        responses={200: RoomMemberOutputSerializer, **_DENIED},
        summary="Make a member a moderator or back (owner)",
    )
    def patch(self, request: Request, room_id: int, user_id: int) -> Response:
        serializer = RoomMemberRoleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.room_member_role_set(
            room_id=room_id,
            user_id=user_id,
            role=serializer.validated_data["role"],
            by=request_user(request),
        )
        return Response(selectors.member_data(member))

    @extend_schema(
        tags=TAGS,
        responses={204: None, **_DENIED},
        summary="Remove a member (owner; moderators remove members only)",
    )
    def delete(self, request: Request, room_id: int, user_id: int) -> Response:
        services.room_member_remove(room_id=room_id, user_id=user_id, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations --------------------------------------------------------------------------------


class RoomInvitationListCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: RoomInvitationOutputSerializer(many=True), **_DENIED},
        summary="Pending invitations of the room (owner, moderators)",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room, member = member_of(request, room_id)
        role_require(member, RoomRole.MODERATOR)
        invitations = selectors.room_invitation_list(room=room)
        return Response([selectors.invitation_data(i) for i in invitations])

    @extend_schema(
        tags=TAGS,
        request=RoomInvitationInputSerializer,
        responses={201: RoomInvitationOutputSerializer, **_DENIED},
        summary="Invite someone by e-mail address or display name (owner, moderators)",
    )
    def post(self, request: Request, room_id: int) -> Response:
        serializer = RoomInvitationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.room_invitation_create(
            room_id=room_id, user=serializer.validated_data["user"], by=request_user(request)
        )
        return Response(selectors.invitation_data(invitation), status=status.HTTP_201_CREATED)


class RoomInvitationDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={204: None, **_DENIED},
        summary="Withdraw an invitation (owner, moderators)",
    )
    def delete(self, request: Request, room_id: int, invitation_id: int) -> Response:
        services.room_invitation_revoke(
            room_id=room_id, invitation_id=invitation_id, by=request_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyRoomInvitationListApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="rooms_invitations_mine",
        responses={200: RoomInvitationOutputSerializer(many=True)},
        summary="Rooms you were invited to and have not answered",
    )
    def get(self, request: Request) -> Response:
        invitations = selectors.room_invitation_list_for_user(user=request.user)
        return Response([selectors.invitation_data(i) for i in invitations])


class RoomInvitationAcceptApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: RoomMemberViewOutputSerializer, 400: None, **NOT_FOUND},
        summary="Accept an invitation (join the room)",
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        invitation = services.room_invitation_respond(
            invitation_id=invitation_id, accept=True, by=request_user(request)
        )
        return _view(request, invitation.room_id)


class RoomInvitationDeclineApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={204: None, **NOT_FOUND},
        summary="Decline an invitation",
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        services.room_invitation_respond(
            invitation_id=invitation_id, accept=False, by=request_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomInviteLinkListCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: RoomInviteLinkOutputSerializer(many=True), **_DENIED},
        summary="Invite links not revoked (owner, moderators)",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room, member = member_of(request, room_id)
        role_require(member, RoomRole.MODERATOR)
        links = selectors.room_invite_link_list(room=room)
        return Response([_link_data(request, link) for link in links])

    @extend_schema(
        tags=TAGS,
        request=RoomInviteLinkInputSerializer,
        responses={201: RoomInviteLinkOutputSerializer, **_DENIED},
        summary="Create an invite link (owner, moderators)",
        description="Valid for 7 days; `max_uses` limits how many can join with it.",
    )
    def post(self, request: Request, room_id: int) -> Response:
        serializer = RoomInviteLinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.room_invite_link_create(
            room_id=room_id,
            by=request_user(request),
            max_uses=serializer.validated_data["max_uses"],
        )
        return Response(_link_data(request, link), status=status.HTTP_201_CREATED)


class RoomInviteLinkDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        responses={204: None, **_DENIED},
        summary="Revoke an invite link (owner, moderators)",
    )
    def delete(self, request: Request, room_id: int, link_id: int) -> Response:
        services.room_invite_link_revoke(room_id=room_id, link_id=link_id, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomJoinByLinkApi(APIView):
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={200: RoomMemberViewOutputSerializer, 400: None, 410: None, **NOT_FOUND},
        operation_id="rooms_join_by_link",
        summary="Join the room of an invite link",
        description="410 when the link expired, was revoked or is used up; the message says which.",
    )
    def post(self, request: Request, token: str) -> Response:
        try:
            room = services.room_join_by_link(token=token, by=request_user(request))
        except services.InviteLinkGone as exc:
            raise Gone(exc.message) from exc
        return _view(request, room.pk)
