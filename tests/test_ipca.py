"""IPCA by alternating least squares recovers a planted linear characteristics model."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.analysis.ipca import IPCA, cross_sectional_factors


def planted_panel(months=120, assets=100, n_characteristics=6, n_factors=3, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    characteristics = rng.uniform(-1, 1, (months, assets, n_characteristics))
    gamma = rng.normal(0, 1, (n_characteristics, n_factors))
    factors = rng.normal(0.01, 0.05, (months, n_factors))
    signal = np.einsum("mnl,lk,mk->mn", characteristics, gamma, factors)
    return characteristics, signal + rng.normal(0, noise, (months, assets)), signal, gamma


def r2(returns, fit):
    return 1 - ((returns - fit) ** 2).sum() / (returns**2).sum()


def test_ipca_recovers_the_planted_span_and_fits_as_well_as_the_truth_out_of_sample():
    characteristics, returns, signal, gamma = planted_panel()
    model = IPCA(n_factors=3).fit(characteristics[:80], returns[:80])
    cosines = np.linalg.svd(np.linalg.qr(gamma)[0].T @ model.gamma_)[1]
    assert cosines.min() > 0.9999  # the same column space: Gamma is identified up to rotation
    test = slice(80, None)
    fitted = model.fitted(characteristics[test], returns[test])
    assert r2(returns[test], fitted) > r2(returns[test], signal[test]) - 0.002
    assert IPCA(n_factors=1).fit(characteristics, returns).n_iter_ < 1000  # converged, not stopped


def test_ipca_is_normalized_as_kelly_pruitt_and_su():
    characteristics, returns, *_ = planted_panel(seed=1)
    model = IPCA(n_factors=3).fit(characteristics, returns)
    np.testing.assert_allclose(model.gamma_.T @ model.gamma_, np.eye(3), atol=1e-9)
    moments = model.factors_.T @ model.factors_
    np.testing.assert_allclose(moments - np.diag(np.diag(moments)), 0, atol=1e-8)
    assert (np.diff(np.diag(moments)) < 0).all() and (model.factor_mean_ > 0).all()
    np.testing.assert_allclose(model.predicted(characteristics), model.betas(characteristics) @ model.factor_mean_)


def test_the_cross_sectional_factors_are_the_months_least_squares():
    rng = np.random.default_rng(2)
    betas, returns = rng.normal(size=(4, 30, 2)), rng.normal(size=(4, 30))
    expected = np.stack([np.linalg.lstsq(betas[m], returns[m], rcond=None)[0] for m in range(4)])
    np.testing.assert_allclose(cross_sectional_factors(betas, returns), expected)


@pytest.mark.parametrize("change, message", [
    (lambda c, r: (c[..., 0], r), "expected a complete \\(months, assets, characteristics\\)"),
    (lambda c, r: (np.where(c > 0.99, np.nan, c), r), "without NaN"),
    (lambda c, r: (c, r[:, :-1]), "one return per asset and month"),
])
def test_ipca_refuses_an_incomplete_or_misaligned_panel(change, message):
    characteristics, returns, *_ = planted_panel(months=10, assets=20)
    with pytest.raises(ValueError, match=message):
        IPCA(n_factors=2).fit(*change(characteristics, returns))
    with pytest.raises(ValueError, match="n_factors=7; expected at most the 6 characteristics"):
        IPCA(n_factors=7).fit(characteristics, returns)
