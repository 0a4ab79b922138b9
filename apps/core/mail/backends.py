"""E-mail backends.

`QueuedEmailBackend` (the default) hands each message to the `send_email` Celery task,
which sends it through `EMAIL_DELIVERY_BACKEND`: SendGrid when `SENDGRID_API_KEY` is set,
otherwise the console of `make run`, marked so nobody mistakes it for sent mail.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from sendgrid.helpers.mail import Content, Email, Mail, To

from apps.core.http import HttpError, http_request

SENDGRID_SEND_URL = "https://api.sendgrid.com/v3/mail/send"


def message_to_dict(message: EmailMessage) -> dict[str, Any]:
    alternatives = list(getattr(message, "alternatives", []) or [])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[str(content), mimetype] for content, mimetype in alternatives],
    }


def message_from_dict(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


class QueuedEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from apps.core.tasks import send_email

        for message in email_messages:
            send_email.delay(message_to_dict(message))
        return len(email_messages)


class MarkedConsoleEmailBackend(ConsoleEmailBackend):
    """Prints mail to the console with a banner: no e-mail provider is configured."""

    banner = (
        "==== StockSense e-mail — NOT SENT (no SENDGRID_API_KEY): printed here instead ====\n"
    )

    def write_message(self, message: EmailMessage) -> None:
        # A readable summary first: the raw MIME below encodes non-ASCII text.
        self.stream.write(self.banner)
        self.stream.write(f"To: {', '.join(message.to)}\nSubject: {message.subject}\n\n")
        self.stream.write(f"{message.body}\n---- raw message ----\n")
        super().write_message(message)
        self.stream.flush()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stdout)
        super().__init__(*args, **kwargs)


class SendGridEmailBackend(BaseEmailBackend):
    """Sends through SendGrid's v3 Mail Send API."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.api_key = settings.SENDGRID_API_KEY

    def _payload(self, message: EmailMessage) -> dict[str, Any]:
        mail = Mail(
            from_email=Email(message.from_email),
            to_emails=[To(address) for address in message.to],
            subject=str(message.subject),
        )
        mail.add_content(Content("text/plain", str(message.body)))
        for content, mimetype in getattr(message, "alternatives", []) or []:
            if mimetype == "text/html":
                mail.add_content(Content("text/html", str(content)))
        payload: dict[str, Any] = mail.get()
        if message.cc:
            payload["personalizations"][0]["cc"] = [{"email": a} for a in message.cc]
        if message.bcc:
            payload["personalizations"][0]["bcc"] = [{"email": a} for a in message.bcc]
        if message.reply_to:
            payload["reply_to"] = {"email": message.reply_to[0]}
        for filename, content, mimetype in message.attachments:  # type: ignore[misc]
            raw = content if isinstance(content, bytes) else str(content).encode()
            payload.setdefault("attachments", []).append(
                {
                    "content": base64.b64encode(raw).decode(),
                    "filename": filename,
                    "type": mimetype or "application/octet-stream",
                }
            )
        return payload

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                http_request(
                    "POST",
                    SENDGRID_SEND_URL,
                    json=self._payload(message),
                    headers={"Authorization": f"Bearer {self.api_key}"},
                )
            except HttpError:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent
