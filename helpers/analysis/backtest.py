"""A daily backtest with costs, and the metrics a sanity check needs, with intervals.

Target weights are indexed by their decision date: the close at which they were computed
from data up to that close. `run_backtest` trades to them at that close and holds them from
the next day on, so a weight can never earn the return of the day it was decided on. What
is not in a target (1 - sum of weights) is cash, earning nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.bootstrap import bootstrap_differences, bootstrap_intervals, resolve_block
from helpers.analysis.metrics import (
    annualized_return,
    annualized_volatility,
    calmar_ratio,
    sharpe_ratio,
    worst_drawdown,
)
from helpers.data.calendar import TRADING_DAYS
from helpers.validate import InputError, check_count, check_days, check_finite_frame


@dataclass(frozen=True)
class BacktestResult:
    gross_returns: pd.Series  # holding day -> simple return before costs
    turnover: pd.Series  # decision day -> sum of |target - drifted holding|
    holdings: pd.DataFrame  # holding day x asset: weights held over the day
    cost_bps: float

    @property
    def returns(self) -> pd.Series:
        """Holding day -> simple return after the simulated cost."""
        return self.net_returns(self.cost_bps)

    def net_returns(self, cost_bps: float) -> pd.Series:
        """Daily returns after `cost_bps` per unit of turnover, charged at each decision
        close. The trades do not depend on the cost, so one simulation serves every cost."""
        check_cost(cost_bps)
        charged = self.turnover.reindex(self.gross_returns.index, fill_value=0.0) * cost_bps / 1e4
        return ((1 + self.gross_returns) * (1 - charged) - 1).rename("net return")

    def turnover_a_year(self) -> float:
        return float(self.turnover.sum() * TRADING_DAYS / len(self.gross_returns))


def check_cost(cost_bps: float) -> None:
    if not np.isfinite(cost_bps) or cost_bps < 0:
        raise InputError(f"cost_bps={cost_bps!r}; expected a finite number of basis points >= 0")


def run_backtest(
    targets: pd.DataFrame, returns: pd.DataFrame, cost_bps: float = 10.0, cash: pd.Series | None = None
) -> BacktestResult:
    """Trade to each row of `targets` at its decision date's close and hold until the next.

    `returns` are simple daily returns (day x asset). Between decisions the holdings drift
    with prices. Each trade costs `cost_bps` basis points of the portfolio per unit of
    turnover, charged at the decision close. `cash` is the simple return of cash on each day
    (see `cash_returns`); the uninvested share earns it. The result starts on the day after
    the first decision: the first trade, out of cash, is in `turnover` but its cost falls
    before the first return and is not charged.
    """
    check_cost(cost_bps)
    if targets.empty:
        raise InputError("targets is empty; expected at least one decision date")
    unknown = targets.columns.difference(returns.columns)
    if len(unknown):
        raise InputError(f"targets name assets {list(unknown)} that returns lack; "
                         f"expected some of {list(returns.columns)}")
    off_calendar = targets.index.difference(returns.index)
    if len(off_calendar):
        raise InputError(f"decision date {off_calendar[0]!r} is not a day of returns; decide on trading days")
    check_days(targets.index, "targets' decision dates")
    if targets.isna().any().any():
        raise InputError("targets have missing weights; write 0 for an asset not held")
    days = returns.index[returns.index >= targets.index.min()]
    panel = returns.loc[days, targets.columns]
    if panel.isna().any().any():
        first = panel.index[panel.isna().any(axis=1)][0]
        raise InputError(f"returns are missing on {first!r} for an asset the targets can hold")
    cash_values = _cash_on(cash, days)
    values, decisions = panel.to_numpy(dtype=float), targets.reindex(days).to_numpy(dtype=float)
    is_decision = days.isin(targets.index)
    held = np.zeros(len(targets.columns))
    gross, turnover, holdings = [], {}, []
    for row, day in enumerate(days):
        holdings.append(held)
        period = float(held @ values[row] + (1 - held.sum()) * cash_values[row])
        held = held * (1 + values[row]) / (1 + period)
        if is_decision[row]:
            turnover[day] = float(np.abs(decisions[row] - held).sum())
            held = decisions[row]
        gross.append(period)
    keep = slice(1, None)  # the first day is the first decision: nothing was held over it
    return BacktestResult(
        gross_returns=pd.Series(gross, index=days).iloc[keep].rename("gross return"),
        turnover=pd.Series(turnover, name="turnover"),
        holdings=pd.DataFrame(holdings, index=days, columns=targets.columns).iloc[keep],
        cost_bps=cost_bps,
    )


def _cash_on(cash: pd.Series | None, days: pd.DatetimeIndex) -> np.ndarray:
    if cash is None:
        return np.zeros(len(days))
    missing = days.difference(cash.dropna().index)
    if len(missing):
        raise InputError(f"cash has no return on {missing[0]!r}; expected one for every day of the backtest")
    return cash.reindex(days).to_numpy(dtype=float)


def cash_returns(annual_yield: pd.Series) -> pd.Series:
    """Daily simple return of cash from its annual yield in percent: the yield known at a
    close earns over the next day (0 on the first)."""
    values = annual_yield.to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values <= -100).any():
        raise InputError(f"annual_yield holds {int((~np.isfinite(values)).sum())} missing values or a yield of "
                         "-100% or less; expected a finite yield in percent a year on every day")
    daily = (1 + annual_yield / 100) ** (1 / TRADING_DAYS) - 1
    return daily.shift(1, fill_value=0.0).rename("cash return")


def delayed(targets: pd.DataFrame, calendar: pd.DatetimeIndex, days: int = 1) -> pd.DataFrame:
    """The same decisions traded `days` closes later on `calendar`: what a slower execution
    earns. Decisions that would fall after the calendar's last day are dropped."""
    check_count(days, "days", minimum=0)
    positions = calendar.get_indexer(targets.index)
    if (positions < 0).any():
        raise InputError(f"decision date {targets.index[positions < 0][0]!r} is not on the calendar")
    kept = positions + days < len(calendar)
    return targets.loc[kept].set_axis(calendar[positions[kept] + days])


