"""The backtest simulator and its metrics on small data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.backtest import (
    cash_returns,
    delayed,
    long_short_targets,
    performance_table,
    rule_targets,
    run_backtest,
    targets_from,
    timing_targets,
)
from helpers.analysis.metrics import sharpe_ratio


def hold(asset: str, returns: pd.DataFrame) -> pd.DataFrame:
    """All in one asset from the first day on: the portfolio a timing rule switches."""
    return pd.DataFrame({asset: [1.0]}, index=returns.index[:1])


@pytest.fixture
def returns():
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2021-01-04", periods=250)
    return pd.DataFrame(rng.normal(0.0005, 0.01, (250, 3)), index=days, columns=list("ABC"))


def test_constant_weights_rebalanced_daily_earn_the_weighted_return(returns):
    weights = pd.Series({"A": 0.5, "B": 0.3, "C": 0.2})
    targets = pd.DataFrame([weights] * len(returns), index=returns.index)
    result = run_backtest(targets, returns, cost_bps=0)
    expected = returns.iloc[1:] @ weights
    pd.testing.assert_series_equal(result.returns, expected, check_names=False)


def test_buy_and_hold_drifts_and_compounds_like_the_assets(returns):
    targets = pd.DataFrame({"A": [0.5], "B": [0.5]}, index=returns.index[:1])
    result = run_backtest(targets, returns[["A", "B"]], cost_bps=0)
    wealth = (1 + result.returns).prod()
    expected = 0.5 * (1 + returns["A"].iloc[1:]).prod() + 0.5 * (1 + returns["B"].iloc[1:]).prod()
    assert wealth == pytest.approx(expected)
    assert result.turnover.tolist() == [1.0]


def test_costs_on_a_known_turnover(returns):
    flat = returns * 0
    days = returns.index[:3]
    targets = pd.DataFrame({"A": [1.0, 0.0, 0.5], "B": [0.0, 1.0, 0.5]}, index=days)
    result = run_backtest(targets, flat, cost_bps=10)
    assert result.turnover.tolist() == [1.0, 2.0, 1.0]
    np.testing.assert_allclose(result.returns.iloc[:2].to_numpy(), [-0.002, -0.001])
    assert (result.returns.iloc[2:] == 0).all()


def test_a_weight_never_earns_the_return_of_its_decision_day(returns):
    """A 'perfect foresight' target (long what rises today) is held from the next day on,
    so it earns tomorrow's return, which it cannot know: the edge disappears."""
    cheat = np.sign(returns["A"]).to_frame("A")
    result = run_backtest(cheat, returns, cost_bps=0)
    expected = cheat["A"].shift(1).iloc[1:] * returns["A"].iloc[1:]
    pd.testing.assert_series_equal(result.returns, expected, check_names=False)
    assert abs(sharpe_ratio(result.returns.to_numpy()[:, None])[0]) < 3


def test_rule_targets_never_show_the_rule_a_later_row(returns):
    seen = []

    def rule(history: pd.DataFrame) -> pd.Series:
        seen.append(history.index.max())
        return pd.Series({"A": 1.0})

    dates = returns.index[[10, 50, 100]]
    targets = rule_targets(rule, returns, dates)
    assert seen == list(dates)
    assert targets.loc[:, "A"].tolist() == [1.0, 1.0, 1.0]


def test_a_timing_strategy_depends_only_on_the_past(returns):
    def risk_on(r: pd.DataFrame) -> pd.Series:
        return r["A"].rolling(20).mean() > 0

    cut = returns.index[150]
    changed = returns.copy()
    changed.loc[changed.index > cut] *= -3
    first = run_backtest(timing_targets(risk_on(returns), hold("A", returns)), returns)
    second = run_backtest(timing_targets(risk_on(changed), hold("A", changed)), changed)
    pd.testing.assert_series_equal(first.returns.loc[:cut], second.returns.loc[:cut])
    assert not first.returns.loc[cut:].equals(second.returns.loc[cut:])


def test_long_short_targets_are_dollar_neutral():
    days = pd.bdate_range("2021-01-04", periods=10)
    signal = pd.DataFrame(np.arange(50, dtype=float).reshape(10, 5), index=days, columns=list("VWXYZ"))
    targets = long_short_targets(signal, quantile=0.2, every=5)
    assert list(targets.index) == [days[0], days[5]]
    assert targets.loc[days[0]].tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0]
    np.testing.assert_allclose(targets.sum(axis=1), 0)


def test_performance_table_brackets_the_estimates_but_not_the_path_statistics(returns):
    table = performance_table(returns, block=10, n_boot=50)
    for metric in ("Sharpe", "return (% a year)"):
        assert (table[(metric, "low")] <= table[(metric, "estimate")]).all()
        assert (table[(metric, "estimate")] <= table[(metric, "high")]).all()
    assert list(table["max drawdown (%)"].columns) == ["estimate"]
    assert list(table["Calmar"].columns) == ["estimate"]


def test_sharpe_is_measured_over_cash(returns):
    cash = pd.Series(0.0004, index=returns.index)
    plain = performance_table(returns, block=10, n_boot=20)
    over_cash = performance_table(returns, cash, block=10, n_boot=20)
    expected = sharpe_ratio((returns - 0.0004).to_numpy())
    np.testing.assert_allclose(over_cash[("Sharpe", "estimate")], expected)
    assert (over_cash[("Sharpe", "estimate")] < plain[("Sharpe", "estimate")]).all()
    pd.testing.assert_series_equal(over_cash[("return (% a year)", "estimate")],
                                   plain[("return (% a year)", "estimate")])


