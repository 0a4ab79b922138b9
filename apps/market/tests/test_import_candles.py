"""`manage.py import_candles`: OHLCV CSV bars validated as a whole, then written with REPLACE."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from apps.market.models import Candle, DataSource, Instrument

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")

DAILY = [
    "Date,Open,High,Low,Close,Volume",
    "2025-01-01,1200,1215.5,1190,1210.25,1000",
    "2025-01-02,1210,1230,1205,1225,2000",
    "2025-01-03,1225,1226,1180.05,1190,3000",
]


def _write(tmp_path: Path, lines: list[str], name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path, *args: str, timeframe: str = "1d", symbol: str = "RELIANCE") -> str:
    out = StringIO()
    call_command(
        "import_candles",
        "--csv",
        str(path),
        "--symbol",
        symbol,
        "--timeframe",
        timeframe,
        *args,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def _bars(timeframe: str = "1d") -> list[tuple[Any, ...]]:
    return list(
        Candle.objects.filter(instrument__symbol="RELIANCE", timeframe=timeframe)
        .order_by("start")
        .values_list("start", "open", "high", "low", "close", "volume", "source")
    )


def _ist(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


def test_import_writes_daily_bars_at_ist_midnight_from_the_csv(tmp_path: Path) -> None:
    output = _run(_write(tmp_path, DAILY))

    assert "3 rows read, 3 changed" in output
    assert _bars() == [
        (
            _ist(2025, 1, 1),
            Decimal("1200"),
            Decimal("1215.5"),
            Decimal("1190"),
            Decimal("1210.25"),
            1000,
            DataSource.CSV,
        ),
        (
            _ist(2025, 1, 2),
            Decimal("1210"),
            Decimal("1230"),
            Decimal("1205"),
            Decimal("1225"),
            2000,
            DataSource.CSV,
        ),
        (
            _ist(2025, 1, 3),
            Decimal("1225"),
            Decimal("1226"),
            Decimal("1180.05"),
            Decimal("1190"),
            3000,
            DataSource.CSV,
        ),
    ]


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, DAILY)
    _run(path)
    before = list(Candle.objects.order_by("pk").values_list())

    output = _run(path)

    assert "3 rows read, 0 changed" in output
    assert list(Candle.objects.order_by("pk").values_list()) == before


def test_reimporting_a_corrected_file_replaces_only_the_changed_bar(tmp_path: Path) -> None:
    _run(_write(tmp_path, DAILY))
    corrected = [*DAILY[:3], "2025-01-03,1225,1226,1180.05,1195,3100"]

    output = _run(_write(tmp_path, corrected, "fixed.csv"))

    assert "3 rows read, 1 changed" in output
    assert _bars()[-1][4:6] == (Decimal("1195"), 3100)


def test_headers_match_in_any_case_and_order_and_extra_columns_are_ignored(
    tmp_path: Path,
) -> None:
    lines = [
        " VOLUME ,Adj Close,close,LOW,High,open,DATE",
        "1000,1.0,1210.25,1190,1215.5,1200,2025-01-01",
    ]

    _run(_write(tmp_path, lines))

    assert _bars()[0][1:6] == (
        Decimal("1200"),
        Decimal("1215.5"),
        Decimal("1190"),
        Decimal("1210.25"),
        1000,
    )


def test_a_csv_with_a_byte_order_mark_and_datetime_column_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffdatetime,open,high,low,close,volume\n2025-01-01,10,11,9,10,5\n")

    _run(path)

    assert _bars()[0][0] == _ist(2025, 1, 1)


def test_naive_times_are_ist_offsets_are_respected_and_epoch_seconds_are_accepted(
    tmp_path: Path,
) -> None:
    first = _ist(2025, 1, 2, 9, 15)
    lines = [
        "timestamp,open,high,low,close,volume",
        "2025-01-02 09:15:00,10,11,9,10,1",  # naive: IST
        "2025-01-02T03:46:00+00:00,10,11,9,10,2",  # 09:16 IST
        "2025-01-02T09:17:00+05:30,10,11,9,10,3",
        f"{int(first.timestamp()) + 180},10,11,9,10,4",  # 09:18 IST
    ]

    _run(_write(tmp_path, lines), timeframe="1m")

    assert [(bar[0], bar[5]) for bar in _bars("1m")] == [
        (_ist(2025, 1, 2, 9, 15 + minute), minute + 1) for minute in range(4)
    ]


def test_bad_rows_are_named_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    lines = [
        "date,open,high,low,close,volume",
        "2025-01-01,1200,1215,1190,1210,1000",
        "2025-01-02,abc,1230,1205,1225,2000",  # line 3
        "2025-01-03,1225,1220,1180,1190,3000",  # line 4: high below open
        "2025-01-06,1225,1230,1180,1190,-5",  # line 5
        "2025-01-07,0,1230,1180,1190,5",  # line 6
        "2025-01-08,1225,1230,1180,1190,1.5",  # line 7
        "not a date,1225,1230,1180,1190,5",  # line 8
        "2025-01-01,1200,1215,1190,1210,1000",  # line 9: duplicate of line 2
    ]

    with pytest.raises(CommandError) as excinfo:
        _run(_write(tmp_path, lines))

    message = str(excinfo.value)
    assert "7 invalid line(s)" in message
    assert "nothing was imported" in message
    assert "line 3: open 'abc' is not a number" in message
    assert "line 4: prices must satisfy low <= open, close <= high" in message
    assert "line 5: volume '-5' is not a non-negative whole number" in message
    assert "line 6: open '0' is not a positive number" in message
    assert "line 7: volume '1.5'" in message
    assert "line 8: date 'not a date' is not a date/time" in message
    assert "line 9: 2025-01-01 00:00 IST already appears on line 2" in message
    assert not Candle.objects.exists()


def test_at_most_twenty_bad_lines_are_listed(tmp_path: Path) -> None:
    lines = ["date,open,high,low,close,volume"] + [
        f"2025-02-{day:02d},x,1,1,1,1" for day in range(1, 26)
    ]

    with pytest.raises(CommandError) as excinfo:
        _run(_write(tmp_path, lines))

    message = str(excinfo.value)
    assert "25 invalid line(s)" in message
    assert "line 21:" in message
    assert "line 22:" not in message
    assert "... and 5 more." in message


def test_times_not_at_the_start_of_a_bar_are_alignment_errors(tmp_path: Path) -> None:
    daily = [
        "datetime,open,high,low,close,volume",
        "2025-01-02 09:15,10,11,9,10,1",  # a 1d bar starts at 00:00 IST
        "2025-01-03T00:00:00+00:00,10,11,9,10,1",  # 05:30 IST
        "2025-01-06,10,11,9,10,1",
    ]
    with pytest.raises(CommandError) as excinfo:
        _run(_write(tmp_path, daily))
    message = str(excinfo.value)
    assert (
        "line 2: 2025-01-02 09:15 IST is not the start of a 1d bar "
        "(that bar starts at 2025-01-02 00:00 IST)" in message
    )
    assert "line 3: 2025-01-03 05:30 IST is not the start" in message
    assert "line 4" not in message

    five_minute = [
        "datetime,open,high,low,close,volume",
        "2025-01-02 09:15,10,11,9,10,1",
        "2025-01-02 09:22,10,11,9,10,1",  # 5m bars start at 09:15, 09:20, ...
        "2025-01-02 09:25:30,10,11,9,10,1",
    ]
    with pytest.raises(CommandError) as excinfo:
        _run(_write(tmp_path, five_minute, "5m.csv"), timeframe="5m")
    message = str(excinfo.value)
    assert "line 3: 2025-01-02 09:22 IST is not the start of a 5m bar" in message
    assert "line 4: 2025-01-02 09:25 IST is not the start of a 5m bar" in message
    assert "line 2" not in message
    assert not Candle.objects.exists()


def test_weekly_bars_start_on_monday(tmp_path: Path) -> None:
    lines = ["date,open,high,low,close", "2025-01-06,10,11,9,10", "2025-01-08,10,11,9,10"]

    with pytest.raises(CommandError, match="line 3: 2025-01-08 00:00 IST is not the start"):
        _run(_write(tmp_path, lines), timeframe="1w")


def test_missing_columns_unknown_symbol_and_timeframe_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"line 1: missing column\(s\): close"):
        _run(_write(tmp_path, ["date,open,high,low,volume", "2025-01-01,1,1,1,1"]))
    path = _write(tmp_path, DAILY)
    with pytest.raises(CommandError, match="Unknown symbol 'NOPE' on NSE"):
        _run(path, symbol="NOPE")
    with pytest.raises(CommandError, match="Unknown timeframe '2d'"):
        _run(path, timeframe="2d")
    with pytest.raises(CommandError, match="Unknown exchange 'XYZ'"):
        _run(path, "--exchange", "XYZ")
    with pytest.raises(CommandError, match="Cannot read"):
        _run(tmp_path / "missing.csv")


def test_the_exchange_option_picks_the_instrument(tmp_path: Path) -> None:
    sensex = Instrument.objects.get(exchange__code="BSE", symbol="SENSEX")

    _run(_write(tmp_path, DAILY), "--exchange", "BSE", symbol="sensex")

    assert Candle.objects.filter(instrument=sensex, timeframe="1d").count() == 3
