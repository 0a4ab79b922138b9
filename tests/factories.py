from __future__ import annotations

from typing import Any

import factory

from apps.accounts.models import User
from apps.rooms.models import Room, RoomMember
from apps.watchlists.models import Watchlist, WatchlistMember


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


class WatchlistFactory(factory.django.DjangoModelFactory[Watchlist]):
    """Created directly (no events, no limits); use the services to test behaviour."""

    class Meta:
        model = Watchlist

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Watchlist {n}")
    position = factory.Sequence(lambda n: n)


class WatchlistMemberFactory(factory.django.DjangoModelFactory[WatchlistMember]):
    class Meta:
        model = WatchlistMember

    watchlist = factory.SubFactory(WatchlistFactory)
    user = factory.SubFactory(UserFactory)
    role = "viewer"
    status = "accepted"
    invited_by = factory.SelfAttribute("watchlist.owner")


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    """Created directly (no events, no caps, no shared watchlist unless given), with the
    owner's member row; use the services to test behaviour."""

    class Meta:
        model = Room
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Room {n}")

    @factory.post_generation
    def owner_member(obj: Room, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            RoomMember.objects.create(room=obj, user=obj.owner, role="owner")


class RoomMemberFactory(factory.django.DjangoModelFactory[RoomMember]):
    class Meta:
        model = RoomMember

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"
