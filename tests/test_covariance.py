"""Covariance estimators, the walk-forward and the bootstrap on small data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import multivariate_normal
from skfolio.moments import DenoiseCovariance
from skfolio.optimization import MeanRisk, ObjectiveFunction
from skfolio.prior import EmpiricalPrior
from sklearn.covariance import EmpiricalCovariance, LedoitWolf
from sklearn.metrics import roc_auc_score

from helpers.analysis.backtest import run_backtest
from helpers.analysis.bootstrap import (
    auroc_differences,
    auroc_intervals,
    block_bootstrap_indices,
    bootstrap_differences,
    bootstrap_intervals,
    data_chosen_block,
)
from helpers.analysis.covariance import (
    GivenCovariance,
    MarchenkoPasturDenoise,
    NonlinearShrinkage,
    PCAFactorCovariance,
    ScaledIdentity,
    VAECovariance,
    expected_label_shares,
    long_only_minimum_variance_weights,
    minimum_variance_weights,
)
from helpers.analysis.metrics import annualized_volatility, correlation_of, mean_correlation
from helpers.analysis.walkforward import (
    ORACLE,
    SCORES,
    forecast_scores,
    gaussian_log_likelihood,
    lowest_risk_on_validation,
    rebalance_dates,
    volatility_table,
    walk_forward,
)
from helpers.data import load
from helpers.train import TrainConfig

FAST_VAE = TrainConfig(epochs=3, patience=2, progress=False)


@pytest.fixture(scope="module")
def small_market():
    return load("synthetic", n_assets=8, n_days=400, n_anomalies=2, seed=5)


def estimators(market):
    return {
        "sample": EmpiricalCovariance(),
        "Ledoit-Wolf": LedoitWolf(),
        "PCA": PCAFactorCovariance(2),
        "VAE": VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=500, train=FAST_VAE, warm_start=True,
                             refit_every=2),
        "CVAE": VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=500, train=FAST_VAE,
                              labels=market.truth.regimes, n_labels=2),
    }


def test_every_estimator_is_symmetric_positive_semidefinite(small_market):
    window = small_market.returns.iloc[:150]
    for name, estimator in estimators(small_market).items():
        covariance = estimator.fit(window).covariance_
        assert covariance.shape == (8, 8), name
        np.testing.assert_allclose(covariance, covariance.T, atol=1e-12, err_msg=name)
        assert np.linalg.eigvalsh(covariance).min() > -1e-12, name


def test_pca_factor_covariance_keeps_each_assets_variance(small_market):
    window = small_market.returns.iloc[:150]
    covariance = PCAFactorCovariance(3).fit(window).covariance_
    np.testing.assert_allclose(np.diag(covariance), window.var().to_numpy(), rtol=1e-9)
    with pytest.raises(ValueError, match="n_factors=8"):
        PCAFactorCovariance(8).fit(window)


def test_vae_residual_is_the_diagonal_between_the_two_covariances(small_market):
    window = small_market.returns.iloc[:150]
    fitted = VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=500, train=FAST_VAE).fit(window)
    np.testing.assert_allclose(fitted.covariance_ - fitted.systematic_, np.diag(fitted.residual_variance_))
    assert (fitted.residual_variance_ > 0).all()


def test_vae_keeps_its_network_only_with_warm_start(small_market):
    estimator = VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=200, train=FAST_VAE, warm_start=True,
                              refit_every=3)
    models = []
    for start in range(0, 100, 20):
        estimator.fit(small_market.returns.iloc[start : start + 150])
        models.append(estimator.model_)
    assert models[0] is models[1] is models[2]
    assert models[3] is not models[2] and models[3] is models[4]
    cold = VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=200, train=FAST_VAE)
    first = cold.fit(small_market.returns.iloc[:150]).model_
    assert cold.fit(small_market.returns.iloc[20:170]).model_ is not first, "without warm_start every fit trains"
    with pytest.raises(ValueError, match="set warm_start=True"):
        VAECovariance(refit_every=3).fit(small_market.returns.iloc[:150])


def test_conditional_vae_needs_labels_for_every_day(small_market):
    labels = small_market.truth.regimes.iloc[10:]
    estimator = VAECovariance(latent_size=2, hidden_sizes=(8,), train=FAST_VAE, labels=labels, n_labels=2)
    with pytest.raises(ValueError, match="no label for"):
        estimator.fit(small_market.returns.iloc[:150])


def test_conditional_covariance_is_each_regimes_own(small_market):
    returns = small_market.returns.iloc[:300]
    estimator = VAECovariance(latent_size=2, hidden_sizes=(8,), n_samples=500, train=FAST_VAE,
                              labels=small_market.truth.regimes, n_labels=2).fit(returns)
    calm, stress = estimator.conditional_covariance(0), estimator.conditional_covariance(1)
    for matrix in (calm, stress):
        np.testing.assert_allclose(matrix, matrix.T)
        assert np.linalg.eigvalsh(matrix).min() > 0
    assert not np.allclose(calm, stress)
    with pytest.raises(ValueError, match="label=2"):
        estimator.conditional_covariance(2)
    with pytest.raises(ValueError, match="conditional VAE"):
        VAECovariance(latent_size=2, hidden_sizes=(8,), train=FAST_VAE).fit(returns).conditional_covariance(0)


def test_expected_label_shares_follow_the_chain():
    sticky = np.array([0] * 50 + [1] * 50)  # one switch in 99 steps: both labels persist
    shares = expected_label_shares(sticky, 2, horizon=1)
    assert shares[1] > 0.9 and shares.sum() == pytest.approx(1)
    assert expected_label_shares(sticky, 2, horizon=500)[1] < shares[1]
    with pytest.raises(ValueError, match="horizon=0"):
        expected_label_shares(sticky, 2, horizon=0)


def test_weights_sum_to_one_and_long_only_has_no_shorts():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(200, 5))
    covariance = np.cov(factors @ rng.normal(size=(5, 6)) + rng.normal(size=(200, 6)), rowvar=False)
    unconstrained = minimum_variance_weights(covariance)
    long_only = long_only_minimum_variance_weights(covariance)
    assert unconstrained.sum() == pytest.approx(1) and long_only.sum() == pytest.approx(1)
    assert (long_only >= 0).all()
    assert long_only @ covariance @ long_only >= unconstrained @ covariance @ unconstrained - 1e-12
    np.testing.assert_allclose(long_only_minimum_variance_weights(np.diag([1.0, 4.0])), [0.8, 0.2], atol=1e-6)


def test_the_long_only_solver_agrees_with_skfolios_mean_risk():
    rng = np.random.default_rng(4)
    for n_assets in (5, 20, 60):
        returns = rng.normal(size=(300, n_assets)) @ rng.normal(size=(n_assets, n_assets)) * 0.01
        covariance = np.cov(returns, rowvar=False)
        reference = MeanRisk(objective_function=ObjectiveFunction.MINIMIZE_RISK, min_weights=0.0,
                             prior_estimator=EmpiricalPrior(covariance_estimator=GivenCovariance(covariance)))
        expected = reference.fit(np.zeros((2, n_assets))).weights_
        weights = long_only_minimum_variance_weights(covariance)
        np.testing.assert_allclose(weights, expected, atol=1e-4)  # both solve to the solver's tolerance
        assert weights @ covariance @ weights <= expected @ covariance @ expected * (1 + 1e-6)


def test_rebalance_dates_are_month_ends_with_a_full_window():
    days = pd.bdate_range("2020-01-01", "2020-06-30")
    dates = rebalance_dates(days, 30)
    assert list(dates.month) == [2, 3, 4, 5]  # January lacks 30 days of history; June has no day after
    assert all(day == days[days.to_period("M") == day.to_period("M")].max() for day in dates)
    with pytest.raises(ValueError, match="window=500"):
        rebalance_dates(days, 500)


def test_walk_forward_uses_only_data_up_to_each_rebalance(small_market):
    returns = small_market.returns
    window = 120
    first = walk_forward(returns, estimators(small_market), window, long_only=False, n_jobs=1)
    cut = first.rebalance_dates[3]
    perturbed = returns.copy()
    perturbed.loc[perturbed.index > cut] *= -3.0
    second = walk_forward(perturbed, estimators(small_market), window, long_only=False, n_jobs=1)
    for key, weights in first.weights.items():
        pd.testing.assert_frame_equal(weights.loc[:cut], second.weights[key].loc[:cut], obj=str(key))
        assert not np.allclose(weights.loc[cut:].iloc[1:], second.weights[key].loc[cut:].iloc[1:]), key
    assert (first.returns.index > first.rebalance_dates[0]).all()


def test_walk_forward_adds_an_oracle_that_beats_the_sample(small_market):
    result = walk_forward(small_market.returns, {"sample": EmpiricalCovariance()}, 120,
                          truth=small_market.truth, n_jobs=1)
    assert ORACLE in result.returns.columns.get_level_values("estimator")
    table = volatility_table(result.returns["minimum variance"], n_boot=50)
    assert table.loc[ORACLE, "gap to oracle (%)"] == 0
    with pytest.raises(ValueError, match="also"):
        walk_forward(small_market.returns, {"sample": EmpiricalCovariance()}, 120, also={"x": ("VAE", "a")})


def test_block_bootstrap_indices_are_circular_blocks():
    indices = block_bootstrap_indices(10, block=4, n_boot=3, seed=0)
    assert indices.shape == (3, 10)
    steps = np.diff(indices[:, :4], axis=1) % 10
    assert (steps == 1).all()
    with pytest.raises(ValueError, match="block=11"):
        block_bootstrap_indices(10, block=11)


def test_bootstrap_intervals_cover_the_estimate_and_differences_are_paired():
    rng = np.random.default_rng(1)
    base = rng.normal(0, 0.01, 500)
    daily = pd.DataFrame({"a": base, "b": 2 * base})
    table = bootstrap_intervals(daily, annualized_volatility, n_boot=200)
    assert (table["low"] <= table["estimate"]).all() and (table["estimate"] <= table["high"]).all()
    differences = bootstrap_differences(daily, annualized_volatility, "a", n_boot=200)
    # b is exactly twice a, so every resample's difference equals a's volatility in it: positive.
    assert differences.loc["b", "low"] > 0 and differences.loc["a", "estimate"] == 0
    with pytest.raises(ValueError, match="reference='c'"):
        bootstrap_differences(daily, annualized_volatility, "c")


def test_mean_correlation_of_a_known_covariance():
    scale = np.array([1.0, 2.0, 3.0])
    correlation = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, -0.1], [0.2, -0.1, 1.0]])
    covariance = correlation * np.outer(scale, scale)
    np.testing.assert_allclose(correlation_of(covariance), correlation)
    assert mean_correlation(covariance) == pytest.approx((0.5 + 0.2 - 0.1) / 3)
    with pytest.raises(ValueError, match="at least 2 assets"):
        mean_correlation(np.eye(1))


def test_walk_forward_gives_the_same_numbers_in_one_process_or_many(small_market):
    threads = torch.get_num_threads()
    in_process = walk_forward(small_market.returns, estimators(small_market), 120, n_jobs=1)
    assert torch.get_num_threads() == threads, "the walk-forward left this process's torch threads changed"
    in_workers = walk_forward(small_market.returns, estimators(small_market), 120, n_jobs=2)
    pd.testing.assert_frame_equal(in_process.returns, in_workers.returns, check_exact=True)


def test_the_pca_factor_covariance_is_the_same_whatever_the_global_random_state():
    """Above 500 days scikit-learn's "auto" solver is a randomized SVD seeded from the global
    state, which moved the race's figures in their 11th digit from run to run."""
    returns = np.random.default_rng(5).normal(0, 0.01, (504, 60))
    np.random.seed(1)
    first = PCAFactorCovariance(4).fit(returns).covariance_
    np.random.seed(2)
    np.testing.assert_array_equal(first, PCAFactorCovariance(4).fit(returns).covariance_)


