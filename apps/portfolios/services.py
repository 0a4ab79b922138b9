"""Writes for portfolios and their transactions.

Transactions are the record; everything else is derived by replaying them (`ledger.py`).
Every transaction write therefore:

1. locks the portfolio row (`SELECT ... FOR UPDATE`), so writes to one portfolio run one
   after another and each sees the one before;
2. replays the portfolio's whole history with the change applied, once, and refuses the
   change (a `ValidationError` keyed by field, HTTP 400) when the history would become
   impossible: a sell of more than was held at that moment (also when an edited or deleted
   buy leaves a later sell uncovered), or a split / bonus on shares not held;
3. marks the daily snapshots stale from the earliest changed date and, after commit, queues
   their rebuild in the background (`tasks.portfolio_snapshots_rebuild`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.market.models import Instrument, InstrumentKind
from apps.market.selectors import instrument_get
from apps.portfolios.ledger import Entry, Ledger, OversellError
from apps.portfolios.models import (
    AMOUNT_KINDS,
    INSTRUMENT_KINDS,
    MAX_PORTFOLIOS_PER_OWNER,
    RATIO_KINDS,
    TRADE_KINDS,
    Portfolio,
    Transaction,
    TransactionKind,
    TransactionSource,
)
from apps.portfolios.selectors import portfolio_entries
from apps.realtime.events import publish, user_group

IST = ZoneInfo("Asia/Kolkata")
# A transaction given as a bare date happened at the NSE close of that day.
MARKET_CLOSE = time(15, 30)
NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 500
NOTES_MAX_LENGTH = 500
EXTERNAL_ID_MAX_LENGTH = 64
CHARGE_FIELDS = ("brokerage", "stt", "exchange_fees", "gst", "stamp_duty", "other_charges")
HOLDABLE_KINDS = frozenset({InstrumentKind.EQUITY, InstrumentKind.ETF})

ZERO = Decimal("0")
# Column limits (max_digits=20): quantities have 6 places, money and prices 4.
_PLACES = {"quantity": 6}
_DEFAULT_PLACES = 4
_RATIO_MAX = 2**31 - 1
# Ids for entries not stored yet: above any real id, so a new transaction sorts after the
# stored ones with the same time, as it will once stored.
_NEW_ID = 2**62


class PortfolioNotFound(Http404):
    """No such portfolio, or not the caller's: both answer 404."""


class TransactionNotFound(Http404):
    """No such transaction in this portfolio."""


class _Unset(enum.Enum):
    UNSET = 0


UNSET = _Unset.UNSET


@dataclass(frozen=True, slots=True)
class TransactionData:
    """One transaction to store, as the services take it (API, import, tests).

    `executed_at` must be aware. Fields a kind does not use stay at their defaults (see
    `transaction_validate`).
    """

    kind: str
    executed_at: datetime
    instrument: Instrument | None = None
    quantity: Decimal = ZERO
    price: Decimal = ZERO
    amount: Decimal = ZERO
    ratio_from: int | None = None
    ratio_to: int | None = None
    brokerage: Decimal = ZERO
    stt: Decimal = ZERO
    exchange_fees: Decimal = ZERO
    gst: Decimal = ZERO
    stamp_duty: Decimal = ZERO
    other_charges: Decimal = ZERO
    notes: str = ""
    external_id: str = ""
    source: str = TransactionSource.MANUAL

    @property
    def charges(self) -> Decimal:
        return sum((getattr(self, name) for name in CHARGE_FIELDS), ZERO)

    @classmethod
    def from_transaction(cls, row: Transaction) -> TransactionData:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


class TransactionBatchInvalid(ValidationError):
    """`transactions_add_many` refused the batch. `by_entry[index]` holds `{field:
    [messages]}` for each failing entry (0-based, in the order given); `by_entry[None]` is
    a problem of the batch as a whole. Nothing was stored."""

    def __init__(self, by_entry: dict[int | None, dict[str, list[str]]]) -> None:
        self.by_entry = by_entry
        flat: dict[str, list[str]] = {}
        for index, errors in by_entry.items():
            for name, messages in errors.items():
                flat[name if index is None else f"{index}.{name}"] = messages
        super().__init__(flat)


# --- helpers ----------------------------------------------------------------------------------


def executed_at_from_date(day: date, *, now: datetime | None = None) -> datetime:
    """A trade entered with only its date: 15:30 IST (the NSE close) of that day, or now
    for today before the close (a trade entered this morning is not in the future)."""
    moment = datetime.combine(day, MARKET_CLOSE, tzinfo=IST)
    now = now or timezone.now()
    if moment > now and day == now.astimezone(IST).date():
        return now
    return moment


