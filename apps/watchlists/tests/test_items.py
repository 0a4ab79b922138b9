"""Items: adding by symbol, duplicates, the 250 limit, notes, and reordering."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from apps.market.models import Instrument
from apps.watchlists import services
from apps.watchlists.models import MAX_ITEMS_PER_WATCHLIST, Watchlist, WatchlistItem

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _order(watchlist: Watchlist) -> list[str]:
    return list(watchlist.items.order_by("position", "id").values_list("instrument__symbol",
                                                                        flat=True))


def test_a_bare_symbol_means_nse_and_lands_at_the_end(owner: Any, watchlist: Watchlist) -> None:
    response = client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/items/", {"symbol": " hdfcbank ", "note": "bank"}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["symbol"], body["exchange"], body["note"], body["position"]) == (
        "HDFCBANK", "NSE", "bank", 3
    )
    assert _order(watchlist) == ["TCS", "INFY", "RELIANCE", "HDFCBANK"]


def test_exchange_prefixed_symbols_are_accepted(owner: Any, watchlist: Watchlist) -> None:
    item = services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="BSE:SENSEX", by=owner)
    assert str(item.instrument) == "BSE:SENSEX"


def test_a_bse_symbol_without_prefix_is_not_found_on_nse(owner: Any, watchlist: Watchlist) -> None:
    response = client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/items/", {"symbol": "SENSEX"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["symbol"] == [
        "No active instrument “SENSEX”. Use an NSE symbol such as TCS, or EXCHANGE:SYMBOL "
        "such as BSE:SENSEX."
    ]


@pytest.mark.parametrize("symbol", ["NOPE", "XXX:TCS", ":", "NSE:"])
def test_unknown_symbols_are_a_field_error(owner: Any, watchlist: Watchlist, symbol: str) -> None:
    response = client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/items/", {"symbol": symbol}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["symbol"]


def test_inactive_instruments_cannot_be_added(owner: Any, watchlist: Watchlist,
                                              instruments: Any) -> None:
    Instrument.objects.filter(pk=instruments["NSE:HDFCBANK"].pk).update(active=False)
    with pytest.raises(ValidationError):
        services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner)


def test_adding_an_instrument_twice_is_a_clear_error(owner: Any, watchlist: Watchlist) -> None:
    response = client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/items/", {"symbol": "NSE:tcs"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "symbol": ["NSE:TCS is already on this watchlist."]
    }


def test_a_watchlist_holds_at_most_250_items(owner: Any, watchlist: Watchlist,
                                             instruments: Any) -> None:
    exchange = instruments["NSE:TCS"].exchange
    fillers = Instrument.objects.bulk_create(
        Instrument(exchange=exchange, symbol=f"FILL{n}", name=f"Filler {n}")
        for n in range(MAX_ITEMS_PER_WATCHLIST - 3)
    )
    WatchlistItem.objects.bulk_create(
        WatchlistItem(watchlist=watchlist, instrument=i, position=10 + n)
        for n, i in enumerate(fillers)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.watchlist_item_add(watchlist_id=watchlist.pk, symbol="HDFCBANK", by=owner)
    assert excinfo.value.message_dict == {
        "symbol": ["A watchlist holds at most 250 instruments. Remove one to add another."]
    }


def test_notes_are_set_and_cleared_by_editors(editor: Any, watchlist: Watchlist) -> None:
    item = watchlist.items.first()
    assert item is not None
    url = f"/api/v1/watchlists/{watchlist.pk}/items/{item.pk}/"
    assert client_for(editor).patch(url, {"note": "Buy below 3,500"}).json()["note"] == (
        "Buy below 3,500"
    )
    assert client_for(editor).patch(url, {"note": ""}).json()["note"] == ""


def test_a_note_longer_than_500_characters_is_400(owner: Any, watchlist: Watchlist) -> None:
    item = watchlist.items.first()
    assert item is not None
    response = client_for(owner).patch(
        f"/api/v1/watchlists/{watchlist.pk}/items/{item.pk}/", {"note": "x" * 501}
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["note"]


def test_removing_an_item_keeps_the_others_in_order(editor: Any, watchlist: Watchlist) -> None:
    infy = watchlist.items.get(instrument__symbol="INFY")
    services.watchlist_item_remove(watchlist_id=watchlist.pk, item_id=infy.pk, by=editor)
    assert _order(watchlist) == ["TCS", "RELIANCE"]


def test_reordering_puts_items_in_the_given_order(editor: Any, watchlist: Watchlist) -> None:
    ids = {i.instrument.symbol: i.pk for i in watchlist.items.select_related("instrument")}
    order = [ids["RELIANCE"], ids["TCS"], ids["INFY"]]
    response = client_for(editor).put(
        f"/api/v1/watchlists/{watchlist.pk}/order/", {"item_ids": order}, format="json"
    )
    assert response.status_code == 200
    assert [(i["id"], i["position"]) for i in response.json()["items"]] == [
        (order[0], 0), (order[1], 1), (order[2], 2)
    ]
    assert _order(watchlist) == ["RELIANCE", "TCS", "INFY"]


@pytest.mark.parametrize(("make_ids", "problem"), [
    (lambda ids: ids[:2], "missing"),
    (lambda ids: [*ids, 10**9], "not on this watchlist [1000000000]"),
    (lambda ids: [ids[0], *ids], "repeated"),
    (lambda ids: [ids[0], ids[0], ids[1]], "missing"),
    (lambda ids: [], "missing"),
])
def test_reordering_must_be_a_permutation_of_the_items(
    owner: Any, watchlist: Watchlist, make_ids: Any, problem: str
) -> None:
    ids = list(watchlist.items.order_by("position").values_list("id", flat=True))
    response = client_for(owner).put(
        f"/api/v1/watchlists/{watchlist.pk}/order/", {"item_ids": make_ids(ids)}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["item_ids"][0]
    assert message.startswith("List every item of the watchlist exactly once")
    assert problem in message
    assert _order(watchlist) == ["TCS", "INFY", "RELIANCE"]


@pytest.mark.parametrize("body", [
    {}, {"item_ids": "1,2"}, {"item_ids": ["a"]}, {"item_ids": [0]}, {"item_ids": [10**30]},
    {"item_ids": None},
])
def test_malformed_orders_are_400_not_500(owner: Any, watchlist: Watchlist, body: Any) -> None:
    response = client_for(owner).put(
        f"/api/v1/watchlists/{watchlist.pk}/order/", body, format="json"
    )
    assert response.status_code == 400
    assert [f.split(".")[0] for f in response.json()["error"]["fields"]] == ["item_ids"]


@pytest.mark.parametrize("body", [{}, {"symbol": ""}, {"symbol": None}, {"symbol": ["TCS"]}])
def test_malformed_item_bodies_are_400_not_500(owner: Any, watchlist: Watchlist,
                                               body: Any) -> None:
    response = client_for(owner).post(
        f"/api/v1/watchlists/{watchlist.pk}/items/", body, format="json"
    )
    assert response.status_code == 400
    assert "symbol" in response.json()["error"]["fields"]
