"""The supervised autoencoder, its signals and the purged splitter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.analysis.signals import (
    PurgedTimeSeriesSplit,
    asset_features,
    choose_checkpoints,
    daily_rank_ic,
    forward_returns,
    hit_rate,
    quantile_spread,
)
from helpers.models.mlp import MLPConfig, MLPRegressor
from helpers.models.supervised_ae import SupervisedAEConfig, SupervisedAutoencoder, predict
from helpers.train import TrainConfig, fit


def test_shapes_and_the_loss_is_the_documented_weighted_sum():
    torch.manual_seed(0)
    model = SupervisedAutoencoder(SupervisedAEConfig(n_inputs=6, latent_size=3, alpha=2.0, aux_weight=0.25))
    x, y = torch.randn(16, 6), torch.randn(16)
    output = model(x, y)
    assert output.prediction.shape == (16,) and output.embedding.shape == (16, 3)
    assert output.reconstruction.shape == (16, 6) and output.auxiliary.shape == (16,)
    terms = output.losses
    assert output.loss.item() == pytest.approx((terms["recon"] + 2.0 * terms["main"] + 0.25 * terms["aux"]).item())
    model.eval()
    clean = model.normalize(x)
    assert terms["main"].item() > 0 and torch.allclose(
        model(x, y).losses["recon"], ((model.decoder(model.encoder(clean)) - clean) ** 2).mean())


def test_without_decoder_the_loss_is_the_main_term_only():
    model = SupervisedAutoencoder(SupervisedAEConfig(n_inputs=4, use_decoder=False, alpha=3.0))
    output = model(torch.randn(8, 4), torch.randn(8))
    assert output.reconstruction is None and not hasattr(model, "decoder")
    assert output.loss.item() == pytest.approx(3.0 * output.losses["main"].item())
    with pytest.raises(ValueError, match="noise_std=-1"):
        SupervisedAEConfig(n_inputs=4, noise_std=-1)


def test_training_keeps_the_checkpoints_it_was_asked_for():
    x, y = np.random.default_rng(0).normal(size=(64, 4)), np.random.default_rng(1).normal(size=64)
    config = TrainConfig(epochs=6, patience=6, checkpoint_every=4, checkpoint_epochs=(1,), progress=False)
    history = fit(MLPRegressor(MLPConfig(n_inputs=4, hidden_sizes=(8,))), (x, y), (x, y), config)
    assert sorted(history.checkpoints) == [1, 4]
    with pytest.raises(ValueError, match="checkpoint_epochs"):
        TrainConfig(epochs=3, checkpoint_epochs=(5,))


def test_checkpoint_selection_picks_the_best_mean_validation_ic():
    columns = pd.MultiIndex.from_tuples([("a", 0), ("a", 1), ("b", 0), ("b", 1)])
    ic = pd.DataFrame([[0.01, 0.03, 0.05, -0.05], [0.03, 0.02, 0.01, 0.02]], index=[2, 4], columns=columns)
    assert choose_checkpoints(ic) == {"a": 4, "b": 4}
    ic.loc[2, ("b", 1)] = 0.0
    assert choose_checkpoints(ic)["b"] == 2


def panel(n_days=40, assets=("A", "B", "C")):
    days = pd.bdate_range("2022-01-03", periods=n_days)
    index = pd.MultiIndex.from_product([days, assets], names=["date", "asset"])
    return pd.DataFrame(np.random.default_rng(0).normal(size=(len(index), 4)), index=index)


def test_predictions_for_a_date_use_only_that_dates_features():
    torch.manual_seed(0)
    model = SupervisedAutoencoder(SupervisedAEConfig(n_inputs=4, latent_size=2))
    features = panel()
    first = predict(model, features, checkpoint=7)
    changed = features.copy()
    changed.loc[changed.index.get_level_values("date") != features.index[0][0]] *= 10
    second = predict(model, changed, checkpoint=7)
    pd.testing.assert_series_equal(first.values.iloc[0], second.values.iloc[0])
    assert first.checkpoint == 7 and first.values.shape == (40, 3)


def test_purged_split_leaves_the_gap_and_never_overlaps():
    dates = panel(n_days=100).index.get_level_values("date")
    unique = dates.unique()
    for train, validation in PurgedTimeSeriesSplit(n_splits=3, gap=7).split(dates):
        train_dates, validation_dates = dates[train].unique(), dates[validation].unique()
        assert train_dates.max() < validation_dates.min()
        between = unique.get_loc(validation_dates.min()) - unique.get_loc(train_dates.max()) - 1
        assert between == 7
    with pytest.raises(ValueError, match="gap=60"):
        list(PurgedTimeSeriesSplit(n_splits=3, gap=60).split(dates))


def test_a_folds_model_does_not_depend_on_later_data():
    """Fitting inside the fold: changing every feature and target after the fold's
    training dates leaves the trained network unchanged."""
    features = panel(n_days=60)
    target = pd.Series(np.random.default_rng(2).normal(size=len(features)), index=features.index)
    dates = features.index.get_level_values("date")
    train, _ = next(PurgedTimeSeriesSplit(n_splits=2, gap=5).split(dates))
    config = TrainConfig(epochs=3, patience=3, progress=False, batch_size=16)

    def trained(f, t):
        torch.manual_seed(0)
        model = SupervisedAutoencoder(SupervisedAEConfig(n_inputs=4, latent_size=2))
        x, y = f.to_numpy(np.float32)[train], t.to_numpy(np.float32)[train]
        fit(model, (x, y), (x[:8], y[:8]), config)
        return model.state_dict()

    later = dates > dates[train].max()
    altered_features, altered_target = features.copy(), target.copy()
    altered_features[later] += 5.0
    altered_target[later] *= -1
    first, second = trained(features, target), trained(altered_features, altered_target)
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_features_use_only_past_prices_and_targets_look_ahead():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2020-01-01", periods=120)
    prices = pd.DataFrame(100 * np.exp(rng.normal(0, 0.01, (120, 3)).cumsum(axis=0)), index=days, columns=list("XYZ"))
    features = asset_features(prices)
    changed = prices.copy()
    changed.iloc[100:] *= 1.5
    later = asset_features(changed)
    cut = days[99]
    pd.testing.assert_frame_equal(features.loc[:cut], later.loc[:cut])
    ahead = forward_returns(prices, 5)
    assert ahead.iloc[-5:].isna().all().all()
    assert ahead.iloc[0, 0] == pytest.approx(np.log(prices.iloc[5, 0] / prices.iloc[0, 0]))


def test_signal_metrics_on_a_perfect_and_a_reversed_signal():
    rng = np.random.default_rng(4)
    realized = pd.DataFrame(rng.normal(size=(30, 10)))
    assert daily_rank_ic(realized, realized).eq(1).all()
    assert daily_rank_ic(-realized, realized).eq(-1).all()
    assert hit_rate(realized, realized) == 1.0
    assert quantile_spread(realized, realized) > 0 > quantile_spread(-realized, realized)
