"""Concurrent writers to one list: the row lock makes them run one after the other."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.watchlists import services
from apps.watchlists.models import Watchlist


def _ids(watchlist: Watchlist) -> list[int]:
    return list(watchlist.items.order_by("position", "id").values_list("id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reorders_end_in_one_of_the_two_orders(
    owner: Any, editor: Any, watchlist: Watchlist
) -> None:
    ids = _ids(watchlist)
    orders = {owner.pk: ids[::-1], editor.pk: [ids[1], ids[2], ids[0]]}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def reorder(user: Any) -> None:
        try:
            start.wait(timeout=5)
            for _ in range(10):
                services.watchlist_items_reorder(
                    watchlist_id=watchlist.pk, item_ids=orders[user.pk], by=user
                )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reorder, args=(u,)) for u in (owner, editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert _ids(watchlist) in list(orders.values())
    positions = sorted(watchlist.items.values_list("position", flat=True))
    assert positions == [0, 1, 2]


@pytest.mark.django_db(transaction=True)
def test_a_reorder_waits_for_the_watchlist_row_lock(owner: Any, watchlist: Watchlist) -> None:
    ids = _ids(watchlist)
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Watchlist.objects.select_for_update().get(pk=watchlist.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    def reorder() -> None:
        try:
            services.watchlist_items_reorder(
                watchlist_id=watchlist.pk, item_ids=ids[::-1], by=owner
            )
            done.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(timeout=5)
    writer = threading.Thread(target=reorder)
    writer.start()
    assert not done.wait(timeout=0.5), "the reorder ran while another transaction held the lock"
    release.set()
    assert done.wait(timeout=10)
    holder.join()
    writer.join()
    assert _ids(watchlist) == ids[::-1]


@pytest.mark.django_db
@pytest.mark.parametrize("write", ["reorder", "add", "remove", "note", "invite", "rename"])
def test_every_write_locks_the_watchlist_row_first(
    owner: Any, other_user: Any, watchlist: Watchlist, write: str
) -> None:
    ids = _ids(watchlist)
    calls = {
        "reorder": lambda: services.watchlist_items_reorder(
            watchlist_id=watchlist.pk, item_ids=ids, by=owner),
        "add": lambda: services.watchlist_item_add(
            watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner),
        "remove": lambda: services.watchlist_item_remove(
            watchlist_id=watchlist.pk, item_id=ids[0], by=owner),
        "note": lambda: services.watchlist_item_note(
            watchlist_id=watchlist.pk, item_id=ids[0], note="x", by=owner),
        "invite": lambda: services.watchlist_member_invite(
            watchlist_id=watchlist.pk, email=other_user.email, role="viewer", by=owner),
        "rename": lambda: services.watchlist_rename(
            watchlist_id=watchlist.pk, name="New", by=owner),
    }
    with CaptureQueriesContext(connection) as queries:
        calls[write]()
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert 'FROM "watchlists_watchlist"' in statements[0]
    assert statements[0].endswith('FOR UPDATE OF "watchlists_watchlist"')
