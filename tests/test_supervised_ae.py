"""The supervised autoencoder, its signals and the purged splitter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from helpers.analysis.signals import (
    SINGLE_FEATURES,
    PurgedTimeSeriesSplit,
    asset_features,
    choose_checkpoints,
    daily_rank_ic,
    forward_returns,
    hit_rate,
    ic_differences,
    ic_table,
    quantile_spread,
    single_feature_signals,
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


def test_the_purged_split_is_a_scikit_learn_cross_validator():
    features = panel(n_days=100)
    target = features[0] + 0.1 * np.random.default_rng(1).normal(size=len(features))
    splitter = PurgedTimeSeriesSplit(n_splits=3, gap=7)
    scores = cross_val_score(Ridge(), features, target, cv=splitter)
    assert len(scores) == splitter.get_n_splits() == 3 and (scores > 0.5).all()
    dates = features.index.get_level_values("date")
    by_index = [validation for _, validation in splitter.split(features)]
    by_groups = [validation for _, validation in splitter.split(features.to_numpy(), groups=dates)]
    for first, second in zip(by_index, by_groups, strict=True):
        np.testing.assert_array_equal(first, second)
    with pytest.raises(ValueError, match="groups="):
        next(splitter.split(features.to_numpy()))


def persistent_ics(n_days: int = 750, persistence: float = 0.9, seed: int = 3) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = np.zeros(n_days)
    for day in range(1, n_days):
        values[day] = persistence * values[day - 1] + rng.normal(0, 0.05)
    return pd.Series(values + 0.01, index=pd.bdate_range("2020-01-01", periods=n_days))


def test_the_ic_interval_widens_with_persistence_as_the_data_choose_the_block():
    ics = persistent_ics()
    shuffled = pd.Series(np.random.default_rng(0).permutation(ics.to_numpy()), index=ics.index)
    persistent = ic_table(ics.to_frame("signal"), n_boot=400).iloc[0]
    independent = ic_table(shuffled.to_frame("signal"), n_boot=400).iloc[0]
    assert persistent["mean IC"] == pytest.approx(independent["mean IC"])
    # The same values in their persistent order: an interval at least twice as wide.
    assert persistent["IC high"] - persistent["IC low"] > 2 * (independent["IC high"] - independent["IC low"])


def test_ic_differences_are_paired_by_day():
    ics = persistent_ics()
    frame = pd.DataFrame({"a": ics, "b": ics + 0.002})  # b beats a by the same small amount every day
    difference = ic_differences(frame, "a", n_boot=200).loc["b"]
    assert difference["estimate"] == pytest.approx(0.002) and difference["low"] > 0
    alone = ic_table(frame, n_boot=200).loc["b"]
    # Paired, the common day-to-day noise cancels: the difference is sure, each mean alone is not.
    assert difference["high"] - difference["low"] < 1e-9 < 0.01 < alone["IC high"] - alone["IC low"]


def test_single_feature_signals_take_the_literatures_directions():
    prices = pd.DataFrame(np.exp(np.cumsum(np.random.default_rng(4).normal(0, 0.01, (120, 4)), axis=0)),
                          index=pd.bdate_range("2021-01-01", periods=120), columns=list("ABCD"))
    features = asset_features(prices)
    signals = single_feature_signals(features)
    assert set(signals) == set(SINGLE_FEATURES)
    reversal = signals["reversal (minus 5-day return)"]
    np.testing.assert_allclose(reversal.to_numpy(), -features["return 5d"].unstack().to_numpy())
    with pytest.raises(ValueError, match="volatility 21d"):
        single_feature_signals(features.drop(columns="volatility 21d"))


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
