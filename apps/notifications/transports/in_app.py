"""In-app: the `Notification` row is the message and the service already pushed
`notification.new` to the user's sockets after commit, so there is nothing left to send."""

from __future__ import annotations

from typing import ClassVar

from apps.notifications.transports.base import Message, Transport


class InAppTransport(Transport):
    kind = "in_app"
    verified_on_create: ClassVar[bool] = True

    def send(self, message: Message) -> str:
        return f"in-app:{message.notification_id or ''}"
