"""``STRATEGIES``: every strategy with its parameters, description and reasons."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from . import library as lib
from .base import Param, Strategy


def _period(name: str, default: int, *, minimum: int = 2, maximum: int = 500) -> Param:
    return Param(name, default, minimum, maximum)


def _fast_below_slow(params: Mapping[str, float]) -> None:
    if params["fast"] >= params["slow"]:
        raise ValueError(
            f"fast: must be smaller than slow (got fast={params['fast']}, slow={params['slow']})"
        )


def _oversold_below_overbought(params: Mapping[str, float]) -> None:
    if params["oversold"] >= params["overbought"]:
        raise ValueError("oversold: must be smaller than overbought")


_CROSS = (_period("fast", 20, minimum=1), _period("slow", 50, maximum=1000))
_BANDS = (_period("period", 20), Param("nbdev", 2.0, 0.1, 10.0, integer=False))

STRATEGIES: dict[str, Strategy] = {
    s.key: s
    for s in (
        Strategy(
            key="sma_crossover",
            name=_("SMA crossover"),
            description=_(
                "Buy when the fast simple moving average crosses above the slow one; "
                "sell when it crosses below."
            ),
            params=_CROSS,
            fn=lib.sma_crossover,
            buy_reason=_("SMA %(fast)s crossed above SMA %(slow)s"),
            sell_reason=_("SMA %(fast)s crossed below SMA %(slow)s"),
            readings=lib.ma_readings("SMA"),
            checks=(_fast_below_slow,),
        ),
        Strategy(
            key="ema_crossover",
            name=_("EMA crossover"),
            description=_(
                "Buy when the fast exponential moving average crosses above the slow one; "
                "sell when it crosses below. Reacts faster than the SMA version."
            ),
            params=_CROSS,
            fn=lib.ema_crossover,
            buy_reason=_("EMA %(fast)s crossed above EMA %(slow)s"),
            sell_reason=_("EMA %(fast)s crossed below EMA %(slow)s"),
            readings=lib.ma_readings("EMA"),
            checks=(_fast_below_slow,),
        ),
        Strategy(
            key="rsi_reversion",
            name=_("RSI mean reversion"),
            description=_(
                "Buy when RSI climbs back above the oversold level; sell when it falls back "
                "below the overbought level."
            ),
            params=(
                _period("period", 14, maximum=100),
                Param("oversold", 30.0, 1.0, 50.0, integer=False),
                Param("overbought", 70.0, 50.0, 99.0, integer=False),
            ),
            fn=lib.rsi_reversion,
            buy_reason=_("RSI %(period)s rose back above %(oversold)g"),
            sell_reason=_("RSI %(period)s fell back below %(overbought)g"),
            readings=lib.rsi_readings,
            checks=(_oversold_below_overbought,),
        ),
        Strategy(
            key="macd_crossover",
            name=_("MACD crossover"),
            description=_(
                "Buy when the MACD line crosses above its signal line; sell when it crosses below."
            ),
            params=(
                _period("fast", 12, minimum=1),
                _period("slow", 26),
                _period("signal", 9, minimum=1),
            ),
            fn=lib.macd_crossover,
            buy_reason=_("MACD (%(fast)s, %(slow)s) crossed above its %(signal)s-bar signal line"),
            sell_reason=_("MACD (%(fast)s, %(slow)s) crossed below its %(signal)s-bar signal line"),
            readings=lib.macd_readings,
            checks=(_fast_below_slow,),
        ),
        Strategy(
            key="bollinger_breakout",
            name=_("Bollinger breakout"),
            description=_(
                "Buy when the close breaks above the upper Bollinger band; sell when it breaks "
                "below the lower band."
            ),
            params=_BANDS,
            fn=lib.bollinger_breakout,
            buy_reason=_("Close broke above the upper Bollinger band (%(period)s, %(nbdev)g)"),
            sell_reason=_("Close broke below the lower Bollinger band (%(period)s, %(nbdev)g)"),
            readings=lib.bollinger_readings,
        ),
        Strategy(
            key="bollinger_reversion",
            name=_("Bollinger reversion"),
            description=_(
                "Buy when the close returns inside the bands from below the lower band; sell "
                "when it returns inside from above the upper band."
            ),
            params=_BANDS,
            fn=lib.bollinger_reversion,
            buy_reason=_("Close came back above the lower Bollinger band (%(period)s, %(nbdev)g)"),
            sell_reason=_("Close came back below the upper Bollinger band (%(period)s, %(nbdev)g)"),
            readings=lib.bollinger_readings,
        ),
        Strategy(
            key="donchian_breakout",
            name=_("Donchian breakout"),
            description=_(
                "Buy when the close rises above the highest high of the previous bars; sell "
                "when it falls below the lowest low of the previous exit-period bars."
            ),
            params=(_period("period", 20, minimum=1), _period("exit_period", 10, minimum=1)),
            fn=lib.donchian_breakout,
            buy_reason=_("Close broke above the previous %(period)s-bar high"),
            sell_reason=_("Close broke below the previous %(exit_period)s-bar low"),
            readings=lib.donchian_readings,
        ),
        Strategy(
            key="supertrend",
            name=_("SuperTrend"),
            description=_(
                "Buy when the SuperTrend turns up (the close breaks above the ATR band); sell "
                "when it turns down."
            ),
            params=(
                _period("period", 10, minimum=1),
                Param("multiplier", 3.0, 0.1, 20.0, integer=False),
            ),
            fn=lib.supertrend_flip,
            buy_reason=_("SuperTrend (%(period)s, %(multiplier)g) turned up"),
            sell_reason=_("SuperTrend (%(period)s, %(multiplier)g) turned down"),
            readings=lib.supertrend_readings,
        ),
        Strategy(
            key="volume_breakout",
            name=_("Volume-confirmed breakout"),
            description=_(
                "Buy when the close rises above the highest high of the previous bars on volume "
                "well above its recent average; sell when it falls below the lowest low."
            ),
            params=(
                _period("period", 20, minimum=1),
                _period("volume_period", 20, minimum=1),
                Param("volume_factor", 1.5, 0.1, 20.0, integer=False),
            ),
            fn=lib.volume_breakout,
            buy_reason=_(
                "Close broke above the previous %(period)s-bar high on volume above "
                "%(volume_factor)g× its average"
            ),
            sell_reason=_("Close broke below the previous %(period)s-bar low"),
            readings=lib.volume_readings,
        ),
    )
}


def strategy_get(key: str) -> Strategy:
    try:
        return STRATEGIES[key]
    except KeyError:
        raise ValueError(f"strategy: unknown strategy {key!r}") from None
