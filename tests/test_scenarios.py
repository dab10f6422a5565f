"""Scenario and portfolio helpers on tiny data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.analysis.covariance import minimum_variance_weights
from helpers.analysis.scenarios import (
    augment_around,
    correlation_distance,
    day_anomaly_score,
    expected_shortfall,
    generate,
    interpolate,
    pca_generate,
    tail_risk_intervals,
    value_at_risk,
)
from helpers.models.vae import VAE, VAEConfig


def test_minimum_variance_weights_of_a_diagonal_covariance_are_inverse_variance():
    weights = minimum_variance_weights(np.diag([1.0, 4.0]))
    np.testing.assert_allclose(weights, [0.8, 0.2])
    assert weights.sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="square"):
        minimum_variance_weights(np.ones((2, 3)))


def test_value_at_risk_and_expected_shortfall():
    returns = -np.arange(1, 101) / 100  # losses 0.01 .. 1.00
    assert value_at_risk(returns, 0.99) == pytest.approx(0.9901)
    assert expected_shortfall(returns, 0.99) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="level=0.3"):
        value_at_risk(returns, 0.3)


def test_interpolation_includes_both_ends():
    path = interpolate(np.zeros(2), np.ones(2), 5)
    np.testing.assert_allclose(path[[0, 2, 4]], [[0, 0], [0.5, 0.5], [1, 1]])
    with pytest.raises(ValueError, match="steps=1"):
        interpolate(np.zeros(2), np.ones(2), 1)


def test_correlation_distance_is_zero_for_the_same_data():
    data = np.random.default_rng(0).normal(size=(100, 3))
    assert correlation_distance(data, data) == 0
    assert correlation_distance(data, data * 2 + 1) == pytest.approx(0)


def test_generation_and_augmentation_are_seeded_and_de_standardized():
    torch.manual_seed(0)
    model = VAE(VAEConfig(n_inputs=3, latent_size=2, hidden_sizes=(4,))).eval()
    scale, center = np.array([1.0, 2.0, 3.0]), np.array([0.0, 10.0, 0.0])
    first = generate(model, 50, scale, center, seed=3)
    np.testing.assert_array_equal(first, generate(model, 50, scale, center, seed=3))
    assert first.shape == (50, 3) and abs(first[:, 1].mean() - 10) < 5
    augmented = augment_around(model, np.zeros((4, 3)), per_day=6, scale=scale, center=center, seed=1)
    assert augmented.shape == (24, 3)


def test_day_anomaly_score_adds_weighted_kl():
    days = pd.bdate_range("2021-01-01", periods=2)
    recon = pd.DataFrame([[1.0, 2.0], [0.0, 0.0]], index=days)
    kl = pd.DataFrame([[0.5], [1.0]], index=days)
    assert day_anomaly_score(recon, kl, kl_weight=2.0).tolist() == [4.0, 2.0]


def test_tail_risk_intervals_hold_the_estimates_and_pair_the_differences():
    rng = np.random.default_rng(0)
    history = rng.standard_t(4, size=300) / 100
    around = history[:, None] + rng.normal(0, 0.001, size=(300, 20))  # draws near each day
    milder = 0.5 * around
    table = tail_risk_intervals({"history": history, "around": around, "milder": milder}, level=0.95, n_boot=300)
    assert table.loc["history", "ES"] == pytest.approx(expected_shortfall(history, 0.95))
    assert table.loc["history", "VaR"] == pytest.approx(value_at_risk(history, 0.95))
    for name in table.index:
        assert table.loc[name, "ES low"] <= table.loc[name, "ES"] <= table.loc[name, "ES high"]
    assert table.loc["history", ["ES difference", "difference low", "difference high"]].isna().all()
    assert table.loc["milder", "difference high"] < 0  # half the losses on every resample: a paired interval
    assert table.loc["around", "difference low"] < 0 < table.loc["around", "difference high"]
    assert table.loc["milder", "ES low"] < table.loc["history", "ES high"]  # unpaired, the intervals overlap
    with pytest.raises(ValueError, match="same two or more days"):
        tail_risk_intervals({"history": history, "shorter": history[:100]})


def test_pca_generate_draws_the_probabilistic_pca_covariance_de_standardized():
    rng = np.random.default_rng(1)
    loadings = rng.normal(size=(2, 6))
    train = rng.normal(size=(3000, 2)) @ loadings + rng.normal(0, 0.3, size=(3000, 6))
    scale, center = np.full(6, 0.02), np.full(6, 0.001)
    draws = pca_generate(train, 2, 20000, scale, center, seed=0)
    assert draws.shape == (20000, 6)
    target = np.cov(train.T) * 0.02**2
    np.testing.assert_allclose(np.cov(draws.T), target, atol=0.05 * np.abs(target).max())
    np.testing.assert_allclose(draws.mean(axis=0), center, atol=1e-3)
    np.testing.assert_array_equal(draws, pca_generate(train, 2, 20000, scale, center, seed=0))