def test_the_data_choose_longer_blocks_for_persistent_volatility():
    rng = np.random.default_rng(3)
    calm = pd.DataFrame({"iid": rng.normal(0, 0.01, 2000)})
    regimes = np.repeat(rng.choice([0.005, 0.03], size=20), 100)
    clustered = pd.DataFrame({"clustered": rng.normal(0, 1, 2000) * regimes})
    assert data_chosen_block(clustered) > 3 * data_chosen_block(calm)
    with pytest.raises(ValueError, match="at least 10 days"):
        data_chosen_block(calm.iloc[:5])


def two_point_spectrum_sample(n_days: int, seed: int = 1):
    """Returns drawn from a covariance with half its eigenvalues at 1 and half at 4, in a random basis."""
    rng = np.random.default_rng(seed)
    n_assets = 100
    spectrum = np.r_[np.ones(n_assets // 2), 4 * np.ones(n_assets // 2)]
    basis, _ = np.linalg.qr(rng.normal(size=(n_assets, n_assets)))
    truth = (basis * spectrum) @ basis.T
    return rng.normal(size=(n_days, n_assets)) @ np.linalg.cholesky(truth).T, truth


def test_nonlinear_shrinkage_recovers_a_known_spectrum_better_than_linear_shrinkage():
    returns, truth = two_point_spectrum_sample(400)

    def error(estimator):
        return np.linalg.norm(estimator.fit(returns).covariance_ - truth) / np.linalg.norm(truth)

    nonlinear = NonlinearShrinkage().fit(returns)
    assert error(NonlinearShrinkage()) < 0.8 * error(LedoitWolf()) < 0.8 * error(EmpiricalCovariance())
    # The sample spectrum smears the two values over [0.4, 6.2]; the shrunk one puts them back near 1 and 4.
    low, high = np.sort(nonlinear.eigenvalues_)[:40], np.sort(nonlinear.eigenvalues_)[-40:]
    assert np.abs(np.median(low) - 1) < 0.25 and np.abs(np.median(high) - 4) < 0.5
    true_range = 3.0
    shrunk_miss = abs(np.ptp(nonlinear.eigenvalues_) - true_range)
    assert shrunk_miss < abs(np.ptp(nonlinear.sample_eigenvalues_) - true_range) / 3


def test_nonlinear_shrinkage_of_white_noise_is_near_the_identity():
    returns = np.random.default_rng(2).normal(size=(400, 100))
    eigenvalues = NonlinearShrinkage().fit(returns).eigenvalues_
    assert np.abs(eigenvalues - 1).max() < 0.35  # the sample eigenvalues spread from 0.25 to 2.25
    with pytest.raises(ValueError, match="100 assets over 60 days"):
        NonlinearShrinkage().fit(returns[:60])


def test_the_scaled_identity_gives_one_over_n_in_both_portfolios(small_market):
    covariance = ScaledIdentity().fit(small_market.returns.iloc[:150]).covariance_
    np.testing.assert_allclose(minimum_variance_weights(covariance), 1 / 8)
    np.testing.assert_allclose(long_only_minimum_variance_weights(covariance), 1 / 8, atol=1e-6)
    assert covariance[0, 0] == pytest.approx(small_market.returns.iloc[:150].var().mean())


def test_the_walk_forward_holds_its_weights_by_the_backtest_engines_rule(small_market):
    result = walk_forward(small_market.returns, {"sample": EmpiricalCovariance()}, 120, long_only=False, n_jobs=1)
    weights = result.weights[("minimum variance", "sample")]
    engine = run_backtest(weights, np.expm1(small_market.returns), cost_bps=0.0)
    pd.testing.assert_series_equal(result.returns[("minimum variance", "sample")], engine.gross_returns,
                                   check_names=False)
    constant = np.expm1(small_market.returns).loc[result.returns.index[:15]] @ weights.iloc[0]
    assert not np.allclose(result.returns[("minimum variance", "sample")].iloc[:15], constant)  # weights drift


def test_forecast_scores_prefer_the_true_covariance_to_a_doubled_one():
    rng = np.random.default_rng(3)
    truth = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, 0.3], [0.2, 0.3, 0.5]]) * 1e-4
    days = pd.bdate_range("2020-01-01", periods=21 * 120)
    log_returns = pd.DataFrame(rng.multivariate_normal(np.zeros(3), truth, len(days)), index=days)
    holdings = [days[i : i + 21] for i in range(0, len(days), 21)]
    weights = pd.DataFrame([minimum_variance_weights(truth)] * len(holdings))
    scores = forecast_scores({"truth": [truth] * len(holdings), "doubled": [2 * truth] * len(holdings)},
                             {"truth": weights, "doubled": weights}, log_returns, holdings)
    mean = scores.mean()
    assert mean[(SCORES[0], "truth")] > mean[(SCORES[0], "doubled")]
    assert mean[(SCORES[1], "truth")] < mean[(SCORES[1], "doubled")]
    assert mean[(SCORES[2], "truth")] == pytest.approx(1.0, abs=0.1)
    assert mean[(SCORES[2], "doubled")] == pytest.approx(0.5, abs=0.05)
    assert list(scores.index) == [holding[-1] for holding in holdings]


