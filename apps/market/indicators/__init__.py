"""Vectorised technical indicators (TA-Lib wrappers + hand-written extras).

See docs/indicators.md.  Typical use from an API view::

    from apps.market.indicators import INDICATORS, IndicatorError, compute

    out = compute("rsi", {"close": closes}, period=14)   # {"rsi": ndarray}
"""

from .core import (
    PATTERN_NAMES,
    adx,
    atr,
    bollinger,
    cci,
    ema,
    macd,
    mfi,
    obv,
    pattern,
    pattern_params,
    rsi,
    sma,
    stochastic,
    williams_r,
    wma,
)
from .custom import MARKET_TZ, donchian, session_ids, supertrend, vwap
from .errors import IndicatorError
from .incremental import EMAState, MACDState, MACDValue, RSIState
from .registry import (
    INDICATORS,
    PERIOD_MAX,
    IndicatorSpec,
    Param,
    compute,
    get_spec,
    validate_params,
)

__all__ = [
    "INDICATORS",
    "MARKET_TZ",
    "PATTERN_NAMES",
    "PERIOD_MAX",
    "EMAState",
    "IndicatorError",
    "IndicatorSpec",
    "MACDState",
    "MACDValue",
    "Param",
    "RSIState",
    "adx",
    "atr",
    "bollinger",
    "cci",
    "compute",
    "donchian",
    "ema",
    "get_spec",
    "macd",
    "mfi",
    "obv",
    "pattern",
    "pattern_params",
    "rsi",
    "session_ids",
    "sma",
    "stochastic",
    "supertrend",
    "validate_params",
    "vwap",
    "williams_r",
    "wma",
]
