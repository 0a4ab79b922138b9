from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.notifications.transports.web_push import vapid_keys_generate


class Command(BaseCommand):
    help = "Print a new VAPID key pair for browser push, as environment variables."

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = vapid_keys_generate()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}\nWEBPUSH_VAPID_PRIVATE_KEY={private}")
