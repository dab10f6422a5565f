"""The cached stages: what they return, that the cache serves the same result, and that
the dense stage leaks nothing from after a day into that day's embedding."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.analysis.factors import implied_covariance
from helpers.data import CrossSectionSpec, MarketSpec, WindowSpec
from helpers.experiments.embeddings import DenseStageConfig, StockStageConfig
from helpers.experiments.sparse import SparseStageConfig
from helpers.experiments.vae import VAEStageConfig
from helpers.stages import dense_stage, sparse_stage, stock_stage, vae_stage
from helpers.train import TrainConfig

TINY = WindowSpec(market=MarketSpec(source="synthetic", synthetic_assets=6, synthetic_days=300), window=5)
QUICK = TrainConfig(epochs=3, progress=False)


def tiny_dense(windows=TINY):
    return DenseStageConfig(windows=windows, latent_size=3, hidden_sizes=(8,), train=QUICK)


def test_dense_stage_embeds_every_window_and_is_cached():
    stage = dense_stage(tiny_dense())
    assert stage.embeddings.shape == (300 - 1 - 4, 3)
    assert list(stage.split.unique()) == ["train", "validation", "test"]
    assert set(stage.r2) == {"train", "validation", "test"}
    again = dense_stage(tiny_dense())
    pd.testing.assert_frame_equal(stage.embeddings, again.embeddings)
    _, _, windows = TINY.build()
    inputs, _ = windows.all_inputs()
    with torch.no_grad():
        recomputed = stage.saved.load().encode(torch.as_tensor(inputs)).numpy()
    np.testing.assert_allclose(recomputed, stage.embeddings.to_numpy(), rtol=1e-5, atol=1e-6)


def test_dense_stage_has_no_look_ahead(monkeypatch):
    """Data after a test-period day change no embedding on or before it: training and
    early stopping see only training and validation windows."""
    original = dense_stage.func(tiny_dense())
    day = original.split.index[original.split == "test"][10]
    real_load = MarketSpec.load

    def shocked_load(self):
        market = real_load(self)
        later = market.prices.index > day
        prices = market.prices.copy()
        prices.loc[later] *= np.exp(np.random.default_rng(1).normal(0, 0.3, (later.sum(), prices.shape[1])))
        object.__setattr__(market, "prices", prices)
        return market

    monkeypatch.setattr(MarketSpec, "load", shocked_load)
    shocked = dense_stage.func(tiny_dense())
    before = original.embeddings.index <= day
    np.testing.assert_array_equal(original.embeddings[before].to_numpy(), shocked.embeddings[before].to_numpy())
    assert not np.allclose(original.embeddings[~before].to_numpy(), shocked.embeddings[~before].to_numpy())


def test_sparse_stage_over_the_dense_embeddings():
    config = SparseStageConfig(dense=tiny_dense(), n_features=12, k=2, aux_k=4, train=QUICK)
    stage = sparse_stage(config)
    assert stage.activations.shape == (295, 12)
    assert ((stage.activations > 0).sum(axis=1) <= 2).all()
    assert list(stage.metrics.columns) == ["fvu", "l0", "dead_fraction", "dense_fraction"]
    assert stage.saved.config.dead_after == int((stage.split == "train").sum())
    uncentred = sparse_stage(replace(config, center_inputs=False))
    assert not np.allclose(uncentred.activations.to_numpy(), stage.activations.to_numpy())


def test_stock_stage_embeds_every_stock():
    config = StockStageConfig(market=TINY, latent_size=2, hidden_sizes=(8,), validation_share=0.4, train=QUICK)
    stage = stock_stage(config)
    assert stage.embeddings.shape == (6, 2)
    assert list(stage.embeddings.index) == list(stage.features.index)


def test_vae_stage_plain_and_conditional():
    data = CrossSectionSpec(market=MarketSpec(source="synthetic", synthetic_assets=6, synthetic_days=300))
    plain = vae_stage(VAEStageConfig(data=data, latent_size=2, hidden_sizes=(8,), train=QUICK))
    assert plain.means.shape == (299, 2) and plain.conditions is None
    assert plain.recon_error.shape == (299, 6) and (plain.kl.to_numpy() >= 0).all()
    conditional_config = VAEStageConfig(data=data, latent_size=2, hidden_sizes=(8,), condition="true_regime",
                                        train=QUICK)
    conditional = vae_stage(conditional_config)
    assert list(conditional.conditions.columns) == ["calm", "stress"]
    covariance = implied_covariance(conditional.saved.load(), conditional.scale, np.full(6, 1e-4),
                                    n_samples=2000, condition=np.array([0.0, 1.0], dtype=np.float32))
    assert covariance.shape == (6, 6) and np.linalg.eigvalsh(covariance).min() >= 1e-4 * 0.99
    with pytest.raises(ValueError, match="condition='weather'"):
        vae_stage.func(VAEStageConfig(data=data, condition="weather", train=QUICK))
    with pytest.raises(ValueError, match="needs the synthetic source"):
        vae_stage.func(VAEStageConfig(data=CrossSectionSpec(market=MarketSpec(source="bundled", start="2020-01-01")),
                                      condition="true_regime", train=QUICK))
