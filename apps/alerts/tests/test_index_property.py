"""Property: the index fires exactly what a plain reference evaluator fires.

The reference below is written independently of the index: for every accepted tick it
recomputes every condition of every rule from scratch and fires on a change of the
combination from false to true, with the trigger-mode rules of docs/alerts.md.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.alerts.engine.index import AlertIndex, RuleSpec
from apps.alerts.engine.series import bucket_of

SYMBOLS = ["AAA", "BBB", "CCC"]
PREV_CLOSE = 100.0
US = 1_000_000
T0 = 1_767_000_000 * US  # some day; buckets are computed the same way on both sides

price_conditions = st.one_of(
    st.builds(lambda t, v: {"type": t, "value": str(v)},
              st.sampled_from(["price_above", "price_below", "crossing_up", "crossing_down"]),
              st.integers(90, 110)),
    st.builds(lambda v, d: {"type": "change_percent", "value": str(v), "direction": d},
              st.integers(1, 8), st.sampled_from(["up", "down"])),
)
rules = st.lists(
    st.fixed_dictionaries({
        "symbols": st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=2, unique=True),
        "conditions": st.lists(price_conditions, min_size=1, max_size=3),
        "combine": st.sampled_from(["all", "any"]),
        "mode": st.sampled_from(["once", "once_per_bar", "every_time"]),
        "cooldown": st.sampled_from([0, 30, 120]),
        "armed": st.booleans(),
    }),
    min_size=1, max_size=12,
)
# Ticks: (symbol, seconds offset, price). Prices on a coarse grid so thresholds get hit
# exactly, offsets repeat and go backwards (repeated and out-of-order ticks).
ticks = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), st.integers(0, 900), st.integers(880, 1120)),
    min_size=1, max_size=80,
)


def _spec(position: int, raw: dict[str, Any]) -> RuleSpec:
    return RuleSpec(
        id=position + 1, user_id=1, symbols=raw["symbols"], conditions=raw["conditions"],
        combine=raw["combine"], mode=raw["mode"], bar_timeframe="5m",
        cooldown_seconds=raw["cooldown"], armed=raw["armed"],
    )


# --- the reference evaluator ------------------------------------------------------------------


def _holds(condition: dict[str, Any], price: float) -> bool:
    kind, value = condition["type"], float(condition["value"])
    if kind in ("price_above", "crossing_up"):
        return price > value
    if kind in ("price_below", "crossing_down"):
        return price < value
    change = (price - PREV_CLOSE) / PREV_CLOSE * 100.0
    return change > value if condition["direction"] == "up" else change < -value


def _is_cross(condition: dict[str, Any]) -> bool:
    return condition["type"].startswith("crossing")


def reference(specs: list[RuleSpec], stream: list[tuple[str, int, float]]) -> list[tuple]:
    last_at: dict[str, int] = {}
    state: dict[tuple[int, str], bool | None] = {}
    last_fire: dict[tuple[int, str], int] = {}
    last_bar: dict[tuple[int, str], int] = {}
    dead: set[int] = set()
    out = []
    for symbol, at, price in stream:
        if at <= last_at.get(symbol, -1):
            continue
        last_at[symbol] = at
        for spec in specs:
            if spec.id in dead or symbol not in spec.symbols:
                continue
            key = (spec.id, symbol)
            combined = [_holds(c, price) for c in spec.conditions]
            now = all(combined) if spec.combine == "all" else any(combined)
            before = state.get(key)
            state[key] = now
            if before is None:
                may_fire_on_first_look = spec.armed and not any(
                    _is_cross(c) for c in spec.conditions)
                fire = now and may_fire_on_first_look
            else:
                fire = now and not before
            if not fire:
                continue
            if spec.mode == "once":
                dead.add(spec.id)
                out.append((spec.id, symbol, at, "once"))
            elif spec.mode == "once_per_bar":
                bar = bucket_of(at, "5m")
                if last_bar.get(key) == bar:
                    continue
                last_bar[key] = bar
                out.append((spec.id, symbol, at, f"bar:5m:{bar}"))
            else:
                if key in last_fire and at - last_fire[key] < spec.cooldown_seconds * US:
                    continue
                last_fire[key] = at
                out.append((spec.id, symbol, at, f"t:{at}"))
    return out


def run_index(specs: list[RuleSpec], stream: list[tuple[str, int, float]]) -> list[tuple]:
    index = AlertIndex()
    index.add_many(specs)
    for symbol, at, price in stream:
        index.process(symbol, at, price, PREV_CLOSE, 0.0)
    return [(f.rule_id, f.symbol, f.at_us, f.crossing_key) for f in index.drain()]


def _stream(raw: list[tuple[str, int, int]]) -> list[tuple[str, int, float]]:
    return [(symbol, T0 + offset * US, price / 10) for symbol, offset, price in raw]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules, ticks)
def test_index_fires_exactly_what_the_reference_fires(raw_rules: list, raw_ticks: list) -> None:
    specs = [_spec(i, r) for i, r in enumerate(raw_rules)]
    stream = _stream(raw_ticks)
    got = run_index(specs, stream)
    expected = reference(specs, stream)
    assert sorted(got) == sorted(expected)
    assert len(set(got)) == len(got)  # each firing once


def test_one_shot_rules_leave_the_index_as_they_fire() -> None:
    index = AlertIndex()
    index.add_many(RuleSpec(id=i, user_id=1, symbols=["AAA"],
                            conditions=[{"type": "crossing_up", "value": str(100 + i)}])
                   for i in range(10))
    index.process("AAA", T0, 99.0)
    index.process("AAA", T0 + US, 104.5)
    assert sorted(f.rule_id for f in index.drain()) == [0, 1, 2, 3, 4]
    assert sorted(index.rules) == [5, 6, 7, 8, 9]
    assert index.prices["AAA"].gt_k == [105.0, 106.0, 107.0, 108.0, 109.0]
    index.process("AAA", T0 + 2 * US, 99.0)
    index.process("AAA", T0 + 3 * US, 104.5)
    assert index.drain() == []


def test_removing_a_rule_takes_it_out_of_every_book() -> None:
    index = AlertIndex()
    index.add(RuleSpec(id=1, user_id=1, symbols=["AAA", "BBB"], conditions=[
        {"type": "price_above", "value": "10"}, {"type": "price_below", "value": "20"}]))
    assert index.prices["AAA"].size() == 2
    index.remove(1)
    assert index.prices["AAA"].size() == 0
    assert index.prices["BBB"].size() == 0
