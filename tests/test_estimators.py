"""The scikit-learn-style estimators pass scikit-learn's own estimator checks, but for the
ones declared here, each with the reason it is not met."""
from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import check_estimator

from helpers.analysis.covariance import MarchenkoPasturDenoise, PCAFactorCovariance, VAECovariance
from helpers.analysis.embedding import MarketStates
from helpers.analysis.interpret import FeatureLabeler
from helpers.analysis.regimes import (
    EmbeddingRegimes,
    GaussianHMMRegimes,
    JumpModelRegimes,
    SparseFeatureRegimes,
    StressDetector,
)
from helpers.train import TrainConfig

SEQUENTIAL = ("the model reads the days in order (a filter, an online prediction or a trailing average): "
              "a day's state depends on the days before it, so the states change when the days are reordered "
              "or subset")
NAMED_TARGET = ("fit's second argument is named for what it is (the returns or volatility that order the "
                "states), not y")

CHECKED = {
    "MarchenkoPasturDenoise": (
        MarchenkoPasturDenoise(),
        {"check_fit2d_1sample": "skfolio's sample covariance, which it denoises, refuses one observation in its own "
                                "words (ddof must be less than the number of observations)"},
    ),
    "PCAFactorCovariance": (PCAFactorCovariance(n_factors=1), {}),
    "VAECovariance": (
        VAECovariance(latent_size=1, hidden_sizes=(4,), n_samples=200, train=TrainConfig(epochs=3, progress=False)),
        {},
    ),
    "FeatureLabeler": (
        FeatureLabeler(smoothing=1),
        {"check_fit_score_takes_y": "fit's second argument is the table of indicators the features are labelled "
                                    "by, not y"},
    ),
    "GaussianHMMRegimes": (
        GaussianHMMRegimes(n_states=2, n_restarts=1, n_iter=10),
        {
            "check_methods_sample_order_invariance": SEQUENTIAL,
            "check_methods_subset_invariance": SEQUENTIAL,
        },
    ),
    "MarketStates": (MarketStates(k_values=(2, 3)), {}),
    "JumpModelRegimes": (
        JumpModelRegimes(n_states=2),
        {"check_fit_score_takes_y": NAMED_TARGET, "check_methods_subset_invariance": SEQUENTIAL},
    ),
    "EmbeddingRegimes": (EmbeddingRegimes(n_states=2, n_components=1), {"check_fit_score_takes_y": NAMED_TARGET}),
    "SparseFeatureRegimes": (
        SparseFeatureRegimes(n_states=2),
        {"check_fit_score_takes_y": NAMED_TARGET, "check_methods_sample_order_invariance": SEQUENTIAL,
         "check_methods_subset_invariance": SEQUENTIAL},
    ),
    "StressDetector": (
        StressDetector(),
        {"check_fit_score_takes_y": NAMED_TARGET, "check_methods_sample_order_invariance": SEQUENTIAL,
         "check_methods_subset_invariance": SEQUENTIAL,
         "check_fit_check_is_fitted": "the check's target takes two values; the detector splits it at its median, "
                                      "which leaves one class when the median is the larger value, and says so"},
    ),
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
