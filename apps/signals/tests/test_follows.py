"""Follow services: what can be followed, duplicates, and the per-user cap."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.market.models import Instrument
from apps.signals.follows import MAX_FOLLOWS_PER_USER, signal_follow_create, signal_follow_delete
from apps.signals.models import SignalFollow
from apps.signals.strategies import STRATEGIES

pytestmark = pytest.mark.django_db


def test_a_strategy_follow_drops_a_stray_instrument(user: Any, reliance: Instrument) -> None:
    follow = signal_follow_create(
        user=user, kind="strategy", strategy="supertrend", instrument=reliance, timeframe="15m"
    )
    assert (follow.strategy, follow.instrument, follow.timeframe) == ("supertrend", None, "15m")


def test_the_same_target_on_another_timeframe_is_another_follow(
    user: Any, reliance: Instrument
) -> None:
    signal_follow_create(user=user, kind="instrument", instrument=reliance)
    signal_follow_create(user=user, kind="instrument", instrument=reliance, timeframe="1d")
    with pytest.raises(ValidationError) as caught:
        signal_follow_create(user=user, kind="instrument", instrument=reliance, timeframe="1d")
    assert caught.value.message_dict == {"non_field_errors": ["You already follow this."]}
    assert SignalFollow.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "strategy", "strategy": "astrology"}, "strategy"),
        ({"kind": "instrument"}, "symbol"),
        ({"kind": "sector"}, "kind"),
        ({"kind": "strategy", "strategy": "supertrend", "timeframe": "2d"}, "timeframe"),
    ],
)
def test_invalid_follows_name_the_field(user: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        signal_follow_create(user=user, **kwargs)
    assert list(caught.value.message_dict) == [field]


def test_a_user_can_follow_at_most_the_cap(
    user: Any, other_user: Any, market_seed: None, settings: Any
) -> None:
    instruments = list(Instrument.objects.all()[:50])
    timeframes = ["", "1d"]
    SignalFollow.objects.bulk_create(
        SignalFollow(user=user, kind="instrument", instrument=i, timeframe=t)
        for i in instruments
        for t in timeframes
    )
    assert SignalFollow.objects.filter(user=user).count() == MAX_FOLLOWS_PER_USER == 100
    with pytest.raises(ValidationError) as caught:
        signal_follow_create(user=user, kind="strategy", strategy=next(iter(STRATEGIES)))
    assert "at most 100" in caught.value.message_dict["non_field_errors"][0]
    # Another user's follows do not count against this one.
    signal_follow_create(user=other_user, kind="strategy", strategy="supertrend")
    signal_follow_delete(follow=SignalFollow.objects.filter(user=user).first())  # type: ignore[arg-type]
    signal_follow_create(user=user, kind="strategy", strategy="supertrend")
    assert SignalFollow.objects.filter(user=user).count() == 100