def test_uninvested_weight_earns_the_cash_return(returns):
    cash = cash_returns(pd.Series(5.0, index=returns.index))
    assert cash.iloc[0] == 0 and cash.iloc[1] == pytest.approx(1.05 ** (1 / 252) - 1)
    nothing = pd.DataFrame({"A": [0.0]}, index=returns.index[:1])
    idle = run_backtest(nothing, returns, cost_bps=0, cash=cash)
    pd.testing.assert_series_equal(idle.returns, cash.iloc[1:], check_names=False)
    half = pd.DataFrame({"A": [0.5]}, index=returns.index)
    mixed = run_backtest(half, returns, cost_bps=0, cash=cash)
    expected = 0.5 * returns["A"].iloc[1:] + 0.5 * cash.iloc[1:]
    pd.testing.assert_series_equal(mixed.returns, expected, check_names=False)
    with pytest.raises(ValueError, match="cash has no return"):
        run_backtest(nothing, returns, cash=cash.iloc[:-1])
    with pytest.raises(ValueError, match="annual_yield"):
        cash_returns(pd.Series([1.0, np.nan]))


def test_a_delayed_decision_is_traded_that_many_closes_later(returns):
    days = returns.index
    targets = pd.DataFrame({"A": [1.0, 0.0, 0.5]}, index=days[[0, 20, len(days) - 1]])
    late = delayed(targets, days, 1)
    assert list(late.index) == [days[1], days[21]] and late["A"].tolist() == [1.0, 0.0]
    pd.testing.assert_frame_equal(delayed(targets, days, 0), targets)
    with pytest.raises(ValueError, match="not on the calendar"):
        delayed(targets.set_axis([pd.Timestamp("2021-01-02"), days[1], days[2]]), days)


def test_timing_trades_on_flips_and_on_the_portfolios_rebalances(returns):
    days = returns.index
    monthly = pd.DataFrame({"A": 0.5, "B": 0.5}, index=days[[0, 21, 42]])
    risk_on = pd.Series(True, index=days[:60])
    risk_on.iloc[10:30] = False
    targets = timing_targets(risk_on, monthly)
    assert list(targets.index) == list(days[[0, 10, 21, 30, 42]])
    assert targets.sum(axis=1).tolist() == [1.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="no target on or before"):
        timing_targets(risk_on, monthly.iloc[1:])


def test_simulate_rejects_bad_input(returns):
    targets = pd.DataFrame({"A": [1.0]}, index=returns.index[:1])
    with pytest.raises(ValueError, match="cost_bps"):
        run_backtest(targets, returns, cost_bps=-1)
    with pytest.raises(ValueError, match="lack"):
        run_backtest(targets.rename(columns={"A": "Q"}), returns)
    with pytest.raises(ValueError, match="not a day of returns"):
        run_backtest(targets.set_axis([pd.Timestamp("2021-01-02")]), returns)
    with pytest.raises(ValueError, match="missing weights"):
        run_backtest(targets * np.nan, returns)
    with pytest.raises(ValueError, match="quantile"):
        long_short_targets(returns, quantile=0.7)


def test_targets_from_reissues_the_target_in_force(returns):
    days = returns.index
    targets = pd.DataFrame({"A": [1.0, 0.0, 0.5]}, index=days[[0, 20, 40]])
    started = targets_from(targets, days[30])
    assert list(started.index) == [days[30], days[40]] and started["A"].tolist() == [0.0, 0.5]
    with pytest.raises(ValueError, match="no target"):
        targets_from(targets.iloc[1:], days[5])


def test_hmm_timing_pipeline_uses_only_the_past(returns):
    """Fit on early days, filter, time the asset, simulate: altering the days after t leaves
    every return up to t unchanged."""
    from helpers.analysis.regimes import GaussianHMMRegimes

    fit_days = returns.index[:150]
    model = GaussianHMMRegimes(2, n_restarts=1).fit(returns.loc[fit_days, ["A"]])
    cut = returns.index[200]
    changed = returns.copy()
    changed.loc[changed.index > cut] *= 4
    runs = [run_backtest(timing_targets(model.predict(r[["A"]]) == 0, hold("A", r)), r) for r in (returns, changed)]
    pd.testing.assert_series_equal(runs[0].returns.loc[:cut], runs[1].returns.loc[:cut])


def test_net_returns_at_any_cost_come_from_one_simulation(returns):
    days = returns.index[:3]
    targets = pd.DataFrame({"A": [1.0, 0.0, 0.5], "B": [0.0, 1.0, 0.5]}, index=days)
    result = run_backtest(targets, returns, cost_bps=10)
    pd.testing.assert_series_equal(result.net_returns(0), result.gross_returns, check_names=False)
    pd.testing.assert_series_equal(result.net_returns(10), result.returns)
    charged = run_backtest(targets, returns, cost_bps=25).returns
    pd.testing.assert_series_equal(result.net_returns(25), charged)
    with pytest.raises(ValueError, match="cost_bps"):
        result.net_returns(-5)
