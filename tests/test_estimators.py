"""The scikit-learn-style estimators pass scikit-learn's own estimator checks, but for the
ones declared here, each with the reason it is not met."""
from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import check_estimator

from helpers.analysis.covariance import PCAFactorCovariance
from helpers.analysis.embedding import MarketStates
from helpers.analysis.regimes import GaussianHMMRegimes

SEQUENTIAL = ("a hidden Markov model reads the days in order: a day's filtered state depends on the days "
              "before it, so the days' states change when they are reordered or subset")

CHECKED = {
    "PCAFactorCovariance": (PCAFactorCovariance(n_factors=1), {}),
    "GaussianHMMRegimes": (
        GaussianHMMRegimes(n_states=2, n_restarts=1, n_iter=10),
        {
            "check_methods_sample_order_invariance": SEQUENTIAL,
            "check_methods_subset_invariance": SEQUENTIAL,
        },
    ),
    "MarketStates": (MarketStates(k_values=(2, 3)), {}),
}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_scikit_learn_estimator_checks(name):
    estimator, expected_failures = CHECKED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=expected_failures, on_fail=None, on_skip=None)
    failed = {result["check_name"]: str(result["exception"])[:300]
              for result in results if result["status"] == "failed"}
    assert not failed, f"{name} fails scikit-learn checks it does not declare: {failed}"
