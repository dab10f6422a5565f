from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.train import TrainConfig, fit, pick_device

QUICK = TrainConfig(epochs=40, batch_size=64, learning_rate=3e-3, patience=40, progress=False)


@pytest.fixture(scope="module")
def low_rank_data():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, 24))
    data = (rng.normal(size=(600, 3)) @ mixing + 0.1 * rng.normal(size=(600, 24))).astype(np.float32)
    return data[:450], data[450:]


def new_model(seed=0):
    torch.manual_seed(seed)
    return DenseAutoencoder(DenseAEConfig(n_inputs=24, latent_size=3, hidden_sizes=(32,)))


def test_loss_falls_and_history_records_named_terms(low_rank_data):
    train, validation = low_rank_data
    history = fit(new_model(), train, validation, QUICK)
    frame = history.epochs
    assert list(frame.columns) == ["seconds", "train_loss", "train_recon", "validation_loss", "validation_recon"]
    assert history.best_validation_loss < 0.3 * frame["validation_loss"].iloc[0]
    assert frame["seconds"].is_monotonic_increasing
    assert history.terms == ["loss", "recon"]
    assert history.device == "cpu"


def test_same_seed_same_result(low_rank_data):
    train, validation = low_rank_data
    runs = []
    for _ in range(2):
        model = new_model(seed=1)
        history = fit(model, train, validation, TrainConfig(epochs=5, progress=False, seed=4))
        runs.append((history.epochs.drop(columns="seconds"), model.state_dict()))
    assert runs[0][0].equals(runs[1][0])
    for name, tensor in runs[0][1].items():
        assert torch.equal(tensor, runs[1][1][name]), name


def test_early_stopping_restores_the_best_weights(low_rank_data):
    train, validation = low_rank_data
    model = new_model()
    config = TrainConfig(epochs=300, batch_size=16, learning_rate=0.03, patience=3, progress=False)
    history = fit(model, train, validation, config)
    assert history.stopped_early and len(history.epochs) == history.best_epoch + 3
    with torch.no_grad():
        restored = model(torch.as_tensor(validation)).loss.item()
    assert restored == pytest.approx(history.best_validation_loss, rel=1e-5)


def test_diverging_training_is_a_clear_error(low_rank_data):
    train, validation = low_rank_data
    broken = train * 1e30  # finite inputs whose squared error overflows float32
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(new_model(), broken, validation, QUICK)


def test_inputs_of_different_lengths_are_rejected(low_rank_data):
    train, validation = low_rank_data
    with pytest.raises(ValueError, match="one length"):
        fit(new_model(), (train, train[:-1]), validation, QUICK)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"epochs": 0}, "epochs=0"), ({"batch_size": 2.5}, "batch_size=2.5"), ({"learning_rate": 0}, "learning_rate=0")],
)
def test_bad_training_configuration(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device='tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")


def test_tqdm_disable_silences_the_progress_bar(low_rank_data, monkeypatch, capsys):
    train, validation = low_rank_data
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fit(new_model(), train, validation, TrainConfig(epochs=2, progress=True))
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TQDM_DISABLE", "")
    fit(new_model(), train, validation, TrainConfig(epochs=2, progress=True))
    assert "training" in capsys.readouterr().err
