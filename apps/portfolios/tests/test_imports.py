"""CSV import: both formats from fixture files, every per-line error, duplicates, all or
nothing, the owner-only API and a 50,000-row tradebook. Expected values are read off the
fixture files by hand."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios import services
from apps.portfolios.imports import ImportFailed, transactions_csv_parse
from apps.portfolios.models import Portfolio, Transaction

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
IST = ZoneInfo("Asia/Kolkata")
D = Decimal
ZERODHA_HEADER = (
    "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,"
    "trade_id,order_id,order_execution_time\n"
)
STOCKSENSE_HEADER = "date,kind,symbol,exchange,quantity,price,amount,ratio,notes,trade_id\n"


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    pass


@pytest.fixture
def portfolio(user: Any) -> Portfolio:
    return Portfolio.objects.create(owner=user, name="Long term")


def _ist(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


def _pk(symbol: str) -> int:
    return Instrument.objects.get(exchange__code="NSE", symbol=symbol).pk


def _url(portfolio: Portfolio | int) -> str:
    return f"/api/v1/portfolios/{getattr(portfolio, 'pk', portfolio)}/import/"


def _post(client: APIClient, portfolio: Portfolio | int, content: bytes | str, **form: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    upload = SimpleUploadedFile("trades.csv", data, content_type="text/csv")
    return client.post(_url(portfolio), {"file": upload, **form}, format="multipart")


def _fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _stored(portfolio: Portfolio) -> list[tuple[Any, ...]]:
    return list(
        Transaction.objects.filter(portfolio=portfolio)
        .order_by("executed_at", "id")
        .values_list(
            "kind",
            "instrument__symbol",
            "executed_at",
            "quantity",
            "price",
            "amount",
            "external_id",
        )
    )


def _errors(response: Any) -> list[tuple[int, str]]:
    return [(error["line"], error["field"]) for error in response.json()["errors"]]


# --- the StockSense format ----------------------------------------------------------------------


def test_stocksense_file_imports_every_kind_with_its_values(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _post(auth_client, portfolio, _fixture("stocksense_sample.csv"))

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "format": "stocksense",
        "imported": 9,
        "skipped_duplicates": 0,
        "skipped_other": [],
        "dry_run": False,
    }
    rows = {t.external_id or t.kind: t for t in Transaction.objects.filter(portfolio=portfolio)}
    assert all(t.source == "csv" for t in rows.values())
    deposit = rows["deposit"]
    assert (deposit.instrument_id, deposit.amount, deposit.notes) == (
        None,
        D("100000"),
        "Opening balance",
    )
    assert deposit.executed_at == _ist(2024, 1, 1, 15, 30)
    buy = rows["SS-1"]
    assert (buy.kind, buy.instrument_id, buy.quantity, buy.price) == (
        "buy",
        _pk("TCS"),
        D("10"),
        D("3500.50"),
    )
    assert buy.executed_at == _ist(2024, 1, 2, 9, 20)
    assert (
        buy.brokerage,
        buy.stt,
        buy.exchange_fees,
        buy.gst,
        buy.stamp_duty,
        buy.other_charges,
    ) == (D("20"), D("3.5"), D("1.2"), D("3.81"), D("0.53"), D("0"))
    assert buy.charges == D("29.04")
    assert buy.notes == "First buy, long term"
    infy = rows["SS-2"]
    assert (infy.instrument_id, infy.executed_at) == (_pk("INFY"), _ist(2024, 2, 1, 15, 30))
    sell = rows["SS-3"]
    assert (sell.kind, sell.quantity, sell.price, sell.charges) == (
        "sell",
        D("4"),
        D("3800"),
        D("28.7"),
    )
    assert sell.executed_at == _ist(2024, 3, 15, 10, 0)
    assert (rows["dividend"].instrument_id, rows["dividend"].amount) == (_pk("TCS"), D("168"))
    assert (rows["split"].instrument_id, rows["split"].ratio_from, rows["split"].ratio_to) == (
        _pk("INFY"),
        1,
        5,
    )
    assert (rows["bonus"].ratio_from, rows["bonus"].ratio_to) == (1, 1)
    assert (rows["fee"].amount, rows["fee"].notes, rows["fee"].instrument_id) == (
        D("59"),
        "Demat AMC",
        None,
    )
    assert rows["withdrawal"].amount == D("5000")


def test_a_single_charges_column_is_stored_as_other_charges(portfolio: Portfolio) -> None:
    parsed = transactions_csv_parse(
        content=b'date,kind,symbol,quantity,price,charges\n2024-01-02,buy,TCS,1,100,"1,015.75"\n'
    )

    assert parsed.rows[0].fields["other_charges"] == D("1015.75")
    assert parsed.rows[0].fields["brokerage"] == D("0")


def test_every_bad_value_is_reported_on_its_line_and_nothing_is_stored(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _post(auth_client, portfolio, _fixture("stocksense_bad.csv"))

    assert response.status_code == 400
    assert _errors(response) == [
        (2, "date"),  # month 13
        (3, "symbol"),  # unknown
        (4, "date"),  # in the future
        (5, "quantity"),  # zero
        (6, "quantity"),  # negative
        (7, "kind"),
        (8, "ratio"),
        (10, "exchange"),
        (11, "amount"),  # a dividend needs its amount
    ]
    body = response.json()
    assert body["more_errors"] == 0
    assert "NOSUCHCO" in body["errors"][1]["message"]
    assert body["error"]["code"] == "import_invalid"
    assert not Transaction.objects.filter(portfolio=portfolio).exists()


def test_values_that_do_not_belong_to_the_kind_are_refused() -> None:
    content = STOCKSENSE_HEADER + (
        "2024-01-02,deposit,TCS,,,,500,,,\n"
        "2024-01-02,buy,TCS,,1,100,250,,,\n"
        "2024-01-02,dividend,TCS,,3,,250,1:2,,\n"
    )
    with pytest.raises(ImportFailed) as failed:
        transactions_csv_parse(content=content.encode())

    assert [(e.line, e.field) for e in failed.value.errors] == [
        (2, "symbol"),
        (3, "amount"),
        (4, "quantity"),
        (4, "ratio"),
    ]


def test_too_many_decimal_places_are_refused_but_trailing_zeros_are_not() -> None:
    content = STOCKSENSE_HEADER + (
        "2024-01-02,buy,TCS,,1.0000001,100,,,,\n"
        "2024-01-02,buy,TCS,,1,100.12345,,,,\n"
        "2024-01-02,buy,TCS,,1.50000000,100.120000,,,,\n"
    )
    with pytest.raises(ImportFailed) as failed:
        transactions_csv_parse(content=content.encode())

    assert [(e.line, e.field) for e in failed.value.errors] == [(2, "quantity"), (3, "price")]


def test_line_numbers_count_lines_of_the_file_across_a_quoted_newline() -> None:
    content = STOCKSENSE_HEADER + (
        '2024-01-02,buy,TCS,,1,100,,,"two\nline note",\n\n2024-01-03,buy,NOPE,,1,100,,,,\n'
    )
    with pytest.raises(ImportFailed) as failed:
        transactions_csv_parse(content=content.encode())

    assert [(e.line, e.field) for e in failed.value.errors] == [(5, "symbol")]


def test_unquoted_thousands_separator_is_reported_instead_of_shifting_columns() -> None:
    content = STOCKSENSE_HEADER + "2024-01-02,buy,TCS,NSE,1,1,650.25,,,note,x\n"

    with pytest.raises(ImportFailed) as failed:
        transactions_csv_parse(content=content.encode())

    assert [(e.line, e.field) for e in failed.value.errors] == [(2, "")]


# --- the Zerodha tradebook ---------------------------------------------------------------------


def test_zerodha_tradebook_imports_equity_fills_and_skips_derivatives(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["format"], body["imported"], body["skipped_duplicates"]) == ("zerodha", 5, 0)
    assert [line["line"] for line in body["skipped_other"]] == [4]
    assert "FO" in body["skipped_other"][0]["reason"]
    assert _stored(portfolio) == [
        ("buy", "RELIANCE", _ist(2024, 1, 15, 9, 30, 12), D("10"), D("2450.50"), D("0"), "10001"),
        ("buy", "RELIANCE", _ist(2024, 1, 15, 9, 30, 12), D("5"), D("2451"), D("0"), "10002"),
        ("buy", "HDFCBANK", _ist(2024, 1, 17, 11, 11, 11), D("20"), D("1650.25"), D("0"), "10003"),
        # No execution time: the trade date at 15:30 IST.
        ("sell", "RELIANCE", _ist(2024, 2, 1, 15, 30), D("12"), D("2600"), D("0"), "10004"),
        # Symbol unknown (renamed), found by its ISIN.
        ("buy", "INFY", _ist(2024, 2, 5, 14, 0), D("3"), D("1650"), D("0"), "10005"),
    ]
    assert set(Transaction.objects.values_list("source", flat=True)) == {"zerodha"}
    assert not any(
        Transaction.objects.filter(portfolio=portfolio)
        .values_list("brokerage", "stt", "exchange_fees", "gst", "stamp_duty", "other_charges")
        .distinct()[0]
    )


def test_zerodha_columns_in_any_order_with_extras_and_day_first_dates(
    portfolio: Portfolio,
) -> None:
    parsed = transactions_csv_parse(content=_fixture("zerodha_reordered.csv"))

    assert parsed.format == "zerodha"
    assert [
        (
            r.line,
            r.fields["kind"],
            r.fields["instrument"].pk,
            r.fields["executed_at"],
            r.fields["quantity"],
            r.fields["price"],
            r.fields["external_id"],
        )
        for r in parsed.rows
    ] == [
        (2, "buy", _pk("TCS"), _ist(2024, 3, 5, 15, 30), D("2"), D("3900"), "T-9001"),
        (3, "sell", _pk("TCS"), _ist(2024, 3, 6, 13, 45), D("1"), D("3950.50"), "T-9002"),
    ]
    assert [s.line for s in parsed.skipped] == [4]


def test_a_bse_trade_of_an_instrument_carried_only_on_nse_is_found_by_isin() -> None:
    content = ZERODHA_HEADER + "RELIANCE,INE002A01018,2024-01-15,BSE,EQ,A,buy,false,1,2450,1,1,\n"

    parsed = transactions_csv_parse(content=content.encode())

    assert parsed.rows[0].fields["instrument"].pk == _pk("RELIANCE")


def test_bom_crlf_and_blank_trailing_lines_read_like_the_plain_file(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    plain = _fixture("zerodha_tradebook.csv")
    windows = b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n") + b"\r\n\r\n  \r\n"

    response = _post(auth_client, portfolio, windows)

    assert response.status_code == 200, response.json()
    assert response.json()["imported"] == 5
    assert response.json()["skipped_other"][0]["line"] == 4
    assert [pk for *_, pk in _stored(portfolio)] == ["10001", "10002", "10003", "10004", "10005"]


def test_reimporting_the_same_tradebook_imports_nothing_and_skips_every_fill(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    assert _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv")).status_code == 200

    again = _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"))

    assert again.status_code == 200
    assert (again.json()["imported"], again.json()["skipped_duplicates"]) == (0, 5)
    assert Transaction.objects.filter(portfolio=portfolio).count() == 5


def test_a_trade_id_repeated_in_the_file_is_imported_once(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    content = ZERODHA_HEADER + (
        "TCS,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,77,1,\n"
        "TCS,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,77,1,\n"
        "TCS,,2024-03-06,NSE,EQ,EQ,buy,false,1,3910,78,2,\n"
    )
    response = _post(auth_client, portfolio, content)

    assert (response.json()["imported"], response.json()["skipped_duplicates"]) == (2, 1)
    assert sorted(Transaction.objects.values_list("external_id", flat=True)) == ["77", "78"]


def test_zerodha_rows_with_bad_values_are_reported_by_column_name() -> None:
    content = ZERODHA_HEADER + (
        "TCS,,2024/03/05,NSE,EQ,EQ,buy,false,2,3900,1,1,\n"
        "TCS,,2024-03-05,NSE,EQ,EQ,short,false,2,3900,2,1,\n"
        "TCS,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,,1,\n"
        "TCS,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,4,1,yesterday\n"
        "NIFTY 50,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,5,1,\n"
    )
    with pytest.raises(ImportFailed) as failed:
        transactions_csv_parse(content=content.encode())

    assert [(e.line, e.field) for e in failed.value.errors] == [
        (2, "trade_date"),
        (3, "trade_type"),
        (4, "trade_id"),
        (5, "order_execution_time"),
        (6, "symbol"),  # an index cannot be held
    ]


# --- all or nothing ---------------------------------------------------------------------------


def test_an_oversell_inside_the_file_is_reported_on_its_line_with_nothing_stored(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    content = ZERODHA_HEADER + (
        "TCS,,2024-03-05,NSE,EQ,EQ,buy,false,2,3900,1,1,\n"
        "TCS,,2024-03-06,NSE,EQ,EQ,sell,false,3,3950,2,2,\n"
        "INFY,,2024-03-06,NSE,EQ,EQ,buy,false,3,1500,3,3,\n"
    )
    response = _post(auth_client, portfolio, content)

    assert response.status_code == 400
    assert _errors(response) == [(3, "quantity")]
    assert "held 2 TCS" in response.json()["errors"][0]["message"]
    assert not Transaction.objects.exists()


def test_a_new_sell_that_leaves_a_stored_later_sell_uncovered_fails_the_whole_file(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    tcs = Instrument.objects.get(exchange__code="NSE", symbol="TCS")
    Transaction.objects.create(
        portfolio=portfolio,
        kind="buy",
        instrument=tcs,
        quantity=10,
        price=100,
        executed_at=_ist(2024, 1, 10, 10),
    )
    Transaction.objects.create(
        portfolio=portfolio,
        kind="sell",
        instrument=tcs,
        quantity=10,
        price=120,
        executed_at=_ist(2024, 3, 10, 10),
    )
    content = ZERODHA_HEADER + "TCS,,2024-02-05,NSE,EQ,EQ,sell,false,5,110,1,1,\n"

    response = _post(auth_client, portfolio, content)

    assert response.status_code == 400
    assert _errors(response) == [(0, "quantity")]  # line 0: the file as a whole
    assert "2024-03-10" in response.json()["errors"][0]["message"]
    assert Transaction.objects.filter(portfolio=portfolio).count() == 2


def test_dry_run_reports_the_counts_and_stores_nothing(
    auth_client: APIClient, portfolio: Portfolio, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"), dry_run="true")

    assert response.status_code == 200
    assert (response.json()["imported"], response.json()["dry_run"]) == (5, True)
    assert not Transaction.objects.exists()
    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from is None
    assert callbacks == []


def test_dry_run_finds_the_same_history_errors_as_a_real_import(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    content = ZERODHA_HEADER + "TCS,,2024-03-06,NSE,EQ,EQ,sell,false,3,3950,2,2,\n"

    response = _post(auth_client, portfolio, content, dry_run="true")

    assert response.status_code == 400
    assert _errors(response) == [(2, "quantity")]


def test_import_marks_snapshots_stale_from_the_earliest_new_day_and_queues_a_rebuild(
    auth_client: APIClient, portfolio: Portfolio, django_capture_on_commit_callbacks: Any
) -> None:
    portfolio.snapshots_stale_from = date(2024, 6, 1)
    portfolio.save()

    with django_capture_on_commit_callbacks() as callbacks:
        _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"))

    portfolio.refresh_from_db()
    assert portfolio.snapshots_stale_from == date(2024, 1, 15)
    rebuilds = [c for c in callbacks if getattr(c, "func", None) is services._queue_rebuild]
    assert len(rebuilds) == 1
    assert len(callbacks) == 2  # and the owner's `portfolio.changed` (tests/test_live.py)


def test_the_error_list_is_capped_and_says_how_many_more(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    content = ZERODHA_HEADER + "".join(
        f"NOPE{i},,2024-03-05,NSE,EQ,EQ,buy,false,1,10,{i},1,\n" for i in range(250)
    )
    response = _post(auth_client, portfolio, content)

    body = response.json()
    assert response.status_code == 400
    assert (len(body["errors"]), body["more_errors"]) == (200, 50)
    assert body["errors"][-1]["line"] == 201
    assert "50" in body["detail"]


# --- files that are not usable at all ----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "empty"),
        (STOCKSENSE_HEADER.encode(), "no transactions"),
        (ZERODHA_HEADER.encode() + b"\n\n", "no transactions"),
        (b"when,what,who\n2024-01-01,buy,TCS\n", "header"),
        (b"\xff\xfed\x00a\x00t\x00e\x00", "UTF-8"),
    ],
    ids=["empty", "bom-only", "header-only", "zerodha-header-only", "unknown-header", "utf16"],
)
def test_unusable_files_answer_400_with_a_clear_message(
    auth_client: APIClient, portfolio: Portfolio, content: bytes, words: str
) -> None:
    response = _post(auth_client, portfolio, content)

    assert response.status_code == 400
    assert words in response.json()["detail"]


def test_a_format_given_explicitly_must_match_the_header(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _post(auth_client, portfolio, _fixture("stocksense_sample.csv"), format="zerodha")

    assert response.status_code == 400
    assert "trade_date" in {e["field"] for e in response.json()["errors"]}


def test_more_rows_than_the_limit_is_refused(
    auth_client: APIClient, portfolio: Portfolio, settings: Any
) -> None:
    settings.PORTFOLIO_IMPORT_MAX_ROWS = 4

    response = _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"))

    assert response.status_code == 400
    assert "4" in response.json()["detail"]
    assert not Transaction.objects.exists()


def test_a_file_larger_than_the_upload_cap_is_refused_before_reading(
    auth_client: APIClient, portfolio: Portfolio, settings: Any
) -> None:
    settings.PORTFOLIO_IMPORT_MAX_ROWS = 1  # 512 bytes; the file has 763

    response = _post(auth_client, portfolio, _fixture("zerodha_tradebook.csv"))

    assert response.status_code == 400
    assert "0.0 MB" in response.json()["detail"]


def test_a_request_without_a_file_is_a_field_error(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = auth_client.post(_url(portfolio), {"format": "zerodha"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


# --- who may import ---------------------------------------------------------------------------


def test_outsider_gets_the_same_404_as_for_a_missing_portfolio(
    portfolio: Portfolio, other_user: Any
) -> None:
    outsider = APIClient()
    outsider.force_authenticate(other_user)

    theirs = _post(outsider, portfolio, _fixture("zerodha_tradebook.csv"))
    missing = _post(outsider, portfolio.pk + 1000, _fixture("zerodha_tradebook.csv"))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert not Transaction.objects.exists()


def test_anonymous_cannot_import(api_client: APIClient, portfolio: Portfolio) -> None:
    response = _post(api_client, portfolio, _fixture("zerodha_tradebook.csv"))

    assert response.status_code in (401, 403)
    assert not Transaction.objects.exists()


def test_schema_documents_a_multipart_import(auth_client: APIClient) -> None:
    schema = auth_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/portfolios/{portfolio_id}/import/"]["post"]

    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "400", "404"} <= set(operation["responses"])


# --- size -------------------------------------------------------------------------------------


def test_a_50000_row_tradebook_imports_in_reasonable_time(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    instruments = list(
        Instrument.objects.filter(exchange__code="NSE", kind="equity")
        .order_by("symbol")
        .values_list("symbol", "isin")[:25]
    )
    lines = [ZERODHA_HEADER]
    trades_of: dict[str, int] = {}
    sells = 0
    start = datetime(2019, 1, 1, 9, 15)  # noqa: DTZ001 - no offset in the file, as Console writes
    for i in range(50_000):
        symbol, isin = instruments[i % len(instruments)]
        nth = trades_of[symbol] = trades_of.get(symbol, 0) + 1
        # buy 2, buy 2, sell 3: holdings grow by one share every three trades, never negative.
        side, quantity = ("sell", 3) if nth % 3 == 0 else ("buy", 2)
        sells += side == "sell"
        when = start + timedelta(minutes=45 * i)
        lines.append(
            f"{symbol},{isin},{when:%Y-%m-%d},NSE,EQ,EQ,{side},false,{quantity},"
            f"{1000 + i % 97}.05,{9_000_000 + i},{i},{when:%Y-%m-%dT%H:%M:%S}\n"
        )
    content = "".join(lines).encode()

    began = clock.perf_counter()
    response = _post(auth_client, portfolio, content)
    took = clock.perf_counter() - began

    print(f"\n50,000-row Zerodha import: {took:.1f} s ({len(content) / 1e6:.1f} MB)")
    assert response.status_code == 200, response.json()["detail"]
    assert response.json()["imported"] == 50_000
    stored = Transaction.objects.filter(portfolio=portfolio)
    assert stored.count() == 50_000
    assert stored.filter(kind="sell").count() == sells
    assert took < 60
