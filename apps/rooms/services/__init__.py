"""Writes for rooms. Each runs in one transaction and publishes its events after commit.

- `common`: errors (`RoomNotFound` 404, `RoomPermissionDenied` 403, `RoomRateLimited`,
  `InviteLinkGone` 410), the room lock, activity rows and member events.
- `rooms`: rooms, membership, roles, ownership, read marks.
- `invitations`: invitations to users and invite links.
- `messages`: messages, reactions, copying a shared alert; `shares`: the cards.
- `watchlist_access`: room members' access to the room's shared watchlist.
"""

from apps.rooms.services.alert_shares import SharedFiring, room_alert_firings_share
from apps.rooms.services.common import (
    InviteLinkGone,
    RoomNotFound,
    RoomPermissionDenied,
    RoomRateLimited,
    activity_record,
)
from apps.rooms.services.invitations import (
    room_invitation_create,
    room_invitation_respond,
    room_invitation_revoke,
    room_invite_link_create,
    room_invite_link_revoke,
    room_join_by_link,
)
from apps.rooms.services.messages import (
    MESSAGE_EDIT_WINDOW,
    message_alert_copy,
    message_create,
    message_delete,
    message_edit,
    message_post,
    reaction_toggle,
)
from apps.rooms.services.rooms import (
    UNSET,
    room_create,
    room_delete,
    room_join,
    room_leave,
    room_mark_read,
    room_member_remove,
    room_member_role_set,
    room_owner_transfer,
    room_update,
)
from apps.rooms.services.watchlist_access import room_watchlist_changed, watchlist_access_sync

__all__ = [
    "MESSAGE_EDIT_WINDOW",
    "UNSET",
    "InviteLinkGone",
    "RoomNotFound",
    "RoomPermissionDenied",
    "RoomRateLimited",
    "activity_record",
    "message_alert_copy",
    "message_create",
    "message_delete",
    "message_edit",
    "message_post",
    "reaction_toggle",
    "room_create",
    "room_delete",
    "room_invitation_create",
    "room_invitation_respond",
    "room_invitation_revoke",
    "room_invite_link_create",
    "room_invite_link_revoke",
    "room_join",
    "room_join_by_link",
    "room_leave",
    "room_mark_read",
    "room_member_remove",
    "room_member_role_set",
    "room_owner_transfer",
    "room_update",
    "room_watchlist_changed",
    "room_alert_firings_share",
    "SharedFiring",
    "watchlist_access_sync",
]
