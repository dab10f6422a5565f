"""The trailing-volatility rule: chosen on training days, causal, and clear about bad input."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.analysis.regimes import balanced_accuracy
from helpers.analysis.volatility_rule import VolatilityThresholdRegimes, trailing_volatility
from tests.test_regimes import two_regime_returns


def split(seed: int = 1):
    frame, regimes = two_regime_returns(seed)
    returns = frame["r"]
    cut = returns.index[len(returns) // 2]
    return returns, regimes, cut


def test_the_rule_finds_volatile_spells_it_was_not_fit_on():
    returns, regimes, cut = split()
    rule = VolatilityThresholdRegimes().fit(returns.loc[:cut], regimes.loc[:cut] == 1)
    calls = rule.predict(returns)
    later = calls.index > cut
    assert balanced_accuracy(calls[later] == 1, regimes.reindex(calls.index)[later] == 1) > 0.9
    assert rule.training_scores_.max() == rule.training_accuracy_
    assert rule.window_ in rule.windows and rule.quantile_ in rule.quantiles


def test_the_choice_uses_training_days_only_and_each_call_the_past_only():
    returns, regimes, cut = split()
    rule = VolatilityThresholdRegimes().fit(returns.loc[:cut], regimes.loc[:cut] == 1)
    shocked = returns.copy()
    shocked[shocked.index > cut] *= 5  # the future changes beyond recognition
    refit = VolatilityThresholdRegimes().fit(shocked.loc[:cut], regimes.loc[:cut] == 1)
    assert (refit.window_, refit.quantile_, refit.threshold_) == (rule.window_, rule.quantile_, rule.threshold_)
    before, after = rule.predict(returns), rule.predict(shocked)
    assert before.loc[:cut].equals(after.loc[:cut])
    assert not before.loc[cut:].iloc[rule.window_:].equals(after.loc[cut:].iloc[rule.window_:])


def test_trailing_volatility_waits_for_a_full_window():
    returns, _, _ = split()
    volatility = trailing_volatility(returns, 5)
    assert volatility.iloc[:4].isna().all() and volatility.iloc[4] == pytest.approx(returns.iloc[:5].std())


@pytest.mark.parametrize(("make", "message"), [
    (lambda r, s: VolatilityThresholdRegimes(quantiles=(0.8, 1.2)).fit(r, s), r"quantiles hold \[1.2\]"),
    (lambda r, s: VolatilityThresholdRegimes(windows=()).fit(r, s), "at least one of each"),
    (lambda r, s: VolatilityThresholdRegimes(windows=(1,)).fit(r, s), "window"),
    (lambda r, s: VolatilityThresholdRegimes().fit(r.to_numpy(), s), "expected a pandas Series"),
    (lambda r, s: VolatilityThresholdRegimes().fit(r.where(r.index != r.index[3]), s), "1 missing or infinite"),
    (lambda r, s: VolatilityThresholdRegimes().fit(r, s & False), "both calm and stress"),
    (lambda r, s: VolatilityThresholdRegimes().fit(r.iloc[:100], s), "days without returns"),
])
def test_bad_input_is_named(make, message):
    returns, regimes, cut = split()
    with pytest.raises(ValueError, match=message):
        make(returns.loc[:cut], regimes.loc[:cut] == 1)


def test_without_a_target_the_one_given_pair_is_used():
    returns, _, cut = split()
    rule = VolatilityThresholdRegimes(windows=(21,), quantiles=(0.8,)).fit(returns.loc[:cut])
    training = trailing_volatility(returns.loc[:cut], 21).dropna()
    assert rule.threshold_ == pytest.approx(training.quantile(0.8))
    assert rule.predict(returns.loc[:cut]).mean() == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError, match="nothing to choose by"):
        VolatilityThresholdRegimes().fit(returns.loc[:cut])


def test_predict_needs_a_fit():
    returns, _, _ = split()
    with pytest.raises(Exception, match="not fitted"):
        VolatilityThresholdRegimes().predict(returns)
    assert np.isfinite(trailing_volatility(returns, 21).dropna()).all()


def test_a_timing_objective_chooses_the_pair_it_scores_best_on_the_same_training_days():
    returns, regimes, cut = split()
    training = returns.loc[:cut]
    seen = []

    def share_invested_near(target):
        def objective(risk_on):
            seen.append(risk_on.index)
            return -abs(float(risk_on.mean()) - target)
        return objective

    rule = VolatilityThresholdRegimes().fit(training, objective=share_invested_near(0.7))
    assert rule.quantile_ == 0.7 and rule.training_scores_.idxmax() == (rule.window_, rule.quantile_)
    assert all(index.equals(seen[0]) for index in seen), "every pair is scored on the same days"
    assert seen[0][0] == training.index[max(rule.windows) - 1]
    assert VolatilityThresholdRegimes().fit(training, objective=share_invested_near(0.9)).quantile_ == 0.9
    shocked = returns.copy()
    shocked[shocked.index > cut] *= 5
    later = VolatilityThresholdRegimes().fit(shocked.loc[:cut], objective=share_invested_near(0.7))
    assert (later.window_, later.quantile_, later.threshold_) == (rule.window_, rule.quantile_, rule.threshold_)
    with pytest.raises(ValueError, match="both a stress target and an objective"):
        VolatilityThresholdRegimes().fit(training, regimes.loc[:cut] == 1, objective=share_invested_near(0.7))
