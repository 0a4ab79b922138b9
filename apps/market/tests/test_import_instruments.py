"""`manage.py import_instruments`: NSE's equity list, validated first, upserted in bulk."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.market.models import Instrument, isin_is_valid

pytestmark = pytest.mark.django_db

# NSE's own header, leading spaces included.
HEADER = (
    "SYMBOL,NAME OF COMPANY, SERIES, DATE OF LISTING, PAID UP VALUE, MARKET LOT,"
    " ISIN NUMBER, FACE VALUE"
)


def _isin(body: str) -> str:
    """`body` (11 characters) plus its check digit."""
    for digit in "0123456789":
        if isin_is_valid(body + digit):
            return body + digit
    raise AssertionError(body)


ROWS = [
    f"20MICRONS,20 Microns Limited,EQ,06-OCT-2008,5,1,{_isin('INE144J0102')},5",
    f"AARTIIND,Aarti Industries Limited,BE,06-JUL-2000,5,1,{_isin('INE769A0102')},5",
    "RELIANCE,Reliance Industries Limited,EQ,29-NOV-1995,10,1,INE002A01018,10",
    f"SMECO,Some SME Company Limited,SM,01-JAN-2024,10,1,{_isin('INE000S0101')},10",
]


def _write(tmp_path: Path, lines: list[str], name: str = "EQUITY_L.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_instruments", "--csv", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        Instrument.objects.order_by("pk").values_list(
            "pk", "exchange_id", "symbol", "name", "isin", "sector", "industry", "lot_size",
            "tick_size", "kind", "active",
        )
    )


def test_import_creates_equities_updates_changed_ones_and_skips_other_series(
    tmp_path: Path,
) -> None:
    before = Instrument.objects.count()
    output = _run(_write(tmp_path, [HEADER, *ROWS]))
    assert "2 created, 1 updated, 0 unchanged, 1 skipped" in output
    assert Instrument.objects.count() == before + 2
    micron = Instrument.objects.get(exchange__code="NSE", symbol="20MICRONS")
    assert (micron.name, micron.kind, micron.lot_size) == ("20 Microns Limited", "equity", 1)
    assert Instrument.objects.filter(symbol="AARTIIND").exists()  # BE series is equity too
    assert not Instrument.objects.filter(symbol="SMECO").exists()
    reliance = Instrument.objects.get(exchange__code="NSE", symbol="RELIANCE")
    # The name comes from the file; sector and industry (not in the file) are kept.
    assert reliance.name == "Reliance Industries Limited"
    assert reliance.sector == "Oil Gas & Consumable Fuels"


def test_a_second_import_of_the_same_file_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, *ROWS])
    _run(path)
    before = _snapshot()
    output = _run(path)
    assert "0 created, 0 updated, 3 unchanged, 1 skipped" in output
    assert _snapshot() == before


def test_headers_match_whatever_their_case_and_spacing(tmp_path: Path) -> None:
    header = "  symbol , Name  of Company,series,Market Lot ,isin number"
    path = _write(tmp_path, [header, f"ZZTEST,Zz Test Ltd,eq,25,{_isin('INE999Z0101')}"])
    assert "1 created" in _run(path)
    assert Instrument.objects.get(symbol="ZZTEST").lot_size == 25


def test_a_bad_row_is_named_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    lines = [
        HEADER,
        ROWS[0],
        "BADCO,Bad Company Limited,EQ,01-JAN-2020,10,1,INE123X01019,10",  # wrong check digit
        ROWS[1],
        "LOTCO,Lot Company Limited,EQ,01-JAN-2020,10,zero,INE002A01018,10",
    ]
    before = _snapshot()
    with pytest.raises(CommandError, match="2 invalid line") as info:
        call_command(
            "import_instruments", "--csv", str(_write(tmp_path, lines)), stdout=StringIO()
        )
    messages = str(info.value)
    assert "line 3: ISIN NUMBER 'INE123X01019' is not a valid ISIN." in messages
    assert "line 5: MARKET LOT 'zero' is not a positive whole number." in messages
    assert _snapshot() == before


def test_a_repeated_symbol_or_short_row_is_rejected(tmp_path: Path) -> None:
    lines = [HEADER, ROWS[0], ROWS[0], "SHORT,Short Row Ltd,EQ"]
    with pytest.raises(CommandError) as info:
        call_command(
            "import_instruments", "--csv", str(_write(tmp_path, lines)), stdout=StringIO()
        )
    assert "line 3: SYMBOL '20MICRONS' already appears on line 2." in str(info.value)
    assert "line 4: expected 8 fields, found 3." in str(info.value)
    assert not Instrument.objects.filter(symbol="20MICRONS").exists()


def test_a_missing_column_is_reported_on_line_one(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as info:
        call_command(
            "import_instruments", "--csv", str(_write(tmp_path, ["SYMBOL,SERIES", "X,EQ"])),
            stdout=StringIO(),
        )
    assert "line 1: missing column(s): NAME OF COMPANY, MARKET LOT, ISIN NUMBER." in str(
        info.value
    )


def test_an_unknown_exchange_or_missing_file_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, *ROWS])
    with pytest.raises(CommandError, match="Unknown exchange 'MCX'"):
        _run(path, "--exchange", "MCX")
    with pytest.raises(CommandError, match="Cannot read"):
        _run(tmp_path / "absent.csv")


def test_the_bse_exchange_can_be_chosen(tmp_path: Path) -> None:
    _run(_write(tmp_path, [HEADER, ROWS[0]]), "--exchange", "BSE")
    assert Instrument.objects.get(symbol="20MICRONS").exchange.code == "BSE"
