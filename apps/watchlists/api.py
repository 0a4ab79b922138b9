"""Watchlists over REST: lists, their items and order, sharing and invitations.

A watchlist the caller cannot see answers 404 exactly like a missing one; a change the
caller's role does not allow answers 403 (see `services`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.watchlists import selectors, services
from apps.watchlists.models import Watchlist, WatchlistMember
from apps.watchlists.serializers import (
    InvitationOutputSerializer,
    ItemAddInputSerializer,
    ItemNoteInputSerializer,
    ItemOrderInputSerializer,
    ItemOutputSerializer,
    MemberInviteInputSerializer,
    MemberOutputSerializer,
    MemberRoleInputSerializer,
    WatchlistInputSerializer,
    WatchlistOutputSerializer,
    WatchlistSummaryOutputSerializer,
)

_TAGS = ["watchlists"]
_NOT_FOUND = {404: None}


def _visible(request: Request, watchlist_id: int) -> tuple[Watchlist, str]:
    found = selectors.watchlist_get_for_user(user=request.user, watchlist_id=watchlist_id)
    if found is None:
        raise services.WatchlistNotFound
    return found


def _snapshot(request: Request, watchlist_id: int) -> Response:
    watchlist, role = _visible(request, watchlist_id)
    snapshot = selectors.watchlist_snapshot(watchlist=watchlist, role=role)
    return Response(WatchlistOutputSerializer(snapshot).data)


class WatchlistListCreateApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = WatchlistSummaryOutputSerializer

    def get_queryset(self) -> QuerySet[Watchlist]:
        return selectors.watchlist_list_for_user(user=self.request.user)

    @extend_schema(tags=_TAGS, summary="Your watchlists, then those shared with you")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=_TAGS, request=WatchlistInputSerializer,
                   responses={201: WatchlistOutputSerializer}, summary="Create a watchlist")
    def post(self, request: Request) -> Response:
        serializer = WatchlistInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        watchlist = services.watchlist_create(
            name=serializer.validated_data["name"], by=request.user  # type: ignore[arg-type]
        )
        snapshot = selectors.watchlist_snapshot(watchlist=watchlist, role="owner")
        return Response(WatchlistOutputSerializer(snapshot).data, status=status.HTTP_201_CREATED)


class WatchlistDetailApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: WatchlistOutputSerializer, **_NOT_FOUND},
                   summary="A watchlist with its items and members")
    def get(self, request: Request, watchlist_id: int) -> Response:
        return _snapshot(request, watchlist_id)

    @extend_schema(tags=_TAGS, request=WatchlistInputSerializer,
                   responses={200: WatchlistOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Rename a watchlist (owner)")
    def patch(self, request: Request, watchlist_id: int) -> Response:
        serializer = WatchlistInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.watchlist_rename(
            watchlist_id=watchlist_id,
            name=serializer.validated_data["name"],
            by=request.user,  # type: ignore[arg-type]
        )
        return _snapshot(request, watchlist_id)

    @extend_schema(tags=_TAGS, responses={204: None, 403: None, **_NOT_FOUND},
                   summary="Delete a watchlist (owner)")
    def delete(self, request: Request, watchlist_id: int) -> Response:
        services.watchlist_delete(watchlist_id=watchlist_id, by=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchlistItemCreateApi(APIView):
    @extend_schema(tags=_TAGS, request=ItemAddInputSerializer,
                   responses={201: ItemOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Add an instrument (editor, owner)")
    def post(self, request: Request, watchlist_id: int) -> Response:
        serializer = ItemAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.watchlist_item_add(
            watchlist_id=watchlist_id,
            symbol=serializer.validated_data["symbol"],
            note=serializer.validated_data["note"],
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(selectors.item_data(item), status=status.HTTP_201_CREATED)


class WatchlistItemDetailApi(APIView):
    @extend_schema(tags=_TAGS, request=ItemNoteInputSerializer,
                   responses={200: ItemOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Change an item's note (editor, owner)")
    def patch(self, request: Request, watchlist_id: int, item_id: int) -> Response:
        serializer = ItemNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.watchlist_item_note(
            watchlist_id=watchlist_id,
            item_id=item_id,
            note=serializer.validated_data["note"],
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(selectors.item_data(item))

    @extend_schema(tags=_TAGS, responses={204: None, 403: None, **_NOT_FOUND},
                   summary="Remove an instrument (editor, owner)")
    def delete(self, request: Request, watchlist_id: int, item_id: int) -> Response:
        services.watchlist_item_remove(
            watchlist_id=watchlist_id, item_id=item_id, by=request.user  # type: ignore[arg-type]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WatchlistOrderApi(APIView):
    @extend_schema(tags=_TAGS, request=ItemOrderInputSerializer,
                   responses={200: WatchlistOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Reorder the items (editor, owner)",
                   description="`item_ids` must list every current item exactly once.")
    def put(self, request: Request, watchlist_id: int) -> Response:
        serializer = ItemOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.watchlist_items_reorder(
            watchlist_id=watchlist_id,
            item_ids=serializer.validated_data["item_ids"],
            by=request.user,  # type: ignore[arg-type]
        )
        return _snapshot(request, watchlist_id)


class WatchlistMemberListCreateApi(APIView):
    @extend_schema(tags=_TAGS, responses={200: MemberOutputSerializer(many=True), **_NOT_FOUND},
                   summary="Who the watchlist is shared with")
    def get(self, request: Request, watchlist_id: int) -> Response:
        watchlist, _ = _visible(request, watchlist_id)
        members = selectors.watchlist_member_list(watchlist=watchlist)
        return Response(MemberOutputSerializer(members, many=True).data)

    @extend_schema(tags=_TAGS, request=MemberInviteInputSerializer,
                   responses={201: MemberOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Invite a user by e-mail (owner)")
    def post(self, request: Request, watchlist_id: int) -> Response:
        serializer = MemberInviteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.watchlist_member_invite(
            watchlist_id=watchlist_id,
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class WatchlistMemberDetailApi(APIView):
    @extend_schema(tags=_TAGS, request=MemberRoleInputSerializer,
                   responses={200: MemberOutputSerializer, 403: None, **_NOT_FOUND},
                   summary="Change a member's role (owner)")
    def patch(self, request: Request, watchlist_id: int, member_id: int) -> Response:
        serializer = MemberRoleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.watchlist_member_set_role(
            watchlist_id=watchlist_id,
            member_id=member_id,
            role=serializer.validated_data["role"],
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(MemberOutputSerializer(member).data)

    @extend_schema(tags=_TAGS, responses={204: None, 403: None, **_NOT_FOUND},
                   summary="Remove a member (owner) or leave (the member)")
    def delete(self, request: Request, watchlist_id: int, member_id: int) -> Response:
        services.watchlist_member_remove(
            watchlist_id=watchlist_id, member_id=member_id, by=request.user  # type: ignore[arg-type]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListApi(ListAPIView):  # type: ignore[type-arg]
    serializer_class = InvitationOutputSerializer

    def get_queryset(self) -> QuerySet[WatchlistMember]:
        return selectors.watchlist_invitation_list_for_user(user=self.request.user)  # type: ignore[arg-type]

    @extend_schema(tags=_TAGS, summary="Watchlists you were invited to and have not answered")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class InvitationAcceptApi(APIView):
    @extend_schema(tags=_TAGS, request=None,
                   responses={200: WatchlistOutputSerializer, **_NOT_FOUND},
                   summary="Accept an invitation")
    def post(self, request: Request, member_id: int) -> Response:
        member = services.watchlist_member_respond(
            member_id=member_id, accept=True, by=request.user  # type: ignore[arg-type]
        )
        return _snapshot(request, member.watchlist_id)


class InvitationDeclineApi(APIView):
    @extend_schema(tags=_TAGS, request=None, responses={204: None, **_NOT_FOUND},
                   summary="Decline an invitation")
    def post(self, request: Request, member_id: int) -> Response:
        services.watchlist_member_respond(
            member_id=member_id, accept=False, by=request.user  # type: ignore[arg-type]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
