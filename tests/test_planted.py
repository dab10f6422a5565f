"""Chapter 3's planted-truth study over many markets: the sparse ensemble trains each member
as it would be trained alone, the vectorized choice of a family's member is the book's
choice, and the study grades every market on every target."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.analysis.interpret import chosen_components, pca_fvu
from helpers.data import MarketSpec, WindowSpec
from helpers.experiments.embeddings import DenseStageConfig
from helpers.experiments.planted import (
    SPARSE,
    STRESS,
    VIX_LIKE,
    PlantedStudyConfig,
    chosen_members,
    graded,
    minus_sparse,
    over_markets,
)
from helpers.experiments.sparse import SparseSeedsConfig, SparseStageConfig, split_rows
from helpers.models.sparse_ae import SparseAEConfig, SparseAutoencoder
from helpers.models.sparse_ensemble import SparseEnsemble
from helpers.stages import dense_stage, planted_stage
from helpers.train import TrainConfig, fit
from helpers.validate import InputError

CONFIG = SparseAEConfig(n_inputs=6, n_features=24, k=3, aux_k=8, dead_after=100)


def sparse_data(seed: int) -> np.ndarray:
    generator = torch.Generator().manual_seed(seed)
    atoms = torch.randn(6, 12, generator=generator)
    codes = torch.relu(torch.randn(400, 12, generator=generator)) * (torch.rand(400, 12, generator=generator) < 0.2)
    return (codes @ atoms.T).numpy()


def new_member(seed: int, data: np.ndarray) -> SparseAutoencoder:
    torch.manual_seed(seed)
    model = SparseAutoencoder(CONFIG)
    model.init_pre_bias(torch.as_tensor(data[:300]))
    return model


def test_each_member_of_a_sparse_ensemble_trains_as_it_would_alone():
    data = [sparse_data(1), 1.5 * sparse_data(2)]
    config = TrainConfig(epochs=40, batch_size=32, learning_rate=3e-3, patience=5, progress=False)
    alone = [new_member(seed, values) for seed, values in enumerate(data)]
    histories = [fit(model, values[:300], values[300:], config) for model, values in zip(alone, data, strict=True)]
    ensemble = SparseEnsemble([new_member(seed, values) for seed, values in enumerate(data)])
    history = fit(ensemble, np.stack([values[:300] for values in data], axis=1),
                  np.stack([values[300:] for values in data], axis=1), config)
    assert history.member_best_epochs == tuple(h.best_epoch for h in histories)
    assert history.epochs["train_aux"].max() > 0, "the auxiliary loss of dead features took part"
    for number, model in enumerate(alone):
        member = ensemble.member(number)
        for name, tensor in model.state_dict().items():
            torch.testing.assert_close(member.state_dict()[name], tensor, rtol=0, atol=1e-5)
        torch.testing.assert_close(member.decoder.norm(dim=0), torch.ones(24))


def test_a_sparse_ensemble_refuses_mixed_members_and_wrong_inputs():
    with pytest.raises(InputError, match="at least one member"):
        SparseEnsemble([])
    torch.manual_seed(0)
    with pytest.raises(InputError, match="share one config"):
        SparseEnsemble([SparseAutoencoder(CONFIG), SparseAutoencoder(replace(CONFIG, k=4))])
    ensemble = SparseEnsemble([SparseAutoencoder(CONFIG), SparseAutoencoder(CONFIG)])
    with pytest.raises(InputError, match="members=2"):
        ensemble(torch.randn(5, 3, 6))


def test_the_chosen_member_is_the_books_choice():
    rng = np.random.default_rng(0)
    index = pd.RangeIndex(300)
    target = pd.Series(rng.random(300) < 0.2, index=index, name="event")
    families = {
        "many": pd.DataFrame(rng.normal(size=(300, 40)), index=index).add_prefix("f"),
        "signed": pd.DataFrame({"minus": -target.astype(float) + rng.normal(size=300)}, index=index),
        "constant": pd.DataFrame({"zero": np.zeros(300), "noise": rng.normal(size=300)}, index=index),
    }
    fit_rows = np.arange(300) < 200
    chosen, names = chosen_members(families, target, fit_rows)
    expected, expected_names = chosen_components(families, target.astype(int), fit_rows)
    pd.testing.assert_series_equal(names, expected_names)
    pd.testing.assert_frame_equal(chosen, expected, check_names=False)
    assert chosen.loc[target, "signed"].mean() > chosen.loc[~target, "signed"].mean(), "signed to point at it"


def test_a_target_of_one_kind_is_not_graded():
    index = pd.RangeIndex(10)
    families = {"one": pd.DataFrame({"a": np.arange(10.0)}, index=index)}
    rows = {"train": np.arange(10) < 5, "test": np.arange(10) >= 5}
    target = pd.Series([True, False] * 2 + [False] * 6, index=index, name="event")
    assert graded(families, target, rows) is None


def test_differences_and_intervals_over_markets():
    aurocs = pd.DataFrame({("burst", SPARSE): [0.5, 0.6, 0.7], ("burst", "PCA component"): [0.7, 0.7, 0.8],
                           ("shock", SPARSE): [0.5, np.nan, np.nan], ("shock", "PCA component"): [0.4, np.nan, 0.5]},
                          index=pd.Index([0, 1, 2], name="market seed"))
    gaps = minus_sparse(aurocs)
    assert list(gaps.columns) == [("burst", "PCA component"), ("shock", "PCA component")]
    np.testing.assert_allclose(gaps[("burst", "PCA component")], [0.2, 0.1, 0.1])
    table = over_markets(gaps)
    assert table.loc[("burst", "PCA component"), "markets"] == 3
    assert table.loc[("burst", "PCA component"), "low"] < 0.4 / 3 < table.loc[("burst", "PCA component"), "high"]
    assert table.loc[("shock", "PCA component"), "markets"] == 1
    assert table.loc[("shock", "PCA component"), ["estimate", "low", "high"]].isna().all()


def tiny_config(**changes) -> PlantedStudyConfig:
    windows = WindowSpec(market=MarketSpec(source="synthetic", synthetic_assets=8, synthetic_days=400,
                                           synthetic_variant="event_rich", seed=3), window=5)
    dense = DenseStageConfig(windows=windows, latent_size=4, hidden_sizes=(16,),
                             train=TrainConfig(epochs=3, seed=3, progress=False))
    sparse = SparseStageConfig(dense=dense, n_features=12, k=2, aux_k=4,
                               train=TrainConfig(epochs=3, seed=3, progress=False))
    return PlantedStudyConfig(**({"sparse": sparse, "market_seeds": (3, 4), "smoothing": 5} | changes))


def test_the_first_market_is_the_chapters_and_the_others_differ_in_their_seeds():
    config = tiny_config()
    first, second = config.market_configs()
    assert first == config.sparse
    assert second.dense.windows.market.seed == second.dense.train.seed == second.train.seed == 4
    assert replace(second, dense=first.dense, train=first.train) == first


@pytest.mark.parametrize(("changes", "message"), [
    ({"market_seeds": ()}, "distinct seeds"),
    ({"market_seeds": (1, 1)}, "distinct seeds"),
    ({"market_seeds": (-1,)}, "market_seeds"),
    ({"smoothing": 0}, "smoothing"),
])
def test_bad_study_configs(changes, message):
    with pytest.raises(InputError, match=message):
        tiny_config(**changes)


def test_a_study_needs_the_planted_truth():
    config = tiny_config()
    windows = replace(config.sparse.dense.windows, market=MarketSpec(source="bundled"))
    sparse = replace(config.sparse, dense=replace(config.sparse.dense, windows=windows))
    with pytest.raises(InputError, match="synthetic"):
        PlantedStudyConfig(sparse=sparse, market_seeds=(0, 1))


def test_the_study_grades_every_market_on_every_target():
    study = planted_stage(tiny_config())
    assert list(study.aurocs.index) == [3, 4]
    targets = study.aurocs.columns.get_level_values(0).unique()
    assert STRESS in targets and len(targets) >= 2
    assert set(study.aurocs[STRESS].columns) == {"sparse feature", "PCA component", "ICA component",
                                                 "window volatility", VIX_LIKE}
    graded_values = study.aurocs.to_numpy(dtype=float)
    assert np.nanmin(graded_values) >= 0 and np.nanmax(graded_values) <= 1
    assert study.first_sparse.config == tiny_config().sparse
    assert list(study.reconstruction.index) == [3, 4]
    first_market = split_rows(dense_stage(tiny_config().sparse.dense))
    embeddings = dense_stage(tiny_config().sparse.dense).embeddings.to_numpy()
    assert study.reconstruction.loc[3, "PCA FVU"] == pytest.approx(
        pca_fvu(embeddings[first_market["train"]], embeddings[first_market["test"]], tiny_config().sparse.k))
    assert study.reconstruction.loc[3, "sparse FVU"] == study.first_sparse.metrics.loc["test", "fvu"]


def test_pca_fvu_is_zero_with_every_component_and_one_with_a_subspace_the_data_leave():
    rng = np.random.default_rng(0)
    train = rng.standard_normal((200, 4)) * [3.0, 2.0, 1.0, 0.5]
    test = rng.standard_normal((100, 4)) * [3.0, 2.0, 1.0, 0.5]
    assert pca_fvu(train, test, 4) == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < pca_fvu(train, test, 2) < pca_fvu(train, test, 1) < 1.0
    assert pca_fvu(train, np.column_stack([test[:, :2] * 0, test[:, 2:]]), 2) == pytest.approx(1.0, abs=0.05)


def test_the_seed_runs_are_every_seed_with_the_inputs_centred_and_not():
    base = SparseStageConfig()
    runs = SparseSeedsConfig(sparse=base, seeds=(3, 4)).configs()
    assert [(run.train.seed, run.center_inputs) for run in runs] == [(3, True), (3, False), (4, True), (4, False)]
    assert all(replace(run, center_inputs=True, train=base.train) == base for run in runs), "only the seed varies"
