from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.signals.models import Signal, StrategyEvidence

from .conftest import bars_synthetic, candles_insert

pytestmark = pytest.mark.django_db


def test_signals_run_refreshes_evidence_and_reports_what_it_did(reliance: Any) -> None:
    candles_insert(reliance, "1d", bars_synthetic(300, start="2024-01-01 03:45"))
    out = StringIO()
    call_command("signals_run", "--timeframe", "1d", "--evidence", stdout=out)
    created = Signal.objects.filter(instrument=reliance, timeframe="1d").count()
    assert StrategyEvidence.objects.filter(instrument=reliance, timeframe="1d").exists()
    assert f"1d: {created} new signal(s), 0 resolved." in out.getvalue()
    call_command("signals_run", "--timeframe", "1d", stdout=out)  # idempotent
    assert Signal.objects.filter(instrument=reliance, timeframe="1d").count() == created


def test_signals_run_rejects_an_unknown_timeframe() -> None:
    with pytest.raises(CommandError, match="Unknown timeframe '2x'"):
        call_command("signals_run", "--timeframe", "2x")
