"""Returns and risk metrics against independent references: small examples worked by hand in
the comments, and plain-Python loop implementations (written here, not calling the module)
on a seeded random series."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from apps.portfolios import metrics

D = date


def _series(days: list[date], numbers: list[float]) -> pd.Series:
    return pd.Series(numbers, index=pd.Index(days))


# --- a hand-worked example ---------------------------------------------------------------
#
# Flows at the end of the day, r_t = (V_t − F_t − V_{t−1}) / V_{t−1}:
#   Mon 1 Jul: buy 1000, close value 1000     → chain starts (no previous value)
#   Tue 2 Jul: value 1100                      → r = (1100 − 0 − 1000) / 1000 = 0.1
#   Wed 3 Jul: buy 500, value 1650             → r = (1650 − 500 − 1100) / 1100 = 50/1100
#   Thu 4 Jul: sell 300, value 1300            → r = (1300 + 300 − 1650) / 1650 = −50/1650
#   Fri 5 Jul: value 1430                      → r = (1430 − 1300) / 1300 = 0.1
# TWR = 1.1 × 1150/1100 × 1600/1650 × 1.1 − 1 = 1.21 × 368/363 − 1 = 184/150 − 1 = 17/75.
DAYS = [D(2024, 7, 1), D(2024, 7, 2), D(2024, 7, 3), D(2024, 7, 4), D(2024, 7, 5)]
VALUES = [1000.0, 1100.0, 1650.0, 1300.0, 1430.0]
FLOWS = [1000.0, 0.0, 500.0, -300.0, 0.0]


def test_daily_returns_of_the_worked_example() -> None:
    returns = metrics.daily_returns(_series(DAYS, VALUES), _series(DAYS, FLOWS))
    assert list(returns.index) == DAYS[1:]
    assert returns.tolist() == pytest.approx([0.1, 50 / 1100, -50 / 1650, 0.1], abs=1e-15)


def test_time_weighted_return_of_the_worked_example() -> None:
    returns = metrics.daily_returns(_series(DAYS, VALUES), _series(DAYS, FLOWS))
    assert metrics.twr(returns) == pytest.approx(17 / 75, abs=1e-15)


def test_a_day_after_a_zero_value_restarts_the_chain() -> None:
    # Sold everything on day 2 (value 0, flow −1200): r = (0 + 1200 − 1000)/1000 = 0.2.
    # Day 3 holds nothing, day 4 buys again: no return until there is a previous value.
    days = [D(2024, 7, 1), D(2024, 7, 2), D(2024, 7, 3), D(2024, 7, 4), D(2024, 7, 5)]
    values = [1000.0, 0.0, 0.0, 500.0, 550.0]
    flows = [1000.0, -1200.0, 0.0, 500.0, 0.0]
    returns = metrics.daily_returns(_series(days, values), _series(days, flows))
    assert list(returns.index) == [D(2024, 7, 2), D(2024, 7, 5)]
    assert returns.tolist() == pytest.approx([0.2, 0.1])
    assert metrics.twr(returns) == pytest.approx(1.2 * 1.1 - 1)


def test_no_return_without_two_valued_days() -> None:
    returns = metrics.daily_returns(_series(DAYS[:1], [1000.0]), _series(DAYS[:1], [1000.0]))
    assert metrics.twr(returns) is None


# --- XIRR --------------------------------------------------------------------------------


def _npv(rate: float, dates: list[date], amounts: list[float]) -> float:
    return sum(
        a / (1 + rate) ** ((d - dates[0]).days / 365) for d, a in zip(dates, amounts, strict=True)
    )


def _bisect_xirr(dates: list[date], amounts: list[float]) -> float:
    low, high = -0.99, 1e5
    assert _npv(low, dates, amounts) * _npv(high, dates, amounts) < 0
    for _ in range(200):
        middle = (low + high) / 2
        if _npv(low, dates, amounts) * _npv(middle, dates, amounts) <= 0:
            high = middle
        else:
            low = middle
    return (low + high) / 2


def test_xirr_of_ten_percent_over_exactly_365_days() -> None:
    # −1000 then +1100 365 days later: (1 + r)^1 = 1.1.
    assert metrics.xirr([D(2023, 1, 1), D(2024, 1, 1)], [-1000, 1100]) == pytest.approx(0.1)


def test_xirr_matches_bisection_on_the_npv_formula() -> None:
    dates = [D(2022, 1, 10), D(2022, 6, 3), D(2023, 2, 14), D(2023, 9, 1), D(2024, 3, 31)]
    amounts = [-50_000.0, -20_000.0, 8_000.0, -5_000.0, 81_500.0]
    expected = _bisect_xirr(dates, amounts)
    assert metrics.xirr(dates, amounts) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("dates", "amounts"),
    [
        ([D(2023, 1, 1), D(2024, 1, 1)], [-1000, -100]),  # no sign change
        ([D(2023, 1, 1), D(2023, 1, 1)], [-1000, 1100]),  # a single date
        ([], []),
    ],
)
def test_xirr_is_none_when_it_cannot_be_computed(dates: list[date], amounts: list[int]) -> None:
    assert metrics.xirr(dates, amounts) is None


# --- periods -----------------------------------------------------------------------------


def test_period_starts_are_calendar_dates_before_the_end() -> None:
    end = D(2024, 3, 31)
    assert metrics.period_start("1W", end) == D(2024, 3, 24)
    assert metrics.period_start("1M", end) == D(2024, 2, 29)  # clamped to the month's end
    assert metrics.period_start("3M", end) == D(2023, 12, 31)
    assert metrics.period_start("YTD", end) == D(2023, 12, 31)  # calendar, not April
    assert metrics.period_start("1Y", end) == D(2023, 3, 31)
    assert metrics.period_start("ALL", end) is None


def _weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def test_period_returns_start_from_the_value_on_or_before_the_start_date() -> None:
    # 2024-01-01 (Mon) .. 2024-02-09 (Fri): 30 weekdays; value grows 1% a day on 1000 bought
    # on day one, and 500 more is bought on 2024-02-05.
    days = _weekdays(D(2024, 1, 1), 30)
    values, flows, value = [], [], 0.0
    for day in days:
        flow = 1000.0 if day == days[0] else 500.0 if day == D(2024, 2, 5) else 0.0
        value = value * 1.01 + flow
        values.append(value)
        flows.append(flow)
    result = metrics.period_returns(_series(days, values), _series(days, flows))

    # 1D: from Thu 8 Feb to Fri 9 Feb, one day of +1%.
    assert result["1D"].start == D(2024, 2, 8)
    assert result["1D"].twr == pytest.approx(0.01)
    # 1W: end − 7 days = Fri 2 Feb; five days of +1% since.
    assert result["1W"].start == D(2024, 2, 2)
    assert result["1W"].twr == pytest.approx(1.01**5 - 1)
    # 1M: 9 Jan; 23 trading days after it.
    assert result["1M"].start == D(2024, 1, 9)
    assert result["1M"].twr == pytest.approx(1.01**23 - 1)
    # Since inception: 29 days of +1%, XIRR on every flow.
    assert result["ALL"].start == D(2024, 1, 1)
    assert result["ALL"].twr == pytest.approx(1.01**29 - 1)
    expected = _bisect_xirr(
        [D(2024, 1, 1), D(2024, 2, 5), D(2024, 2, 9)], [-1000.0, -500.0, values[-1]]
    )
    assert result["ALL"].xirr == pytest.approx(expected, rel=1e-9)
    # 1W XIRR: the value on 2 Feb is the initial investment.
    start_value = values[days.index(D(2024, 2, 2))]
    expected = _bisect_xirr(
        [D(2024, 2, 2), D(2024, 2, 5), D(2024, 2, 9)], [-start_value, -500.0, values[-1]]
    )
    assert result["1W"].xirr == pytest.approx(expected, rel=1e-9)
    # YTD starts on 31 Dec 2023, before the first value; 3M and 1Y too: no figures.
    for period in ("YTD", "3M", "1Y"):
        assert result[period].start is None
        assert result[period].twr is None
        assert result[period].xirr is None
        assert result[period].end == D(2024, 2, 9)


# --- risk metrics against loop implementations -----------------------------------------


def _loop_returns(values: list[float], flows: list[float]) -> list[tuple[int, float]]:
    out = []
    for i in range(1, len(values)):
        if values[i - 1] > 0:
            out.append((i, (values[i] - flows[i] - values[i - 1]) / values[i - 1]))
    return out


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _sample_std(xs: list[float]) -> float:
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _sample_cov(xs: list[float], ys: list[float]) -> float:
    mx, my = _mean(xs), _mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (len(xs) - 1)


@pytest.fixture
def random_portfolio() -> dict[str, list]:
    rng = random.Random(20240723)
    days = _weekdays(D(2023, 1, 2), 300)
    values, flows, bench = [], [], []
    value, index = 0.0, 18_000.0
    for i, _day in enumerate(days):
        market = rng.gauss(0.0004, 0.011)
        index *= 1 + market
        bench.append(index)
        flow = 0.0
        if i == 0:
            flow = 100_000.0
        elif rng.random() < 0.05:
            flow = rng.choice([1, -1]) * rng.uniform(1_000, 10_000)
        value = value * (1 + 0.0002 + 1.3 * market + rng.gauss(0, 0.006)) + flow
        values.append(value)
        flows.append(flow)
    return {"days": days, "values": values, "flows": flows, "bench": bench}


def test_risk_metrics_match_loop_implementations(random_portfolio: dict[str, list]) -> None:
    days, values = random_portfolio["days"], random_portfolio["values"]
    flows, bench = random_portfolio["flows"], random_portfolio["bench"]
    rf = 0.055
    result = metrics.risk_metrics(
        _series(days, values), _series(days, flows), _series(days, bench), risk_free_rate=rf
    )

    indexed = _loop_returns(values, flows)
    r = [x for _, x in indexed]
    rb = [bench[i] / bench[i - 1] - 1 for i, _ in indexed]
    rf_d = (1 + rf) ** (1 / 252) - 1
    excess = [x - rf_d for x in r]
    std = _sample_std(r)
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / len(excess))
    beta = _sample_cov(r, rb) / _sample_cov(rb, rb)
    alpha = (_mean(r) - rf_d - beta * (_mean(rb) - rf_d)) * 252
    correlation = _sample_cov(r, rb) / (_sample_std(r) * _sample_std(rb))

    assert result.observations == len(r) == 299
    assert result.volatility == pytest.approx(std * math.sqrt(252), rel=1e-10)
    assert result.sharpe == pytest.approx(_mean(excess) / std * math.sqrt(252), rel=1e-10)
    assert result.sortino == pytest.approx(_mean(excess) / downside * math.sqrt(252), rel=1e-10)
    assert result.beta == pytest.approx(beta, rel=1e-10)
    assert result.alpha == pytest.approx(alpha, rel=1e-9)
    assert result.correlation == pytest.approx(correlation, rel=1e-10)
    assert result.beta is not None
    assert 1.0 < result.beta < 1.6  # the series was built with beta 1.3

    # Max drawdown of the TWR index, walked day by day.
    level, peak, peak_day = 1.0, 1.0, days[0]
    worst, worst_peak, worst_peak_day, trough_day = 0.0, 1.0, days[0], days[0]
    for i, x in indexed:
        level *= 1 + x
        if level > peak:
            peak, peak_day = level, days[i]
        if level / peak - 1 < worst:
            worst, worst_peak, worst_peak_day, trough_day = (
                level / peak - 1,
                peak,
                peak_day,
                days[i],
            )
    recovery, level = None, 1.0
    for i, x in indexed:
        level *= 1 + x
        if days[i] > trough_day and level >= worst_peak:
            recovery = days[i]
            break
    assert result.max_drawdown == pytest.approx(worst, rel=1e-10)
    assert result.max_drawdown_peak == worst_peak_day
    assert result.max_drawdown_trough == trough_day
    assert result.max_drawdown_recovery == recovery


def test_max_drawdown_worked_example() -> None:
    # Index 1 → 1.1 → 0.88 → 0.924 → 1.1088: peak 1.1 on the 2nd, trough 0.88 on the 3rd
    # (0.88/1.1 − 1 = −0.2), back above 1.1 on the 5th.
    days = [D(2024, 7, 1), D(2024, 7, 2), D(2024, 7, 3), D(2024, 7, 4), D(2024, 7, 5)]
    returns = _series(days[1:], [0.1, -0.2, 0.05, 0.2])
    drawdown = metrics.max_drawdown(returns, start=days[0])
    assert drawdown is not None
    assert drawdown.depth == pytest.approx(-0.2)
    assert (drawdown.peak, drawdown.trough, drawdown.recovery) == (days[1], days[2], days[4])


def test_an_unrecovered_drawdown_has_no_recovery_date_and_a_rise_has_no_drawdown() -> None:
    days = [D(2024, 7, 1), D(2024, 7, 2), D(2024, 7, 3)]
    falling = metrics.max_drawdown(_series(days[1:], [-0.1, 0.05]), start=days[0])
    assert falling is not None
    assert falling.peak == days[0]
    assert falling.trough == days[1]
    assert falling.recovery is None
    rising = metrics.max_drawdown(_series(days[1:], [0.1, 0.05]), start=days[0])
    assert rising == metrics.Drawdown(0.0, None, None, None)


def test_ratios_need_twenty_returns_and_are_never_nan() -> None:
    days = _weekdays(D(2024, 1, 1), 20)  # 19 returns
    values = [1000.0 * 1.01**i for i in range(20)]
    flows = [1000.0] + [0.0] * 19
    result = metrics.risk_metrics(
        _series(days, values), _series(days, flows), _series(days, values), risk_free_rate=0.05
    )
    assert result.observations == 19
    fields = ("volatility", "sharpe", "sortino", "beta", "alpha", "correlation")
    assert all(getattr(result, name) is None for name in fields)
    assert result.max_drawdown == 0.0

    # 21 values = 20 returns, all equal: no dispersion, so the ratios stay None (not NaN or
    # 10^15 from rounding noise).
    days = _weekdays(D(2024, 1, 1), 21)
    values = [1000.0 * 1.01**i for i in range(21)]
    flows = [1000.0] + [0.0] * 20
    bench = [100.0 + i for i in range(21)]
    result = metrics.risk_metrics(
        _series(days, values), _series(days, flows), _series(days, bench), risk_free_rate=0.05
    )
    assert result.observations == 20
    assert result.volatility == 0.0
    assert result.sharpe is None
    assert result.sortino is None  # no day below the risk-free rate
    assert result.beta == pytest.approx(0.0, abs=1e-9)
    assert result.correlation is None


def test_every_metric_has_a_definition() -> None:
    for name in ("twr", "xirr", "volatility", "sharpe", "sortino", "beta", "alpha",
                 "max_drawdown", "correlation", "risk_free_rate"):  # fmt: skip
        assert str(metrics.DEFINITIONS[name])


def test_a_path_without_dispersion_has_no_sharpe_or_correlation() -> None:
    # +0.5 % every day, values stored to the paisa: the only dispersion is rounding.
    days = pd.bdate_range("2024-01-01", periods=40).date
    values = pd.Series(
        [float(round(Decimal(100000) * Decimal("1.005") ** i, 2)) for i in range(40)],
        index=days,
    )
    flows = pd.Series([100000.0] + [0.0] * 39, index=days)
    bench = pd.Series([100 + (i % 3) for i in range(40)], index=days, dtype=float)
    result = metrics.risk_metrics(values, flows, bench, risk_free_rate=0.055)
    assert result.volatility == 0.0
    assert (result.sharpe, result.sortino, result.correlation) == (None, None, None)
