"""The chapters' two protocols on tiny markets: the covariance race (Chapter 6) and the
signal study (Chapter 10). What they return, and the rules they refuse to break."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.signals import SINGLE_FEATURES
from helpers.analysis.walkforward import ORACLE, PORTFOLIOS
from helpers.data import MarketSpec
from helpers.experiments.covariance_race import (
    CONDITION_NAMES,
    NO_RESIDUAL,
    CovarianceRaceConfig,
    non_learned_estimators,
    run_covariance_race,
)
from helpers.experiments.signal_study import NETWORKS, SignalStudyConfig, run_signal_study, study_market
from helpers.train import TrainConfig

QUICK = TrainConfig(epochs=2, patience=2, progress=False)
TINY_MARKET = MarketSpec(source="synthetic", synthetic_assets=6, synthetic_days=320, seed=1)


@pytest.fixture(scope="module")
def race():
    config = CovarianceRaceConfig(market=TINY_MARKET, window=100, n_factors=2, hidden_sizes=(8,),
                                  conditions=tuple(CONDITION_NAMES), refit_every=12, short_window=50, train=QUICK)
    return config, run_covariance_race(config)


def test_the_race_runs_every_estimator_the_oracle_and_both_portfolios(race):
    config, race = race
    estimators = set(race.returns.columns.get_level_values("estimator"))
    assert estimators == {*non_learned_estimators(config), "VAE", NO_RESIDUAL, *CONDITION_NAMES.values(), ORACLE}
    assert set(race.scores.columns.get_level_values("estimator")) == estimators
    assert set(race.returns.columns.get_level_values("portfolio")) == set(PORTFOLIOS)
    assert not race.returns.isna().any().any()
    for weights in race.weights.values():
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-8)


def test_the_race_holds_each_estimate_only_after_the_day_it_was_made(race):
    _, race = race
    first_held = race.returns.index[0]
    assert first_held > race.rebalance_dates[0]
    assert race.returns.index.is_monotonic_increasing


def test_the_race_refuses_an_unknown_condition_and_the_true_regime_on_real_data():
    with pytest.raises(ValueError, match="weather"):
        run_covariance_race(CovarianceRaceConfig(market=TINY_MARKET, conditions=("weather",), train=QUICK))
    bundled = MarketSpec(source="bundled", start="2019-01-01")
    with pytest.raises(ValueError, match="needs the synthetic source"):
        run_covariance_race(CovarianceRaceConfig(market=bundled, window=120, conditions=("true_regime",), train=QUICK))
    with pytest.raises(ValueError, match="short_window=100"):
        run_covariance_race(CovarianceRaceConfig(market=TINY_MARKET, window=100, short_window=100, train=QUICK))


STUDY = SignalStudyConfig(market=MarketSpec(source="synthetic", synthetic_assets=8, synthetic_days=500, seed=2),
                          horizon=5, gap=10, n_splits=2, test_share=0.2, latent_size=2, hidden_sizes=(8,),
                          train=TrainConfig(epochs=2, batch_size=512, patience=2, checkpoint_every=1, progress=False))


@pytest.fixture(scope="module")
def study():
    return run_signal_study(STUDY)


def test_the_study_chooses_checkpoints_on_validation_folds_that_end_before_the_test(study):
    assert set(study.chosen) == set(NETWORKS)
    assert len(study.fold_dates) == 2
    test_start = study.test_dates[0]
    for train_start, train_end, validation_start, validation_end in study.fold_dates:
        assert train_start <= train_end < validation_start <= validation_end < test_start
        assert len(pd.bdate_range(train_end, validation_start)) > study.config.gap
    for name, epoch in study.chosen.items():
        assert epoch == study.validation_ic.xs(name, axis=1, level=0).mean(axis=1).idxmax()


def test_the_study_scores_every_network_and_ridge_on_the_test_dates_only(study):
    assert set(study.test_signals) == {*NETWORKS, "ridge regression", *SINGLE_FEATURES}
    for table in study.test_signals.values():
        assert table.values.index.min() >= study.test_dates[0]
        assert table.values.index.max() <= study.test_dates[1]
    assert study.realized.index.min() >= study.test_dates[0]


def test_no_choice_of_the_study_sees_the_test_period(study):
    """Checkpoints and the best single feature are chosen on development dates: rewriting every
    price from the test period on (the features and targets there) moves none of them."""
    market = STUDY.market.load()
    prices = market.prices.copy()
    prices.loc[prices.index >= study.test_dates[0]] *= np.linspace(1.0, 3.0, prices.shape[1])
    altered = study_market(replace(market, prices=prices), STUDY)
    assert altered.chosen == study.chosen and altered.best_feature == study.best_feature
    pd.testing.assert_frame_equal(altered.validation_ic, study.validation_ic)
    pd.testing.assert_series_equal(altered.development_ic, study.development_ic)
    assert not altered.realized.equals(study.realized)  # the test period did change
    assert set(study.development_ic.index) == set(SINGLE_FEATURES)
    assert study.best_feature == study.development_ic.idxmax()


def test_the_study_refuses_targets_that_overlap_the_purge_gap():
    with pytest.raises(ValueError, match="gap=5 must exceed horizon=5"):
        run_signal_study(SignalStudyConfig(market=TINY_MARKET, horizon=5, gap=5, train=QUICK))
