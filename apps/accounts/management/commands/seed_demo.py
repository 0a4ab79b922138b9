from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts.models import User

DEMO_ACCOUNTS = (
    # email, password, display name, superuser
    ("demo@stocksense.local", "demo-investor-2026", "Demo Investor", False),
    ("admin@stocksense.local", "demo-admin-2026", "Demo Admin", True),
)


class Command(BaseCommand):
    help = "Create the demo accounts named in README.md (idempotent; local use only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Allow running with DEBUG off."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Demo accounts are for local use; pass --force to insist.")
        for email, password, name, superuser in DEMO_ACCOUNTS:
            user = User.objects.filter(email=email).first()
            if user is None:
                create = User.objects.create_superuser if superuser else User.objects.create_user
                user = create(email, password, display_name=name)
                self.stdout.write(f"Created {email}")
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        self.stdout.write(self.style.SUCCESS("Demo accounts ready."))
