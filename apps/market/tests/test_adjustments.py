"""Corporate actions: `import_corporate_actions`, adjustment factors, adjusted OHLCV."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from apps.market.adjustments import adjust_ohlcv, adjustment_factors
from apps.market.models import CorporateAction, CorporateActionKind, Instrument

IST = ZoneInfo("Asia/Kolkata")


def _write(tmp_path: Path, lines: list[str], name: str = "actions.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path) -> str:
    out = StringIO()
    call_command("import_corporate_actions", "--csv", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def _actions() -> list[tuple[Any, ...]]:
    return list(
        CorporateAction.objects.order_by("pk").values_list(
            "pk",
            "instrument__symbol",
            "instrument__exchange__code",
            "kind",
            "ex_date",
            "ratio_from",
            "ratio_to",
            "note",
        )
    )


def _action(kind: str, ex_date: date, ratio_from: int, ratio_to: int) -> CorporateAction:
    return CorporateAction(kind=kind, ex_date=ex_date, ratio_from=ratio_from, ratio_to=ratio_to)


def _seconds(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=IST).timestamp())


ACTIONS = [
    "Symbol,Kind,Ex_Date,Ratio,Note,Exchange",
    "RELIANCE,bonus,2024-10-28,1:1,Bonus 1:1,NSE",
    "TCS,split,2025-06-02,1:5,Face value 10 to 2,",
    "SENSEX,bonus,2025-07-01,1:2,,BSE",
]


@pytest.mark.django_db
def test_import_creates_actions_and_reimport_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, ACTIONS)

    assert "3 created, 0 updated, 0 unchanged" in _run(path)
    first = _actions()
    assert [row[1:] for row in first] == [
        ("RELIANCE", "NSE", "bonus", date(2024, 10, 28), 1, 1, "Bonus 1:1"),
        ("TCS", "NSE", "split", date(2025, 6, 2), 1, 5, "Face value 10 to 2"),
        ("SENSEX", "BSE", "bonus", date(2025, 7, 1), 1, 2, ""),
    ]

    assert "0 created, 0 updated, 3 unchanged" in _run(path)
    assert _actions() == first

    changed = [*ACTIONS[:2], "TCS,split,2025-06-02,1:10,Face value 10 to 1,"]
    assert "0 created, 1 updated, 1 unchanged" in _run(_write(tmp_path, changed, "b.csv"))
    assert _actions()[1][1:] == (
        "TCS",
        "NSE",
        "split",
        date(2025, 6, 2),
        1,
        10,
        "Face value 10 to 1",
    )


@pytest.mark.django_db
def test_bad_action_rows_are_named_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    lines = [
        "symbol,exchange,kind,ex_date,ratio,note",
        "RELIANCE,NSE,bonus,2024-10-28,1:1,ok",
        "NOPE,NSE,split,2025-01-01,1:5,",  # line 3
        "TCS,NSE,dividend,2025-01-01,1:5,",  # line 4
        "TCS,NSE,split,2025-13-01,1:5,",  # line 5
        "TCS,NSE,split,2025-01-01,5,",  # line 6
        "TCS,NSE,split,2025-01-01,0:5,",  # line 7
        "RELIANCE,NSE,bonus,2024-10-28,1:1,again",  # line 8
    ]

    with pytest.raises(CommandError) as excinfo:
        _run(_write(tmp_path, lines))

    message = str(excinfo.value)
    assert "6 invalid line(s)" in message
    assert "line 3: unknown instrument NSE:'NOPE'" in message
    assert "line 4: kind 'dividend' is not one of split, bonus" in message
    assert "line 5: ex_date '2025-13-01' is not a date" in message
    assert "line 6: ratio '5' is not two positive whole numbers" in message
    assert "line 7: ratio '0:5'" in message
    assert "line 8: the same bonus of NSE:RELIANCE is on line 2" in message
    assert not CorporateAction.objects.exists()


@pytest.mark.django_db
def test_missing_action_columns_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"line 1: missing column\(s\): ratio"):
        _run(_write(tmp_path, ["symbol,kind,ex_date", "TCS,split,2025-01-01"]))


def test_factors_cover_bars_before_the_ex_date_and_compound() -> None:
    split = _action(CorporateActionKind.SPLIT, date(2025, 6, 2), 1, 5)
    bonus = _action(CorporateActionKind.BONUS, date(2025, 3, 3), 1, 1)
    starts = np.array(
        [
            _seconds(2025, 2, 28),  # before both
            _seconds(2025, 3, 2, 23, 59),  # still before the bonus ex-date (IST)
            _seconds(2025, 3, 3),  # the bonus ex-date itself: only the split
            _seconds(2025, 3, 3, 9, 15),
            _seconds(2025, 5, 30, 15, 29),
            _seconds(2025, 6, 2),  # after both
            _seconds(2025, 6, 10),
        ],
        dtype=np.int64,
    )

    assert split.factor() == 5
    assert bonus.factor() == 2
    assert adjustment_factors([split], starts).tolist() == [5, 5, 5, 5, 5, 1, 1]
    assert adjustment_factors([bonus], starts).tolist() == [2, 2, 1, 1, 1, 1, 1]
    assert adjustment_factors([split, bonus], starts).tolist() == [10, 10, 5, 5, 5, 1, 1]
    assert adjustment_factors([], starts).tolist() == [1.0] * 7


def test_a_bonus_of_one_for_two_divides_by_one_and_a_half() -> None:
    bonus = _action(CorporateActionKind.BONUS, date(2025, 3, 3), 1, 2)
    frame = pd.DataFrame(
        {
            "start": [_seconds(2025, 2, 28), _seconds(2025, 3, 3)],
            "open": [Decimal("300.00"), Decimal("200.00")],
            "high": [Decimal("301.00"), Decimal("201.00")],
            "low": [Decimal("299.00"), Decimal("199.00")],
            "close": [Decimal("300.05"), Decimal("200.00")],
            "volume": [1000, 1500],
        }
    )

    adjusted = adjust_ohlcv(frame, [bonus])

    assert adjusted["close"].tolist() == [Decimal("200.0333"), Decimal("200.0000")]
    assert adjusted["open"].tolist() == [Decimal("200.0000"), Decimal("200.0000")]
    assert adjusted["volume"].tolist() == [1500, 1500]


def test_split_of_one_to_five_and_compounded_actions_adjust_floats() -> None:
    split = _action(CorporateActionKind.SPLIT, date(2025, 6, 2), 1, 5)
    bonus = _action(CorporateActionKind.BONUS, date(2025, 3, 3), 1, 1)
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2025-02-28", "2025-04-01", "2025-06-02"]).tz_localize(IST),
            "open": [3000.0, 1500.0, 300.0],
            "high": [3010.0, 1510.0, 301.0],
            "low": [2990.0, 1490.0, 299.0],
            "close": [3001.0, 1501.0, 300.5],
            "volume": [100, 200, 1000],
        }
    )

    adjusted = adjust_ohlcv(frame, [split, bonus])

    assert adjusted["open"].tolist() == [300.0, 300.0, 300.0]
    assert adjusted["close"].tolist() == [300.1, 300.2, 300.5]
    assert adjusted["high"].tolist() == [301.0, 302.0, 301.0]
    assert adjusted["volume"].tolist() == [1000, 1000, 1000]
    assert frame["open"].tolist() == [3000.0, 1500.0, 300.0]  # the input is left alone


@pytest.mark.django_db
def test_a_one_for_one_bonus_shows_no_crash_in_adjusted_closes(tmp_path: Path) -> None:
    _run(_write(tmp_path, ["symbol,kind,ex_date,ratio", "RELIANCE,bonus,2025-03-05,1:1"]))
    actions = list(CorporateAction.objects.filter(instrument__symbol="RELIANCE"))
    days = [date(2025, 3, 3) + timedelta(days=offset) for offset in range(4)]
    # Raw closes: ~2,500 until the ex-date, ~1,250 from it (the share count doubled).
    raw_closes = [Decimal("2500.10"), Decimal("2510.30"), Decimal("1256.00"), Decimal("1260.40")]
    frame = pd.DataFrame(
        {
            "start": [datetime(d.year, d.month, d.day, tzinfo=IST) for d in days],
            "open": raw_closes,
            "high": raw_closes,
            "low": raw_closes,
            "close": raw_closes,
            "volume": [10, 10, 20, 20],
        }
    )

    raw_returns = [float(b / a - 1) for a, b in zip(raw_closes, raw_closes[1:], strict=False)]
    adjusted = adjust_ohlcv(frame, actions)["close"].tolist()
    adjusted_returns = [float(b / a - 1) for a, b in zip(adjusted, adjusted[1:], strict=False)]

    assert min(raw_returns) < -0.49  # the raw series "crashes" by half on the ex-date
    assert adjusted == [
        Decimal("1250.0500"),
        Decimal("1255.1500"),
        Decimal("1256.0000"),
        Decimal("1260.4000"),
    ]
    assert all(abs(change) < 0.01 for change in adjusted_returns)
    assert Instrument.objects.get(symbol="RELIANCE").corporate_actions.count() == 1