def test_the_validation_choice_never_sees_the_test_period(small_market):
    result = walk_forward(small_market.returns, estimators(small_market), 120, long_only=False, n_jobs=1)
    returns = result.returns["minimum variance"]
    end = result.validation_end(1 / 3)
    assert end == result.rebalance_dates[round(len(result.rebalance_dates) / 3)]
    chosen = lowest_risk_on_validation(returns, returns.columns, end)
    others = returns.columns.drop(chosen)
    test_rigged = returns.copy()
    test_rigged.loc[test_rigged.index > end, chosen] *= 50.0  # the chosen one is a disaster on test
    assert lowest_risk_on_validation(test_rigged, returns.columns, end) == chosen
    validation_rigged = returns.copy()
    validation_rigged.loc[validation_rigged.index <= end, chosen] *= 50.0
    assert lowest_risk_on_validation(validation_rigged, returns.columns, end) in others
    with pytest.raises(ValueError, match="share=1.5"):
        result.validation_end(1.5)
    with pytest.raises(ValueError, match="'nope'"):
        lowest_risk_on_validation(returns, ["nope"], end)


def test_paired_auroc_differences_resample_labels_with_scores_and_leave_out_one_kind_resamples():
    rng = np.random.default_rng(6)
    days = pd.bdate_range("2020-01-01", periods=600)
    labels = pd.Series(np.repeat([0, 1, 0, 1, 0, 0], 100), index=days)  # spells, as stress episodes come
    scores = pd.DataFrame({"noise": rng.normal(size=600), "signal": labels + rng.normal(0, 0.5, 600)}, index=days)
    table = auroc_differences(scores, labels, "noise", block=50, n_boot=300)
    assert table.loc["signal", "low"] > 0.2 and table.loc["noise", "estimate"] == 0
    assert 150 <= table["resamples"].iloc[0] < 300  # some resamples hold no stress day and are left out
    with pytest.raises(ValueError, match="resamples hold more than one kind"):
        auroc_differences(scores, labels * 0, "noise", block=50, n_boot=300)  # no stress day at all
    with pytest.raises(ValueError, match="reference='other'"):
        auroc_differences(scores, labels, "other")


