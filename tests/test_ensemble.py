"""An ensemble trains each member as if it were trained alone, and does so deterministically."""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.models.ensemble import Ensemble
from helpers.models.sparse_ae import SparseAEConfig, SparseAutoencoder
from helpers.models.vae import VAE, VAEConfig
from helpers.train import TrainConfig, fit
from helpers.validate import InputError

CONFIG = TrainConfig(epochs=80, batch_size=32, learning_rate=3e-3, patience=4, progress=False)


def member_data(number: int, rows: int = 160, width: int = 12) -> np.ndarray:
    """Low-rank data with member-specific noise, so members stop at different epochs."""
    rng = np.random.default_rng(number)
    signal = rng.standard_normal((rows, 2)) @ rng.standard_normal((2, width))
    return (signal + (0.2 + 0.4 * number) * rng.standard_normal((rows, width))).astype(np.float32)


def fresh_members(count: int) -> list[DenseAutoencoder]:
    members = []
    for number in range(count):
        torch.manual_seed(number)
        members.append(DenseAutoencoder(DenseAEConfig(n_inputs=12, latent_size=3, hidden_sizes=(16,))))
    return members


def test_each_member_trains_and_stops_as_if_alone():
    data = [member_data(number) for number in range(3)]
    alone, best_epochs = [], []
    for member, values in zip(fresh_members(3), data, strict=True):
        history = fit(member, values[:120], values[120:], CONFIG)
        alone.append(member)
        best_epochs.append(history.best_epoch)
    ensemble = Ensemble(fresh_members(3))
    stacked = np.stack(data, axis=1)  # (rows, members, width)
    history = fit(ensemble, stacked[:120], stacked[120:], CONFIG)
    assert list(history.member_best_epochs) == best_epochs
    stops = [min(epoch + CONFIG.patience, len(history.epochs)) for epoch in best_epochs]
    still_training = [sum(stop >= epoch for stop in stops) for epoch in history.epochs.index]
    assert history.epochs["members"].tolist() == still_training, "a stopped member leaves the ensemble"
    assert ensemble.n_members == 3 and all(len(weights) == 3 for weights in ensemble.stacked)
    assert len(set(best_epochs)) > 1, "the members must stop at different epochs for this test to mean something"
    for number, member in enumerate(alone):
        trained = ensemble.member(number)
        for name, weights in member.state_dict().items():
            np.testing.assert_allclose(trained.state_dict()[name].numpy(), weights.numpy(), atol=1e-5, err_msg=name)


def test_a_vae_ensemble_gives_the_same_numbers_twice():
    def train() -> dict[str, torch.Tensor]:
        members = []
        for number in range(2):
            torch.manual_seed(number)
            members.append(VAE(VAEConfig(n_inputs=12, latent_size=2, hidden_sizes=(8,))))
        ensemble = Ensemble(members)
        stacked = np.stack([member_data(number) for number in range(2)], axis=1)
        fit(ensemble, stacked[:120], stacked[120:], CONFIG)
        return copy.deepcopy(ensemble.state_dict())

    first, second = train(), train()
    for name, weights in first.items():
        assert torch.equal(weights, second[name]), name


def test_ensemble_refuses_what_it_cannot_train():
    dense = fresh_members(1)[0]
    vae = VAE(VAEConfig(n_inputs=12, latent_size=2, hidden_sizes=(8,)))
    with pytest.raises(ValueError, match="one architecture"):
        Ensemble([dense, vae])
    with pytest.raises(ValueError, match="at least one member"):
        Ensemble([])
    sparse = SparseAutoencoder(SparseAEConfig(n_inputs=12, n_features=24, k=3))
    with pytest.raises(ValueError, match="after_step"):
        Ensemble([sparse])
    with pytest.raises(ValueError, match="members=2"):
        Ensemble(fresh_members(2))(torch.zeros(5, 3, 12))


def test_an_ensemble_refuses_checkpoints_it_could_not_keep_whole():
    stacked = np.stack([member_data(number) for number in range(2)], axis=1)
    with pytest.raises(InputError, match="checkpoint_every=0"):
        fit(Ensemble(fresh_members(2)), stacked[:120], stacked[120:], replace(CONFIG, checkpoint_every=2))
