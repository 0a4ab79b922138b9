from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from apps.market.models import CorporateAction, CorporateActionKind
from apps.signals.bars import bars_load

from .conftest import bars_synthetic, candles_insert

pytestmark = pytest.mark.django_db


def test_bars_load_returns_stored_candles_oldest_first_as_floats(reliance):
    bars = bars_synthetic(30)
    candles_insert(reliance, "1d", bars)
    loaded = bars_load(instrument_id=reliance.id, timeframe="1d")
    assert list(loaded.columns) == ["open", "high", "low", "close", "volume"]
    assert loaded.index.equals(bars.index)
    np.testing.assert_allclose(loaded.to_numpy(), bars.to_numpy())


def test_bars_load_limits_to_the_latest_bars_within_bounds(reliance):
    bars = bars_synthetic(30)
    candles_insert(reliance, "1d", bars)
    loaded = bars_load(
        instrument_id=reliance.id, timeframe="1d", end=bars.index[20].to_pydatetime(), limit=5
    )
    assert loaded.index.equals(bars.index[15:20])
    assert bars_load(instrument_id=reliance.id, timeframe="15m").empty


def test_bars_load_adjusts_prices_before_a_split(reliance):
    bars = bars_synthetic(10)
    candles_insert(reliance, "1d", bars)
    # 1:2 split effective on the 6th bar's date (ex-date 00:00 IST, before its 09:15 start).
    ex_date = bars.index[5].tz_convert("Asia/Kolkata").date()
    CorporateAction.objects.create(
        instrument=reliance,
        kind=CorporateActionKind.SPLIT,
        ex_date=ex_date,
        ratio_from=1,
        ratio_to=2,
    )
    loaded = bars_load(instrument_id=reliance.id, timeframe="1d")
    assert loaded["close"].iloc[4] == pytest.approx(bars["close"].iloc[4] / 2)
    assert loaded["volume"].iloc[4] == pytest.approx(bars["volume"].iloc[4] * 2)
    assert loaded["close"].iloc[5] == pytest.approx(bars["close"].iloc[5])
    assert isinstance(ex_date, date)
