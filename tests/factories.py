from __future__ import annotations

from typing import Any

import factory

from apps.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"investor{n}@example.com")
    display_name = factory.Faker("name", locale="en_IN")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        obj.set_password(extracted or "correct horse battery staple 42")
        if create:
            obj.save()