def _local_date(moment: datetime) -> date:
    return moment.astimezone(IST).date()


def _number(value: Decimal) -> str:
    """10.000000 → "10", 2.50 → "2.5" (for messages)."""
    return format(value.normalize(), "f")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the portfolio a name.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "name": [
                    _("A portfolio name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}
                ]
            }
        )
    return name


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {
                "description": [
                    _("A description has at most %(max)d characters.")
                    % {"max": DESCRIPTION_MAX_LENGTH}
                ]
            }
        )
    return description


def _name_taken(name: str) -> ValidationError:
    return ValidationError(
        {"name": [_("You already have a portfolio named “%(name)s”.") % {"name": name}]}
    )


def portfolio_default_benchmark() -> Instrument | None:
    """The index named by settings.PORTFOLIO_DEFAULT_BENCHMARK (NIFTY 50), if listed."""
    symbol = str(getattr(settings, "PORTFOLIO_DEFAULT_BENCHMARK", "") or "")
    return instrument_get(symbol=symbol) if symbol else None


def _lock(portfolio: Portfolio) -> Portfolio:
    locked = Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
    if locked is None:
        raise PortfolioNotFound
    return locked


def _queue_rebuild(portfolio_id: int) -> None:
    # Imported when needed: the tasks module pulls in Celery and the snapshot code.
    from apps.portfolios.tasks import portfolio_snapshots_rebuild

    portfolio_snapshots_rebuild.delay(portfolio_id)


def _mark_stale(portfolio: Portfolio, since: date, *, action: str) -> None:
    """Snapshots from `since` on no longer match the transactions; rebuild them after
    commit, and tell the owner's open sessions (`portfolio.changed`: pages re-fetch, live
    values replay). `portfolio` is the locked row."""
    current = portfolio.snapshots_stale_from
    portfolio.snapshots_stale_from = since if current is None else min(current, since)
    portfolio.updated_at = timezone.now()
    portfolio.save(update_fields=["snapshots_stale_from", "updated_at"])
    transaction.on_commit(partial(_queue_rebuild, portfolio.pk))
    publish(
        user_group(portfolio.owner_id),
        {"type": "portfolio.changed", "id": portfolio.pk, "action": action},
    )


# --- portfolios -------------------------------------------------------------------------------


