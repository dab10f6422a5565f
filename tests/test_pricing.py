"""Pricing measures and the baselines of the conditional autoencoder's chapter."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.analysis.pricing import ReturnsPCA, SortedFactorModel, r2, r2_intervals, sorted_factors


def constant_beta_panel(months=120, assets=30, seed=0):
    rng = np.random.default_rng(seed)
    characteristics = rng.uniform(-1, 1, (months, assets, 3))
    betas = rng.normal(1, 0.5, (assets, 2))
    factors = rng.normal(0.01, 0.05, (months, 2))
    signal = factors @ betas.T
    return characteristics, signal + rng.normal(0, 0.01, (months, assets)), signal


def test_r2_compares_a_fit_with_predicting_zero():
    returns = np.array([[1.0, -1.0], [2.0, 0.0]])
    assert r2(returns, returns) == 1.0 and r2(returns, np.zeros_like(returns)) == 0.0
    assert r2(returns, returns / 2) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="a fit of shape \\(2,\\) for returns of shape \\(2, 2\\)"):
        r2(returns, returns[0])


def test_returns_pca_reads_constant_betas_as_well_as_the_truth_out_of_sample():
    characteristics, returns, signal = constant_beta_panel()
    model = ReturnsPCA(n_factors=2).fit(characteristics[:80], returns[:80])
    test = slice(80, None)
    fitted = model.fitted(characteristics[test], returns[test])
    assert r2(returns[test], fitted) > r2(returns[test], signal[test]) - 0.01
    assert model.predicted(characteristics[test]).shape == returns[test].shape
    with pytest.raises(ValueError, match="n_factors=31; expected at most 30"):
        ReturnsPCA(n_factors=31).fit(characteristics, returns)


def test_sorted_factors_are_the_market_and_top_minus_bottom():
    characteristics = np.array([[[0.0], [1.0], [2.0]]])  # one month, three assets, ranked 0 < 1 < 2
    returns = np.array([[0.01, 0.02, 0.06]])
    np.testing.assert_allclose(sorted_factors(characteristics, returns, (0,)), [[0.03, 0.05]])


def test_the_sorted_factor_model_prices_a_market_driven_panel_as_well_as_the_truth():
    rng = np.random.default_rng(3)
    characteristics = rng.uniform(-1, 1, (100, 40, 2))
    market = rng.normal(0.01, 0.05, 100)
    signal = np.outer(market, rng.normal(1, 0.3, 40))
    returns = signal + rng.normal(0, 0.01, (100, 40))
    model = SortedFactorModel(columns=(0, 1)).fit(characteristics, returns)
    assert model.betas_.shape == (40, 3) and model.predicted(characteristics).shape == (100, 40)
    assert r2(returns, model.fitted(characteristics, returns)) > r2(returns, signal) - 0.01


def test_r2_intervals_pair_the_months():
    characteristics, returns, signal = constant_beta_panel(seed=5)
    fits = {"truth": signal, "half": signal / 2, "zero": np.zeros_like(signal)}
    table = r2_intervals(returns, fits, reference="half", n_boot=300)
    assert table.loc["truth", ("R2", "estimate")] == pytest.approx(r2(returns, signal))
    assert table.loc["truth", ("minus half", "low")] > 0 > table.loc["zero", ("minus half", "high")]
    assert (table.loc["half", "minus half"] == 0).all()
