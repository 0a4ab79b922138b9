"""The in-memory index of active rules. No I/O: `process` returns the firings.

Every condition is a threshold on a series (`conditions.Watch`). Each series has a *book*:
thresholds kept in sorted lists, so a move of the series from `prev` to `new` finds exactly
the thresholds it crossed with two bisections. The cost of a tick is two bisections plus the
number of conditions that change state; rules that stay as they were are never looked at.

Single-condition rules fire straight from the range lookup; a one-shot rule is removed from
its list as it fires. Multi-condition rules are re-evaluated only when one of their
conditions changed state in this tick (after every series of the tick has moved).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from apps.alerts.conditions import Watch, condition_watch
from apps.alerts.engine.series import Series, bucket_of, series_make

ONCE, PER_BAR, EVERY = "once", "once_per_bar", "every_time"
US = 1_000_000


@dataclass
class RuleSpec:
    """What the engine needs of an AlertRule (built by `loader`, or directly in benchmarks)."""

    id: int
    user_id: int
    symbols: list[str]
    conditions: list[dict[str, Any]]
    combine: str = "all"
    mode: str = ONCE
    bar_timeframe: str = ""
    cooldown_seconds: int = 0
    expires_at_us: int | None = None
    # Level conditions fire when first seen true unless the rule fired since its last edit
    # (so a restart does not fire again a rule that already told the user).
    armed: bool = True
    watchlist_id: int | None = None


@dataclass
class Firing:
    rule_id: int
    user_id: int
    symbol: str
    at_us: int
    crossing_key: str
    values: dict[str, Any] = field(default_factory=dict)


class _Rule:
    __slots__ = ("spec", "instances", "alive", "all", "cooldown_us")

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.instances: list[_Inst] = []
        self.alive = True
        self.all = spec.combine == "all"
        self.cooldown_us = spec.cooldown_seconds * US


class _Inst:
    """A rule on one instrument (a watchlist rule has one per item)."""

    __slots__ = ("rule", "symbol", "conds", "state", "last_fire", "last_bar", "multi")

    def __init__(self, rule: _Rule, symbol: str) -> None:
        self.rule = rule
        self.symbol = symbol
        self.conds: list[_Cond] = []
        self.state: bool | None = None  # multi-condition: the combination at the last look
        self.last_fire: int | None = None
        self.last_bar: int | None = None
        self.multi = len(rule.spec.conditions) > 1


class _Cond:
    __slots__ = ("inst", "book", "gt", "threshold", "cross", "index")

    def __init__(self, inst: _Inst, book: Book, watch: Watch, index: int) -> None:
        self.inst = inst
        self.book = book
        self.gt = watch.op == "gt"
        self.threshold = watch.threshold
        self.cross = watch.cross
        self.index = index

    def holds(self) -> bool:
        value = self.book.value
        if value is None:
            return False
        return value > self.threshold if self.gt else value < self.threshold


class Book:
    """The thresholds on one series: single-condition `gt`/`lt` lists (fire on entering),
    multi-condition `mgt`/`mlt` lists (any change of state marks the rule)."""

    __slots__ = ("key", "series", "value", "at", "gt_k", "gt_r", "lt_k", "lt_r", "mgt_k",
                 "mgt_r", "mlt_k", "mlt_r", "fresh", "fresh_multi", "derived", "simple")

    def __init__(self, key: tuple[Any, ...], series: Series | None) -> None:
        self.key = key
        self.series = series
        self.value: float | None = None
        self.at = -1
        self.gt_k: list[float] = []
        self.gt_r: list[_Cond] = []
        self.lt_k: list[float] = []
        self.lt_r: list[_Cond] = []
        self.mgt_k: list[float] = []
        self.mgt_r: list[_Cond] = []
        self.mlt_k: list[float] = []
        self.mlt_r: list[_Cond] = []
        self.fresh: list[_Cond] = []  # armed level conditions: fire when first seen true
        self.fresh_multi: list[_Inst] = []  # multi rules never evaluated yet
        self.derived: list[Book] = []  # price books: the series this instrument moves
        # Only single-condition thresholds, nothing fresh, no derived series: the tick can
        # take the short path in `AlertIndex.process`.
        self.simple = True

    def resimplify(self) -> None:
        self.simple = not (self.mgt_k or self.mlt_k or self.fresh or self.fresh_multi
                           or self.derived)

    def lists(self, cond: _Cond) -> tuple[list[float], list[_Cond]]:
        if cond.inst.multi:
            return (self.mgt_k, self.mgt_r) if cond.gt else (self.mlt_k, self.mlt_r)
        return (self.gt_k, self.gt_r) if cond.gt else (self.lt_k, self.lt_r)

    def insert(self, cond: _Cond) -> None:
        keys, refs = self.lists(cond)
        position = bisect_right(keys, cond.threshold)
        keys.insert(position, cond.threshold)
        refs.insert(position, cond)
        if cond.inst.multi:
            self.simple = False

    def remove(self, cond: _Cond) -> None:
        keys, refs = self.lists(cond)
        position = bisect_left(keys, cond.threshold)
        while position < len(refs) and keys[position] == cond.threshold:
            if refs[position] is cond:
                del keys[position]
                del refs[position]
                self.resimplify()
                return
            position += 1

    def size(self) -> int:
        return len(self.gt_k) + len(self.lt_k) + len(self.mgt_k) + len(self.mlt_k)


Seeder = Callable[[Series], None]


class AlertIndex:
    def __init__(self, seeder: Seeder | None = None) -> None:
        self.rules: dict[int, _Rule] = {}
        self.prices: dict[str, Book] = {}  # price book per instrument key
        self.books: dict[tuple[Any, ...], Book] = {}
        self.seeder = seeder
        self.fired: list[Firing] = []
        self.expired: list[int] = []  # rule ids seen past their expiry
        self._dirty: dict[int, _Inst] = {}

    # --- rules ---------------------------------------------------------------------------

    def _book(self, key: tuple[Any, ...]) -> Book:
        book = self.books.get(key)
        if book is not None:
            return book
        if key[0] == "price":
            book = Book(key, None)
            self.prices[key[1]] = book
        else:
            series = series_make(key)
            if self.seeder is not None and series.needs_history:
                self.seeder(series)
            book = Book(key, series)
            for symbol in series.symbols:
                price_book = self._book(("price", symbol))  # so the symbol's ticks are taken
                price_book.derived.append(book)
                price_book.simple = False
        self.books[key] = book
        return book

    def add(self, spec: RuleSpec) -> None:
        """Add (or replace) a rule."""
        self.remove(spec.id)
        rule = _Rule(spec)
        self.rules[spec.id] = rule
        for symbol in spec.symbols:
            inst = _Inst(rule, symbol)
            rule.instances.append(inst)
            for position, condition in enumerate(spec.conditions):
                watch = condition_watch(condition, symbol)
                book = self._book(watch.series)
                cond = _Cond(inst, book, watch, position)
                inst.conds.append(cond)
                book.insert(cond)
                if not inst.multi and spec.armed and not watch.cross:
                    book.fresh.append(cond)
                    book.simple = False
            if inst.multi:
                for book in {c.book.key: c.book for c in inst.conds}.values():
                    book.fresh_multi.append(inst)
                    book.simple = False

    def add_many(self, specs: Iterable[RuleSpec]) -> None:
        for spec in specs:
            self.add(spec)

    def remove(self, rule_id: int) -> None:
        rule = self.rules.pop(rule_id, None)
        if rule is not None:
            self._drop(rule)

    def _drop(self, rule: _Rule, skip: _Cond | None = None) -> None:
        rule.alive = False
        self.rules.pop(rule.spec.id, None)
        for inst in rule.instances:
            for cond in inst.conds:
                if cond is not skip:
                    cond.book.remove(cond)

    def __len__(self) -> int:
        return len(self.rules)

    def compact(self) -> None:
        """Re-allocate every threshold list's floats side by side. Built rule by rule, each
        float sits between that rule's other objects; bisecting then touches a new cache
        line per comparison. Measured 1.4× more ticks/s on 1M rules (docs/alerts.md)."""
        for book in self.books.values():
            book.gt_k = [k + 0.0 for k in book.gt_k]  # + 0.0: a new float object
            book.lt_k = [k + 0.0 for k in book.lt_k]
            book.mgt_k = [k + 0.0 for k in book.mgt_k]
            book.mlt_k = [k + 0.0 for k in book.mlt_k]

    # --- ticks ---------------------------------------------------------------------------

    def process(self, symbol: str, at: int, price: float, prev_close: float = 0.0,
                volume: float = 0.0) -> None:
        """One tick (`at` in epoch microseconds). Firings are appended to `self.fired`.
        A tick not newer than the last one seen for the instrument (repeated, or out of
        order) is ignored: the price it carries has already been superseded."""
        book = self.prices.get(symbol)
        if book is None or at <= book.at:
            return
        book.at = at
        prev = book.value
        if book.simple and prev is not None:
            # The hot path (most instruments, most ticks): inlined, no other series.
            book.value = price
            if price > prev:
                keys = book.gt_k
                if keys:
                    i = bisect_left(keys, prev)
                    j = bisect_left(keys, price)
                    if i < j:
                        self._fire_range(keys, book.gt_r, i, j, at)
            elif price < prev:
                keys = book.lt_k
                if keys:
                    i = bisect_right(keys, price)
                    j = bisect_right(keys, prev)
                    if i < j:
                        self._fire_range(keys, book.lt_r, i, j, at)
            return
        self._move(book, price, at)
        derived = book.derived
        if derived:
            for dbook in derived:
                series: Any = dbook.series  # derived books always have one
                self._move(dbook, series.on_tick(symbol, at, price, prev_close, volume), at)
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            for inst in dirty.values():
                self._evaluate(inst, at)

    def _move(self, book: Book, new: float | None, at: int) -> None:
        prev = book.value
        book.value = new
        if new is None:
            if prev is not None:  # the series lost its value: multi rules may change
                for cond in book.mgt_r + book.mlt_r:
                    self._dirty[id(cond.inst)] = cond.inst
            return
        if prev is None:
            # First value: single conditions have no "before" (only fresh ones may fire);
            # every multi rule on the book looks again.
            for cond in book.mgt_r + book.mlt_r:
                self._dirty[id(cond.inst)] = cond.inst
        elif new > prev:
            keys = book.gt_k
            if keys:
                i = bisect_left(keys, prev)
                j = bisect_left(keys, new)
                if i < j:
                    self._fire_range(keys, book.gt_r, i, j, at)
            if book.mgt_k:
                self._mark(book.mgt_r, bisect_left(book.mgt_k, prev),
                           bisect_left(book.mgt_k, new))
            if book.mlt_k:
                self._mark(book.mlt_r, bisect_right(book.mlt_k, prev),
                           bisect_right(book.mlt_k, new))
        elif new < prev:
            keys = book.lt_k
            if keys:
                i = bisect_right(keys, new)
                j = bisect_right(keys, prev)
                if i < j:
                    self._fire_range(keys, book.lt_r, i, j, at)
            if book.mgt_k:
                self._mark(book.mgt_r, bisect_left(book.mgt_k, new),
                           bisect_left(book.mgt_k, prev))
            if book.mlt_k:
                self._mark(book.mlt_r, bisect_right(book.mlt_k, new),
                           bisect_right(book.mlt_k, prev))
        if book.fresh:
            fresh, book.fresh = book.fresh, []
            for cond in fresh:
                if cond.inst.rule.alive and cond.holds():
                    self._fire(cond.inst, at, cond)
            book.resimplify()
        if book.fresh_multi:
            for inst in book.fresh_multi:
                self._dirty[id(inst)] = inst
            book.fresh_multi = []
            book.resimplify()

    def _mark(self, refs: list[_Cond], i: int, j: int) -> None:
        for position in range(i, j):
            inst = refs[position].inst
            self._dirty[id(inst)] = inst

    def _fire_range(self, keys: list[float], refs: list[_Cond], i: int, j: int,
                    at: int) -> None:
        gone = False
        for position in range(i, j):
            cond = refs[position]
            self._fire(cond.inst, at, cond)
            if not cond.inst.rule.alive:
                gone = True
        if gone:  # one-shot rules leave the index as they fire
            kept = [c for c in refs[i:j] if c.inst.rule.alive]
            refs[i:j] = kept
            keys[i:j] = [c.threshold for c in kept]

    def _evaluate(self, inst: _Inst, at: int) -> None:
        rule = inst.rule
        if not rule.alive:
            return
        states = [c.holds() for c in inst.conds]
        combined = all(states) if rule.all else any(states)
        before = inst.state
        inst.state = combined
        if not combined:
            return
        if before is None:
            # First look: only rules of level conditions fire on what is already true.
            if rule.spec.armed and not any(c.cross for c in inst.conds):
                self._fire(inst, at, None)
        elif not before:
            self._fire(inst, at, None)

    def _fire(self, inst: _Inst, at: int, cond: _Cond | None) -> None:
        rule = inst.rule
        spec = rule.spec
        if not rule.alive or inst.last_fire == at:
            return
        if spec.expires_at_us is not None and at >= spec.expires_at_us:
            self.expired.append(spec.id)
            self._drop(rule, skip=cond)
            return
        mode = spec.mode
        if mode == ONCE:
            key = "once"
            self._drop(rule, skip=cond)
        elif mode == PER_BAR:
            bar = bucket_of(at, spec.bar_timeframe)
            if inst.last_bar == bar:
                return
            inst.last_bar = bar
            key = f"bar:{spec.bar_timeframe}:{bar}"
        else:
            if inst.last_fire is not None and at - inst.last_fire < rule.cooldown_us:
                return
            key = f"t:{at}"
        inst.last_fire = at
        values: dict[str, Any] = {
            "price": self.prices[inst.symbol].value,
            "conditions": [c.book.value for c in inst.conds],
        }
        self.fired.append(Firing(spec.id, spec.user_id, inst.symbol, at, key, values))

    def drain(self) -> list[Firing]:
        fired, self.fired = self.fired, []
        return fired