@transaction.atomic
def portfolio_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    benchmark: Instrument | None | _Unset = UNSET,
) -> Portfolio:
    """A new, empty portfolio placed after the owner's others. Without `benchmark` it gets
    the default benchmark (NIFTY 50 if listed); `benchmark=None` means none."""
    name = _clean_name(name)
    description = _clean_description(description)
    # Serialises one owner's creates and renames: the cap and the unique name hold under races.
    User.objects.select_for_update().filter(pk=owner.pk).first()
    owned = Portfolio.objects.filter(owner=owner)
    if owned.count() >= MAX_PORTFOLIOS_PER_OWNER:
        raise ValidationError(
            {
                "name": [
                    _("You can have at most %(max)d portfolios. Delete one to create another.")
                    % {"max": MAX_PORTFOLIOS_PER_OWNER}
                ]
            }
        )
    if owned.filter(name__iexact=name).exists():
        raise _name_taken(name)
    last = owned.aggregate(last=Max("position"))["last"]
    return Portfolio.objects.create(
        owner=owner,
        name=name,
        description=description,
        benchmark=portfolio_default_benchmark() if benchmark is UNSET else benchmark,
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def portfolio_update(
    *,
    portfolio: Portfolio,
    name: str | None = None,
    description: str | None = None,
    benchmark: Instrument | None | _Unset = UNSET,
) -> Portfolio:
    """Rename, describe, or change the benchmark (None: no benchmark). Arguments left out
    keep their value."""
    User.objects.select_for_update().filter(pk=portfolio.owner_id).first()
    locked = _lock(portfolio)
    if name is not None:
        name = _clean_name(name)
        taken = Portfolio.objects.filter(owner_id=locked.owner_id, name__iexact=name)
        if taken.exclude(pk=locked.pk).exists():
            raise _name_taken(name)
        locked.name = name
    if description is not None:
        locked.description = _clean_description(description)
    if not isinstance(benchmark, _Unset):
        locked.benchmark = benchmark
    locked.updated_at = timezone.now()
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:  # pragma: no cover - the owner lock prevents it
        raise _name_taken(locked.name) from exc
    return locked


@transaction.atomic
def portfolio_delete(*, portfolio: Portfolio) -> None:
    """Deletes the portfolio with its transactions and snapshots."""
    _lock(portfolio).delete()


# --- validation -------------------------------------------------------------------------------


def _check_number(errors: dict[str, list[str]], name: str, value: Any) -> bool:
    """Finite Decimal that fits its column; records an error and returns False otherwise."""
    places = _PLACES.get(name, _DEFAULT_PLACES)
    if not isinstance(value, Decimal) or not value.is_finite():
        errors.setdefault(name, []).append(_("Enter a number."))
        return False
    if abs(value) >= Decimal(10) ** (20 - places):
        errors.setdefault(name, []).append(_("This number is too large."))
        return False
    if value != value.quantize(Decimal(1).scaleb(-places)):
        errors.setdefault(name, []).append(
            _("Use at most %(places)d decimal places.") % {"places": places}
        )
        return False
    return True


def transaction_validate(
    *, data: TransactionData, now: datetime | None = None
) -> dict[str, list[str]]:
    """The field errors of one transaction on its own (no history): `{}` when valid.

    buy/sell: a stock or ETF, quantity > 0, price > 0. dividend: a stock or ETF, amount > 0.
    split/bonus: a stock or ETF, both ratios ≥ 1. fee/deposit/withdrawal: amount > 0, no
    symbol. Charges ≥ 0 and only on buys and sells (enter other costs as a fee). Not in the
    future. Fields the kind does not use must be left empty.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    kind = data.kind
    if kind not in TransactionKind.values:
        add("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(TransactionKind.values)})
        return errors
    label = TransactionKind(kind).label

    moment = data.executed_at
    if not isinstance(moment, datetime) or timezone.is_naive(moment):
        add("executed_at", _("Give a date and time with its time zone."))
    elif moment > (now or timezone.now()):
        add("executed_at", _("A transaction cannot be in the future."))

    if kind in INSTRUMENT_KINDS:
        if data.instrument is None:
            add("symbol", _("A %(kind)s needs a symbol.") % {"kind": label.lower()})
        elif data.instrument.kind not in HOLDABLE_KINDS:
            add(
                "symbol",
                _("%(symbol)s is an index; a portfolio holds stocks and ETFs only.")
                % {"symbol": data.instrument.symbol},
            )
    elif data.instrument is not None:
        add("symbol", _("A %(kind)s is cash and has no symbol.") % {"kind": label.lower()})

    numbers = ("quantity", "price", "amount", *CHARGE_FIELDS)
    valid = {name: _check_number(errors, name, getattr(data, name)) for name in numbers}

    def positive(name: str, message: str) -> None:
        if valid[name] and getattr(data, name) <= 0:
            add(name, message)

    def unused(name: str, message: str) -> None:
        if valid[name] and getattr(data, name) != 0:
            add(name, message)

    if kind in TRADE_KINDS:
        positive("quantity", _("The quantity must be more than zero."))
        positive("price", _("The price must be more than zero."))
        unused("amount", _("A buy or sell has no amount; give quantity and price."))
    else:
        unused("quantity", _("A %(kind)s has no quantity.") % {"kind": label.lower()})
        unused("price", _("A %(kind)s has no price.") % {"kind": label.lower()})
    if kind in AMOUNT_KINDS:
        positive("amount", _("The amount must be more than zero."))
    elif kind in RATIO_KINDS:
        unused("amount", _("A %(kind)s has no amount.") % {"kind": label.lower()})

    if kind in RATIO_KINDS:
        hint = (
            _("1:5 means 1 old share became 5.")
            if kind == TransactionKind.SPLIT
            else _("1:2 means 1 bonus share for every 2 held.")
        )
        for name in ("ratio_from", "ratio_to"):
            value = getattr(data, name)
            if value is None:
                add(
                    name,
                    _("A %(kind)s needs ratio_from and ratio_to. %(hint)s")
                    % {"kind": label.lower(), "hint": hint},
                )
            elif not isinstance(value, int) or not 1 <= value <= _RATIO_MAX:
                add(name, _("A ratio is a whole number of at least 1."))
    else:
        for name in ("ratio_from", "ratio_to"):
            if getattr(data, name) is not None:
                add(name, _("Only splits and bonus issues have a ratio."))

    for name in CHARGE_FIELDS:
        if not valid[name]:
            continue
        value = getattr(data, name)
        if value < 0:
            add(name, _("Charges cannot be negative."))
        elif value > 0 and kind not in TRADE_KINDS:
            add(name, _("Charges belong to buys and sells; enter other costs as a fee."))

    if len(data.notes) > NOTES_MAX_LENGTH:
        add("notes", _("Notes have at most %(max)d characters.") % {"max": NOTES_MAX_LENGTH})
    if len(data.external_id) > EXTERNAL_ID_MAX_LENGTH:
        add(
            "external_id",
            _("A trade id has at most %(max)d characters.") % {"max": EXTERNAL_ID_MAX_LENGTH},
        )
    if data.source not in TransactionSource.values:
        add("source", _("Unknown source."))
    return errors


def _entry(data: TransactionData, entry_id: int) -> Entry:
    return Entry(
        kind=data.kind,
        executed_at=data.executed_at,
        instrument_id=data.instrument.pk if data.instrument is not None else None,
        quantity=data.quantity,
        price=data.price,
        amount=data.amount,
        charges=data.charges,
        ratio_from=data.ratio_from,
        ratio_to=data.ratio_to,
        id=entry_id,
    )


class _HistoryError(Exception):
    def __init__(self, entry: Entry, field: str, message: str) -> None:
        super().__init__(message)
        self.entry = entry
        self.field = field
        self.message = message


def _symbol(instrument_id: int | None) -> str:
    if instrument_id is None:
        return "?"
    found = Instrument.objects.filter(pk=instrument_id).values_list("symbol", flat=True).first()
    return found or "?"


def _replay_checked(entries: Iterable[Entry], *, changed: set[int]) -> Ledger:
    """One replay of the whole history; `_HistoryError` at the first impossible entry.

    The message speaks to the entry being written when it is the one that fails, else it
    says which later entry the change breaks.
    """
    ledger = Ledger()
    for entry in sorted(entries, key=lambda e: (e.executed_at, e.id or 0)):
        kind = entry.kind
        day = _local_date(entry.executed_at).isoformat()
        own = entry.id in changed
        if kind in RATIO_KINDS or kind == TransactionKind.DIVIDEND:
            position = ledger.positions.get(entry.instrument_id or 0)
            # A dividend may be paid after the shares were sold (record date before the
            # sale), so it needs the shares held at some time, not necessarily that day.
            held = position is not None and (bool(position.lots) or kind not in RATIO_KINDS)
            if not held:
                label = TransactionKind(kind).label.lower()
                values = {"symbol": _symbol(entry.instrument_id), "date": day, "kind": label}
                message = (
                    _(
                        "You held no %(symbol)s on %(date)s, so there is nothing for this "
                        "%(kind)s to apply to."
                    )
                    if own
                    else _(
                        "This change leaves the %(kind)s of %(symbol)s on %(date)s with no "
                        "shares held."
                    )
                ) % values
                raise _HistoryError(entry, "symbol", message)
        try:
            ledger.apply(entry)
        except OversellError as exc:
            values = {
                "symbol": _symbol(entry.instrument_id),
                "date": day,
                "held": _number(exc.held),
                "quantity": _number(entry.quantity),
            }
            message = (
                _("You held %(held)s %(symbol)s on %(date)s; you cannot sell %(quantity)s.")
                if own
                else _(
                    "This change leaves the sell of %(quantity)s %(symbol)s on %(date)s with "
                    "only %(held)s held."
                )
            ) % values
            raise _HistoryError(entry, "quantity", message) from exc
    return ledger


def _replay_or_raise(entries: Iterable[Entry], *, changed: set[int]) -> Ledger:
    try:
        return _replay_checked(entries, changed=changed)
    except _HistoryError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc


def _check_external_id(portfolio: Portfolio, external_id: str, *, exclude: int | None) -> None:
    if not external_id:
        return
    clash = Transaction.objects.filter(portfolio=portfolio, external_id=external_id)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError(
            {
                "external_id": [
                    _("A transaction with trade id %(id)s is already in this portfolio.")
                    % {"id": external_id}
                ]
            }
        )


def _row_values(data: TransactionData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(TransactionData)}


# --- transactions -----------------------------------------------------------------------------


@transaction.atomic
def transaction_create(*, portfolio: Portfolio, data: TransactionData) -> Transaction:
    """Store one transaction if the history stays possible with it (see the module doc)."""
    errors = transaction_validate(data=data)
    if errors:
        raise ValidationError(errors)
    locked = _lock(portfolio)
    _check_external_id(locked, data.external_id, exclude=None)
    history = portfolio_entries(portfolio_id=locked.pk)
    _replay_or_raise([*history, _entry(data, _NEW_ID)], changed={_NEW_ID})
    row = Transaction.objects.create(portfolio=locked, **_row_values(data))
    _mark_stale(locked, _local_date(data.executed_at), action="created")
    return row


def _locked_transaction(portfolio: Portfolio, transaction_id: int) -> Transaction:
    row = (
        Transaction.objects.select_related("instrument__exchange")
        .filter(portfolio=portfolio, pk=transaction_id)
        .first()
    )
    if row is None:
        raise TransactionNotFound
    return row


@transaction.atomic
def transaction_update(
    *, portfolio: Portfolio, transaction_id: int, changes: Mapping[str, Any]
) -> Transaction:
    """Change fields of a transaction (names as in `TransactionData`; others keep their
    value). The whole history is checked again with the edited transaction."""
    locked = _lock(portfolio)
    row = _locked_transaction(locked, transaction_id)
    before = TransactionData.from_transaction(row)
    data = replace(before, **changes)
    errors = transaction_validate(data=data)
    if errors:
        raise ValidationError(errors)
    _check_external_id(locked, data.external_id, exclude=row.pk)
    history = [e for e in portfolio_entries(portfolio_id=locked.pk) if e.id != row.pk]
    _replay_or_raise([*history, _entry(data, row.pk)], changed={row.pk})
    for name, value in _row_values(data).items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.save()
    _mark_stale(
        locked,
        min(_local_date(before.executed_at), _local_date(data.executed_at)),
        action="updated",
    )
    return row


@transaction.atomic
def transaction_delete(*, portfolio: Portfolio, transaction_id: int) -> None:
    """Delete a transaction unless later ones depend on it (e.g. the buy a sell sold)."""
    locked = _lock(portfolio)
    row = _locked_transaction(locked, transaction_id)
    history = [e for e in portfolio_entries(portfolio_id=locked.pk) if e.id != row.pk]
    _replay_or_raise(history, changed=set())
    day = _local_date(row.executed_at)
    row.delete()
    _mark_stale(locked, day, action="deleted")


@transaction.atomic
def transactions_add_many(
    *, portfolio: Portfolio, entries: Sequence[TransactionData], source: str
) -> list[Transaction]:
    """Store a batch (an import) all or nothing, with one replay of the merged history.

    Each entry is stored with `source`. Raises `TransactionBatchInvalid` listing every
    entry that is invalid on its own, or else the first entry the history cannot take
    (a sell beyond the holding, …), or a trade id already in the portfolio or repeated.
    """
    if not entries:
        return []
    now = timezone.now()
    batch = [replace(entry, source=source) for entry in entries]
    by_entry: dict[int | None, dict[str, list[str]]] = {}
    for index, data in enumerate(batch):
        errors = transaction_validate(data=data, now=now)
        if errors:
            by_entry[index] = errors
    locked = _lock(portfolio)
    wanted = [data.external_id for data in batch if data.external_id]
    if wanted:
        stored = set(
            Transaction.objects.filter(portfolio=locked, external_id__in=wanted).values_list(
                "external_id", flat=True
            )
        )
        seen: set[str] = set()
        for index, data in enumerate(batch):
            if not data.external_id:
                continue
            if data.external_id in stored or data.external_id in seen:
                by_entry.setdefault(index, {}).setdefault("external_id", []).append(
                    _("A transaction with trade id %(id)s is already in this portfolio.")
                    % {"id": data.external_id}
                )
            seen.add(data.external_id)
    if by_entry:
        raise TransactionBatchInvalid(by_entry)

    new = [_entry(data, _NEW_ID + index) for index, data in enumerate(batch)]
    try:
        _replay_checked(
            [*portfolio_entries(portfolio_id=locked.pk), *new],
            changed={e.id for e in new if e.id is not None},
        )
    except _HistoryError as exc:
        entry_id = exc.entry.id
        # An entry of the batch, or a stored one the batch broke (the batch as a whole).
        failed = entry_id - _NEW_ID if entry_id is not None and entry_id >= _NEW_ID else None
        raise TransactionBatchInvalid({failed: {exc.field: [exc.message]}}) from exc

    rows = Transaction.objects.bulk_create(
        [Transaction(portfolio=locked, **_row_values(data)) for data in batch], batch_size=2000
    )
    _mark_stale(
        locked, min(_local_date(data.executed_at) for data in batch), action="imported"
    )
    return rows
