"""CSV export: the exact lines written, a streamed download with a file name, owner-only,
and export → import into an empty portfolio recreating the same transactions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.market.models import Instrument
from apps.portfolios.models import Portfolio, Transaction

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")
D = Decimal
HEADER = (
    "date,kind,symbol,exchange,quantity,price,amount,ratio,brokerage,stt,exchange_fees,gst,"
    "stamp_duty,other_charges,notes,trade_id"
)
COMPARED = (
    "kind", "instrument_id", "executed_at", "quantity", "price", "amount", "ratio_from",
    "ratio_to", "brokerage", "stt", "exchange_fees", "gst", "stamp_duty", "other_charges",
    "notes", "external_id",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _market(market_seed: None) -> None:
    pass


@pytest.fixture
def portfolio(user: Any) -> Portfolio:
    """Every kind, written directly (not through the importer under test)."""
    portfolio = Portfolio.objects.create(owner=user, name="Retirement Fund")
    tcs = Instrument.objects.get(exchange__code="NSE", symbol="TCS")
    mm = Instrument.objects.get(exchange__code="NSE", symbol="M&M")
    rows: list[dict[str, Any]] = [
        {
            "kind": "deposit",
            "amount": D("250000"),
            "notes": "Salary, April",
            "executed_at": datetime(2023, 4, 3, 9, 0, tzinfo=IST),
        },
        {
            "kind": "buy",
            "instrument": tcs,
            "quantity": D("12.5"),
            "price": D("3201.0500"),
            "brokerage": D("20"),
            "stt": D("40.01"),
            "exchange_fees": D("1.3"),
            "gst": D("3.84"),
            "stamp_duty": D("6"),
            "external_id": "Z-1",
            # 04:05:06.789 UTC is 09:35:06.789 in India: written with its offset.
            "executed_at": datetime(2023, 4, 3, 4, 5, 6, 789000, tzinfo=UTC),
        },
        {
            "kind": "buy",
            "instrument": mm,
            "quantity": D("3"),
            "price": D("1200"),
            "other_charges": D("15.5"),
            "notes": '=HYPERLINK("http://x")',
            "executed_at": datetime(2023, 5, 2, 15, 30, tzinfo=IST),
        },
        {
            "kind": "split",
            "instrument": tcs,
            "ratio_from": 1,
            "ratio_to": 2,
            "executed_at": datetime(2023, 6, 1, 15, 30, tzinfo=IST),
        },
        {
            "kind": "bonus",
            "instrument": mm,
            "ratio_from": 1,
            "ratio_to": 1,
            "executed_at": datetime(2023, 7, 1, 15, 30, tzinfo=IST),
        },
        {
            "kind": "dividend",
            "instrument": tcs,
            "amount": D("450.75"),
            "executed_at": datetime(2023, 8, 1, 15, 30, tzinfo=IST),
        },
        {
            "kind": "sell",
            "instrument": tcs,
            "quantity": D("20"),
            "price": D("3600"),
            "brokerage": D("20"),
            "external_id": "-leading dash",
            "notes": "हिंदी नोट",
            "executed_at": datetime(2023, 9, 1, 10, 0, tzinfo=IST),
        },
        {
            "kind": "fee",
            "amount": D("300"),
            "executed_at": datetime(2023, 9, 30, 15, 30, tzinfo=IST),
        },
        {
            "kind": "withdrawal",
            "amount": D("1000"),
            "executed_at": datetime(2023, 10, 2, 15, 30, tzinfo=IST),
        },
    ]
    for row in rows:
        Transaction.objects.create(portfolio=portfolio, **row)
    return portfolio


def _url(portfolio: Portfolio | int, action: str = "export") -> str:
    return f"/api/v1/portfolios/{getattr(portfolio, 'pk', portfolio)}/{action}/"


def _download(client: APIClient, portfolio: Portfolio | int, **headers: Any) -> Any:
    return client.get(_url(portfolio), **headers)


def _text(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _values(portfolio: Portfolio) -> list[tuple[Any, ...]]:
    return list(
        Transaction.objects.filter(portfolio=portfolio)
        .order_by("executed_at", "id")
        .values_list(*COMPARED)
    )


def test_export_writes_one_line_per_transaction_in_time_order(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _download(auth_client, portfolio)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = _text(response)
    assert text.startswith("\ufeff")  # so Excel reads UTF-8
    assert text[1:].split("\r\n") == [
        HEADER,
        '2023-04-03T09:00:00+05:30,deposit,,,,,250000,,,,,,,,"Salary, April",',
        "2023-04-03T09:35:06.789000+05:30,buy,TCS,NSE,12.5,3201.05,,,20,40.01,1.3,3.84,6,,,Z-1",
        # A note a spreadsheet would run as a formula gets a leading apostrophe.
        '2023-05-02T15:30:00+05:30,buy,M&M,NSE,3,1200,,,,,,,,15.5,"\'=HYPERLINK(""http://x"")",',
        "2023-06-01T15:30:00+05:30,split,TCS,NSE,,,,1:2,,,,,,,,",
        "2023-07-01T15:30:00+05:30,bonus,M&M,NSE,,,,1:1,,,,,,,,",
        "2023-08-01T15:30:00+05:30,dividend,TCS,NSE,,,450.75,,,,,,,,,",
        "2023-09-01T10:00:00+05:30,sell,TCS,NSE,20,3600,,,20,,,,,,हिंदी नोट,'-leading dash",
        "2023-09-30T15:30:00+05:30,fee,,,,,300,,,,,,,,,",
        "2023-10-02T15:30:00+05:30,withdrawal,,,,,1000,,,,,,,,,",
        "",
    ]


def test_export_names_the_file_after_the_portfolio_and_the_day(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    response = _download(auth_client, portfolio)

    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="retirement-fund-transactions-')
    assert disposition.endswith('.csv"')


def test_an_empty_portfolio_exports_the_header_only(auth_client: APIClient, user: Any) -> None:
    empty = Portfolio.objects.create(owner=user, name="Empty")

    assert _text(_download(auth_client, empty)) == "\ufeff" + HEADER + "\r\n"


def test_export_then_import_into_an_empty_portfolio_gives_identical_transactions(
    auth_client: APIClient, portfolio: Portfolio, user: Any
) -> None:
    exported = b"".join(_download(auth_client, portfolio).streaming_content)
    copy = Portfolio.objects.create(owner=user, name="Copy")

    response = auth_client.post(
        _url(copy, "import"),
        {"file": SimpleUploadedFile("export.csv", exported, content_type="text/csv")},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["format"] == "stocksense"
    assert response.json()["imported"] == 9
    assert _values(copy) == _values(portfolio)


def test_reimporting_an_export_into_its_own_portfolio_skips_only_rows_with_a_trade_id(
    auth_client: APIClient, portfolio: Portfolio
) -> None:
    """A row without a trade id cannot be told from a new one (docs/portfolios-csv.md)."""
    exported = b"".join(_download(auth_client, portfolio).streaming_content)

    response = auth_client.post(
        _url(portfolio, "import"),
        {
            "file": SimpleUploadedFile("export.csv", exported, content_type="text/csv"),
            "dry_run": "true",
        },
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["imported"], response.json()["skipped_duplicates"]) == (7, 2)
    assert Transaction.objects.filter(portfolio=portfolio).count() == 9


def test_outsider_gets_the_same_404_as_for_a_missing_portfolio(
    portfolio: Portfolio, other_user: Any
) -> None:
    outsider = APIClient()
    outsider.force_authenticate(other_user)

    theirs = _download(outsider, portfolio, HTTP_ACCEPT="text/csv")
    missing = _download(outsider, portfolio.pk + 1000, HTTP_ACCEPT="text/csv")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_anonymous_cannot_export(api_client: APIClient, portfolio: Portfolio) -> None:
    assert _download(api_client, portfolio).status_code in (401, 403)


def test_schema_documents_the_csv_export(auth_client: APIClient) -> None:
    schema = auth_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/portfolios/{portfolio_id}/export/"]["get"]

    assert "text/csv" in operation["responses"]["200"]["content"]