def test_auroc_intervals_hold_each_scores_auroc_and_one_half_for_noise():
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2020-01-01", periods=600)
    labels = pd.Series(np.repeat([0, 1, 0, 1, 0, 0], 100), index=days)
    scores = pd.DataFrame({"noise": rng.normal(size=600), "signal": labels + rng.normal(0, 0.5, 600),
                           "inverse": -labels + rng.normal(0, 0.5, 600)}, index=days)
    table = auroc_intervals(scores, labels, block=50, n_boot=300)
    assert list(table.index) == ["noise", "signal", "inverse"]
    assert table.loc["signal", "estimate"] == pytest.approx(roc_auc_score(labels, scores["signal"]))
    assert table.loc["noise", "low"] < 0.5 < table.loc["noise", "high"]
    assert table.loc["signal", "low"] > 0.8 and table.loc["inverse", "high"] < 0.2
    with pytest.raises(ValueError, match="'chance'"):
        auroc_intervals(scores.rename(columns={"noise": "chance"}), labels)


def test_the_one_pass_denoising_equals_skfolios():
    rng = np.random.default_rng(7)
    for n_assets, days in ((60, 504), (20, 126), (8, 300)):
        returns = (rng.normal(size=(days, n_assets)) @ rng.normal(size=(n_assets, n_assets))
                   + rng.normal(size=(days, 1)) @ rng.normal(size=(1, n_assets))) * 0.01
        np.testing.assert_allclose(MarchenkoPasturDenoise().fit(returns).covariance_,
                                   DenoiseCovariance().fit(returns).covariance_, rtol=1e-9, atol=1e-15)


def test_the_gaussian_log_likelihood_is_scipys_on_every_path():
    rng = np.random.default_rng(3)
    days = rng.normal(size=(21, 12)) * 0.01
    loadings = rng.normal(size=(12, 3)) * 0.01
    regular = loadings @ loadings.T + np.diag(rng.uniform(1e-5, 4e-5, 12))
    singular = loadings @ loadings.T  # a factor model without its residual: rank 3
    for covariance in (regular, np.cov(rng.normal(size=(60, 12)), rowvar=False), singular):
        expected = multivariate_normal(cov=covariance, allow_singular=True).logpdf(days).mean()
        assert gaussian_log_likelihood(covariance, days) == pytest.approx(expected, rel=1e-10)
    assert gaussian_log_likelihood(singular, days) == -np.inf, "days off a singular matrix's support"
    on_support = days[:, :3] @ loadings.T  # days inside the rank-3 span
    assert np.isfinite(gaussian_log_likelihood(singular, on_support))