def targets_from(targets: pd.DataFrame, start) -> pd.DataFrame:
    """The decisions from `start` on, with the target in force at `start` (the last one
    decided on or before it) re-issued at `start`, so every strategy starts holding then."""
    start = pd.Timestamp(start)
    before, after = targets.loc[:start], targets.loc[targets.index > start]
    if before.empty:
        raise InputError(f"no target was decided on or before {start:%Y-%m-%d}; "
                         f"the first is {targets.index[0]:%Y-%m-%d}")
    return pd.concat([before.iloc[-1:].set_axis([start]), after])


def rule_targets(rule: Callable[[pd.DataFrame], pd.Series], returns: pd.DataFrame, dates) -> pd.DataFrame:
    """Targets from a rule that sees, at each decision date, the returns up to that date
    only: the rule cannot look ahead because it is never given the later rows. An asset
    the rule leaves out of its weights on a date is not held then (weight 0)."""
    rows = {}
    for date in pd.DatetimeIndex(dates):
        rows[date] = rule(returns.loc[:date])
    return pd.DataFrame(rows).T.fillna(0.0)


def timing_targets(risk_on: pd.Series, portfolio: pd.DataFrame) -> pd.DataFrame:
    """Hold `portfolio` (its targets, at their own decision dates) while the causal call
    says risk on, cash otherwise: a trade on each day the call flips, and at the
    portfolio's own rebalances while risk is on."""
    if not pd.api.types.is_bool_dtype(risk_on):
        raise InputError(f"risk_on has dtype {risk_on.dtype}; expected a bool per day (True: risk on), "
                         "so that a score is never read as a call by accident")
    if portfolio.empty or portfolio.index[0] > risk_on.index[0]:
        raise InputError("portfolio has no target on or before the call's first day "
                         f"{risk_on.index[0]!r}; expected one in force from the start")
    flips = risk_on.index[risk_on.ne(risk_on.shift())]
    rebalances = portfolio.index[portfolio.index >= risk_on.index[0]]
    dates = flips.union(rebalances).intersection(risk_on.index)
    in_force = portfolio.reindex(portfolio.index.union(dates)).ffill().reindex(dates)
    return in_force.mul(risk_on.reindex(dates).astype(float), axis=0)


def long_short_targets(signal: pd.DataFrame, quantile: float = 0.2, every: int = 5) -> pd.DataFrame:
    """Every `every`-th signal date: long the top `quantile` of assets and short the bottom,
    equal weights, one unit each side (net zero, gross two)."""
    if not 0 < quantile <= 0.5:
        raise InputError(f"quantile={quantile!r}; expected a share in (0, 0.5]")
    if not isinstance(every, int) or every < 1:
        raise InputError(f"every={every!r}; expected a positive integer (signal dates)")
    sampled = signal.iloc[::every]
    ranks = sampled.rank(axis=1, pct=True)
    long, short = ranks > 1 - quantile, ranks <= quantile
    return long.div(long.sum(axis=1), axis=0) - short.div(short.sum(axis=1), axis=0)


INTERVAL_METRICS = {
    "return (% a year)": annualized_return,
    "volatility (% a year)": annualized_volatility,
    "Sharpe": sharpe_ratio,
}
PATH_METRICS = {
    "max drawdown (%)": worst_drawdown,
    "Calmar": calmar_ratio,
}


def excess_of(returns: pd.DataFrame, cash: pd.Series | None) -> pd.DataFrame:
    """Returns over cash, day by day: what a Sharpe ratio measures."""
    return returns if cash is None else returns.sub(cash.reindex(returns.index), axis=0)


def performance_table(
    returns: pd.DataFrame, cash: pd.Series | None = None, block: int | None = None, n_boot: int = 1000,
    level: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Every metric of every strategy (column of daily returns). Return, volatility and the
    Sharpe ratio (of the returns over `cash`) come with a paired block-bootstrap interval
    (all strategies share the resampled days; `block=None` lets the data choose its length);
    the worst drawdown and the Calmar ratio, statistics of the one path, are estimates only."""
    check_finite_frame(returns, "returns")
    block = resolve_block(returns, block)
    parts = {
        name: bootstrap_intervals(excess_of(returns, cash) if name == "Sharpe" else returns, metric, block, n_boot,
                                  level, seed)
        for name, metric in INTERVAL_METRICS.items()
    }
    parts |= {name: pd.DataFrame({"estimate": metric(returns.to_numpy(dtype=float))}, index=returns.columns)
              for name, metric in PATH_METRICS.items()}
    return pd.concat(parts, axis=1)


def sharpe_differences(
    returns: pd.DataFrame, reference: str, cash: pd.Series | None = None, block: int | None = None,
    n_boot: int = 1000, level: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Each strategy's Sharpe ratio minus the reference's, with a paired interval."""
    check_finite_frame(returns, "returns")
    excess = excess_of(returns, cash)
    return bootstrap_differences(excess, sharpe_ratio, reference, resolve_block(returns, block), n_boot, level, seed)
