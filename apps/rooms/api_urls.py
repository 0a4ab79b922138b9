from django.urls import path

from apps.rooms import api, api_messages

urlpatterns = [
    path("rooms/", api.RoomListCreateApi.as_view(), name="api-rooms"),
    path("rooms/discover/", api.RoomDiscoverApi.as_view(), name="api-rooms-discover"),
    path("rooms/activity/", api_messages.MyActivityApi.as_view(), name="api-rooms-activity"),
    path(
        "rooms/invitations/",
        api.MyRoomInvitationListApi.as_view(),
        name="api-room-invitations-mine",
    ),
    path(
        "rooms/invitations/<int:invitation_id>/accept/",
        api.RoomInvitationAcceptApi.as_view(),
        name="api-room-invitation-accept",
    ),
    path(
        "rooms/invitations/<int:invitation_id>/decline/",
        api.RoomInvitationDeclineApi.as_view(),
        name="api-room-invitation-decline",
    ),
    path("rooms/join/<str:token>/", api.RoomJoinByLinkApi.as_view(), name="api-room-join-link"),
    path("rooms/<int:room_id>/", api.RoomDetailApi.as_view(), name="api-room"),
    path("rooms/<int:room_id>/join/", api.RoomJoinApi.as_view(), name="api-room-join"),
    path("rooms/<int:room_id>/leave/", api.RoomLeaveApi.as_view(), name="api-room-leave"),
    path("rooms/<int:room_id>/transfer/", api.RoomTransferApi.as_view(), name="api-room-transfer"),
    path("rooms/<int:room_id>/members/", api.RoomMemberListApi.as_view(), name="api-room-members"),
    path(
        "rooms/<int:room_id>/members/<int:user_id>/",
        api.RoomMemberDetailApi.as_view(),
        name="api-room-member",
    ),
    path(
        "rooms/<int:room_id>/invitations/",
        api.RoomInvitationListCreateApi.as_view(),
        name="api-room-invitations",
    ),
    path(
        "rooms/<int:room_id>/invitations/<int:invitation_id>/",
        api.RoomInvitationDetailApi.as_view(),
        name="api-room-invitation",
    ),
    path(
        "rooms/<int:room_id>/invite-links/",
        api.RoomInviteLinkListCreateApi.as_view(),
        name="api-room-invite-links",
    ),
    path(
        "rooms/<int:room_id>/invite-links/<int:link_id>/",
        api.RoomInviteLinkDetailApi.as_view(),
        name="api-room-invite-link",
    ),
    path(
        "rooms/<int:room_id>/messages/",
        api_messages.RoomMessageListCreateApi.as_view(),
        name="api-room-messages",
    ),
    path(
        "rooms/<int:room_id>/messages/<int:message_id>/",
        api_messages.RoomMessageDetailApi.as_view(),
        name="api-room-message",
    ),
    path(
        "rooms/<int:room_id>/messages/<int:message_id>/reactions/",
        api_messages.RoomReactionApi.as_view(),
        name="api-room-message-reactions",
    ),
    path(
        "rooms/<int:room_id>/messages/<int:message_id>/copy-alert/",
        api_messages.RoomAlertCopyApi.as_view(),
        name="api-room-message-copy-alert",
    ),
    path("rooms/<int:room_id>/read/", api_messages.RoomReadApi.as_view(), name="api-room-read"),
    path(
        "rooms/<int:room_id>/activity/",
        api_messages.RoomActivityApi.as_view(),
        name="api-room-activity",
    ),
]
