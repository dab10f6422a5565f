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

from helpers.analysis.bootstrap import bootstrap_differences, bootstrap_intervals
from helpers.analysis.metrics import (
    annualized_return,
    annualized_volatility,
    calmar_ratio,
    sharpe_ratio,
    worst_drawdown,
)
from helpers.data.calendar import TRADING_DAYS
from helpers.validate import InputError, check_days, check_finite_frame


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


def run_backtest(targets: pd.DataFrame, returns: pd.DataFrame, cost_bps: float = 10.0) -> BacktestResult:
    """Trade to each row of `targets` at its decision date's close and hold until the next.

    `returns` are simple daily returns (day x asset). Between decisions the holdings drift
    with prices. Each trade costs `cost_bps` basis points of the portfolio per unit of
    turnover, charged at the decision close. The result starts on the day after the first
    decision: the first trade, out of cash, is in `turnover` but its cost falls before the
    first return and is not charged.
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
    values, decisions = panel.to_numpy(dtype=float), targets.reindex(days).to_numpy(dtype=float)
    is_decision = days.isin(targets.index)
    held = np.zeros(len(targets.columns))
    gross, turnover, holdings = [], {}, []
    for row, day in enumerate(days):
        holdings.append(held)
        period = float(held @ values[row])
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


def timing_targets(risk_on: pd.Series, asset: str) -> pd.DataFrame:
    """All in `asset` on days the (causal) call says risk on, all in cash otherwise."""
    if not pd.api.types.is_bool_dtype(risk_on):
        raise InputError(f"risk_on has dtype {risk_on.dtype}; expected a bool per day (True: risk on), "
                         "so that a score is never read as a call by accident")
    values = risk_on.astype(float)
    return values.to_frame(asset)


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










METRICS = {
    "return (% a year)": annualized_return,
    "volatility (% a year)": annualized_volatility,
    "Sharpe": sharpe_ratio,
    "max drawdown (%)": worst_drawdown,
    "Calmar": calmar_ratio,
}




def performance_table(
    returns: pd.DataFrame, block: int = 21, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Every metric of every strategy (column of daily returns) with a block-bootstrap
    interval; all strategies share the resampled days, so their intervals are paired."""
    check_finite_frame(returns, "returns")
    parts = {
        name: bootstrap_intervals(returns, metric, block, n_boot, level, seed) for name, metric in METRICS.items()
    }
    return pd.concat(parts, axis=1)


def sharpe_differences(
    returns: pd.DataFrame, reference: str, block: int = 21, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Each strategy's Sharpe ratio minus the reference's, with a paired interval."""
    check_finite_frame(returns, "returns")
    return bootstrap_differences(returns, sharpe_ratio, reference, block, n_boot, level, seed)
