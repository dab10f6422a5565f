"""Regime models and their scores on tiny data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.regimes import (
    EmbeddingRegimes,
    GaussianHMMRegimes,
    JumpModelRegimes,
    SparseFeatureRegimes,
    StressDetector,
    agreement_matrix,
    balanced_accuracy,
    detection_lags,
    jump_features,
    mean_durations,
    paired_score_difference,
    switch_count,
    transition_matrix,
    truth_scores,
    volatility_order,
)


def two_regime_returns(seed: int = 0, n_days: int = 1200) -> tuple[pd.DataFrame, pd.Series]:
    """Calm days N(0.001, 0.005) and stress days N(-0.002, 0.03) in long spells."""
    rng = np.random.default_rng(seed)
    spells = np.repeat(rng.integers(0, 2, n_days // 60), 60)
    spells[:60] = 0
    scale = np.where(spells == 1, 0.03, 0.005)
    mean = np.where(spells == 1, -0.002, 0.001)
    days = pd.bdate_range("2000-01-03", periods=len(spells))
    returns = pd.DataFrame({"r": rng.normal(mean, scale)}, index=days)
    return returns, pd.Series(spells, index=days, name="regime")


def test_hmm_recovers_two_well_separated_gaussians():
    returns, truth = two_regime_returns()
    model = GaussianHMMRegimes(2, n_restarts=3).fit(returns)
    states = model.predict(returns)
    assert (states == truth).mean() > 0.95
    assert np.sqrt(model.covariances_[:, 0, 0]) == pytest.approx([0.005, 0.03], rel=0.15)
    assert model.means_[1, 0] < model.means_[0, 0]
    assert model.transmat_.diagonal().min() > 0.9
    assert len(model.restart_scores_) == 3 and model.log_likelihood_ == pytest.approx(model.restart_scores_.max())


def test_hmm_states_are_ordered_by_volatility_whatever_the_seed():
    returns, truth = two_regime_returns(seed=1)
    for seed in range(3):
        states = GaussianHMMRegimes(2, n_restarts=1, random_state=seed).fit(returns).predict(returns)
        assert returns["r"][states == 1].std() > 2 * returns["r"][states == 0].std()


def test_filtered_probabilities_are_causal_and_smoothed_ones_are_not():
    returns, _ = two_regime_returns()
    model = GaussianHMMRegimes(2, n_restarts=1).fit(returns)
    cut = 700
    changed = returns.copy()
    changed.iloc[cut + 1 :] = -changed.iloc[cut + 1 :] * 5
    filtered, filtered_changed = model.filtered_probabilities(returns), model.filtered_probabilities(changed)
    pd.testing.assert_frame_equal(filtered.iloc[: cut + 1], filtered_changed.iloc[: cut + 1])
    assert not filtered.iloc[cut + 1 :].equals(filtered_changed.iloc[cut + 1 :])
    smoothed, smoothed_changed = model.smoothed_probabilities(returns), model.smoothed_probabilities(changed)
    assert not np.allclose(smoothed.iloc[cut - 5 : cut + 1], smoothed_changed.iloc[cut - 5 : cut + 1])
    np.testing.assert_allclose(filtered.sum(axis=1), 1.0)


def test_hmm_rejects_bad_input():
    returns, _ = two_regime_returns()
    with pytest.raises(ValueError, match="n_states=1"):
        GaussianHMMRegimes(1).fit(returns)
    gappy = returns.copy()
    gappy.iloc[3] = np.nan
    with pytest.raises(ValueError, match="missing or infinite values"):
        GaussianHMMRegimes(2).fit(gappy)
    with pytest.raises(ValueError, match="too few"):
        GaussianHMMRegimes(3).fit(returns.iloc[:14])


def test_jump_model_online_states_are_causal_and_ordered():
    returns, truth = two_regime_returns()
    features = jump_features(returns["r"])
    model = JumpModelRegimes(2, jump_penalty=10.0).fit(features, returns["r"])
    states = model.predict(features)
    assert (states == truth.reindex(states.index)).mean() > 0.85
    assert returns["r"].reindex(states.index)[states == 1].std() > returns["r"].reindex(states.index)[states == 0].std()
    cut = 600
    changed = returns["r"].copy()
    changed.iloc[cut + 1 :] *= -4
    later = model.predict(jump_features(changed))
    pd.testing.assert_series_equal(states.iloc[: cut + 1 - 21], later.iloc[: cut + 1 - 21])


def test_jump_features_use_the_past_only():
    returns, _ = two_regime_returns()
    changed = returns["r"].copy()
    changed.iloc[500:] = 0.0
    pd.testing.assert_frame_equal(jump_features(returns["r"]).iloc[:479], jump_features(changed).iloc[:479])


def test_embedding_regimes_separate_two_clouds_and_order_them():
    rng = np.random.default_rng(0)
    calm, stress = rng.normal(0, 1, (200, 6)), rng.normal(6, 1, (100, 6))
    x = pd.DataFrame(np.vstack([stress, calm]))
    returns = np.r_[rng.normal(0, 0.03, 100), rng.normal(0, 0.005, 200)]
    states = EmbeddingRegimes(2, n_components=2).fit(x, returns).predict(x)
    assert (states.iloc[:100] == 1).all() and (states.iloc[100:] == 0).all()


def test_sparse_feature_regimes_follow_the_documented_mapping():
    days = pd.bdate_range("2020-01-01", periods=6)
    activations = pd.DataFrame(
        {"quiet": [1.0, 1.0, 0, 0, 1.0, 0], "loud": [0, 0, 2.0, 2.0, 0, 0], "silent": 0.0,
         "late": [0, 0, 0, 0, 0, 3.0]},
        index=days,
    )
    volatility = pd.Series([0.1, 0.2, 0.5, 0.6, 0.1, 0.2], index=days)
    train = days[:5]
    model = SparseFeatureRegimes(2, smoothing=1).fit(activations.loc[train], volatility.loc[train])
    assert model.feature_state_.to_dict() == {"quiet": 0, "loud": 1, "silent": 0, "late": 0}
    assert model.predict(activations).tolist() == [0, 0, 1, 1, 0, 0]
    smoothed = SparseFeatureRegimes(2, smoothing=3).fit(activations.loc[train], volatility.loc[train])
    assert smoothed.dominant_features(activations).iloc[4] == "loud"
    later = activations.copy()
    later.iloc[5:] = 9.0
    pd.testing.assert_series_equal(smoothed.predict(activations).iloc[:5], smoothed.predict(later).iloc[:5])
    with pytest.raises(ValueError, match="no feature is active"):
        model.predict(activations.assign(quiet=0.0, loud=0.0, late=0.0))


def test_detection_lag_counts_days_to_the_first_stress_call_within_the_spell():
    truth = pd.Series([0, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    called = pd.Series([0, 0, 0, 1, 1, 0, 0, 0, 0, 1])
    lags = detection_lags(called == 1, truth == 1)
    assert lags.tolist()[0] == 2 and np.isnan(lags.tolist()[1])


def test_truth_scores_of_a_perfect_and_a_lagged_labelling():
    days = pd.bdate_range("2020-01-01", periods=504)
    truth = pd.Series(np.repeat([0, 1, 0, 1], 126), index=days)
    perfect = truth_scores(truth, truth)
    assert perfect["ARI"] == pytest.approx(1) and perfect["NMI"] == pytest.approx(1)
    assert perfect["median lag (days)"] == 0 and perfect["missed onsets"] == 0
    assert perfect["switches a year"] == perfect["true switches a year"] == 1.5
    lagged = truth_scores(truth.shift(3, fill_value=0), truth)
    assert lagged["median lag (days)"] == 3 and lagged["ARI"] < 1
    with pytest.raises(ValueError, match="same days"):
        truth_scores(truth.iloc[1:], truth)


def test_transitions_durations_switches_and_agreement():
    labels = pd.Series([0, 0, 0, 1, 1, 0, 0, 0, 0, 1])
    matrix = transition_matrix(labels, 3)
    np.testing.assert_allclose(matrix.loc[0].to_numpy(), [5 / 7, 2 / 7, 0])
    np.testing.assert_allclose(matrix.loc[1].to_numpy(), [1 / 2, 1 / 2, 0])
    assert matrix.loc[2].isna().all()
    durations = mean_durations(labels, 3)
    assert durations[0] == 3.5 and durations[1] == 1.5 and np.isnan(durations[2])
    assert switch_count(labels) == 3
    agreement = agreement_matrix(pd.DataFrame({"a": labels, "b": 1 - labels, "c": [0, 1] * 5}))
    assert agreement.loc["a", "b"] == pytest.approx(1) and agreement.loc["a", "c"] < 0.5


def test_balanced_accuracy_and_volatility_order():
    episodes = pd.Series([True, True, False, False])
    assert balanced_accuracy(pd.Series([True, False, False, False]), episodes) == 0.75
    with pytest.raises(ValueError, match="episodes"):
        balanced_accuracy(episodes, pd.Series([True] * 4))
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert volatility_order(labels, np.array([5, -5, 0, 0.1, 1, -1]), 3).tolist() == [1, 2, 0]


def test_stress_detector_picks_the_coordinate_that_tracks_volatility_and_flips_its_sign():
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2010-01-01", periods=600)
    volatility = pd.Series(np.repeat(rng.uniform(0.1, 0.4, 20), 30), index=days)
    x = pd.DataFrame({"noise": rng.normal(size=600), "inverse": -volatility.to_numpy() + rng.normal(0, 0.01, 600)},
                     index=days)
    train = days[:400]
    detector = StressDetector(smoothing=1, quantile=0.8).fit(x.loc[train], volatility.loc[train])
    assert detector.feature_ == "inverse" and detector.sign_ == -1
    calls = detector.predict(x)
    assert calls.loc[train].mean() == pytest.approx(0.2, abs=0.02)
    assert volatility[calls].mean() > volatility[~calls].mean()
    changed = x.copy()
    changed.iloc[500:] = 0
    smoothed = StressDetector(smoothing=5).fit(x.loc[train], volatility.loc[train])
    pd.testing.assert_series_equal(smoothed.predict(x).iloc[:500], smoothed.predict(changed).iloc[:500])


def test_paired_score_difference_is_zero_for_a_call_against_itself_and_positive_for_a_better_one():
    returns, regimes = two_regime_returns(1)
    episodes = regimes == 1
    noisy = episodes.copy()
    noisy.iloc[::7] = ~noisy.iloc[::7]
    same = paired_score_difference(noisy, noisy, episodes, block=21, n_boot=200)
    assert same["estimate"] == 0 and same["low"] == 0 and same["high"] == 0
    better = paired_score_difference(episodes, noisy, episodes, block=21, n_boot=200)
    assert better["low"] > 0 and better["estimate"] == pytest.approx(1 - balanced_accuracy(noisy, episodes))
    with pytest.raises(ValueError, match="cover 100 of"):
        paired_score_difference(episodes.iloc[:100], noisy, episodes)


def test_paired_score_difference_takes_any_score_of_two_labellings():
    from sklearn.metrics import adjusted_rand_score

    returns, regimes = two_regime_returns(2)
    noisy = regimes.copy()
    noisy.iloc[::5] = 1 - noisy.iloc[::5]
    gap = paired_score_difference(regimes, noisy, regimes, score=lambda call, truth: adjusted_rand_score(truth, call),
                                  block=21, n_boot=200)
    assert gap["low"] > 0
    assert gap["estimate"] == pytest.approx(1 - adjusted_rand_score(regimes, noisy))
