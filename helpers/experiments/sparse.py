"""Chapter 3's pipeline: a TopK sparse autoencoder over a dense stage's window embeddings."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from helpers.analysis.interpret import sparse_metrics
from helpers.data import SPLITS
from helpers.experiments.embeddings import DenseStage, DenseStageConfig
from helpers.experiments.saved import SavedModel
from helpers.models.sparse_ae import SparseAEConfig, SparseAutoencoder
from helpers.models.sparse_ensemble import SparseEnsemble
from helpers.train import History, TrainConfig, adjusted, fit


@dataclass(frozen=True, kw_only=True)
class SparseStageConfig:
    dense: DenseStageConfig = DenseStageConfig()
    n_features: int = 128
    k: int = 8
    aux_k: int = 16
    aux_coefficient: float = 1 / 32
    dead_after_epochs: float = 1.0  # a feature is dead after this many epochs of samples without firing
    center_inputs: bool = True  # b_pre starts at the training mean; False starts it at zero
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=500, batch_size=256, learning_rate=4e-3, patience=30, description="sparse autoencoder"
        )
    )


@dataclass(frozen=True)
class SparseStage:
    """A trained TopK sparse autoencoder over a dense stage's embeddings."""
    config: SparseStageConfig
    saved: SavedModel
    history: History
    activations: pd.DataFrame  # end date x feature
    split: pd.Series
    metrics: pd.DataFrame  # split x (fvu, l0, dead_fraction, dense_fraction)


@dataclass(frozen=True, kw_only=True)
class SparseSeedsConfig:
    """The sparse stage `sparse` retrained with each of `seeds`, its inputs centred and not:
    the spread a reader should expect from the network's seed alone."""
    sparse: SparseStageConfig
    seeds: tuple[int, ...]

    def configs(self) -> list[SparseStageConfig]:
        """Each run's config, seed by seed, centred before uncentred."""
        return [replace(self.sparse, center_inputs=centred, train=adjusted(self.sparse.train, seed=seed))
                for seed in self.seeds for centred in (True, False)]


def split_rows(dense: DenseStage) -> dict[str, np.ndarray]:
    """Each split's rows of the dense stage's embeddings, as boolean masks."""
    return {name: (dense.split == name).to_numpy() for name in SPLITS}


def sparse_model(config: SparseStageConfig, dense: DenseStage) -> SparseAutoencoder:
    """The untrained sparse autoencoder `config` describes over `dense`'s embeddings, from its
    own seed, its pre-encoder bias at the training mean where the config centres the inputs."""
    embeddings, train_rows = dense.embeddings.to_numpy(dtype=np.float32), split_rows(dense)["train"]
    model_config = SparseAEConfig(
        n_inputs=embeddings.shape[1],
        n_features=config.n_features,
        k=config.k,
        aux_k=config.aux_k,
        aux_coefficient=config.aux_coefficient,
        dead_after=max(1, int(config.dead_after_epochs * train_rows.sum())),
    )
    torch.manual_seed(config.train.seed)
    model = SparseAutoencoder(model_config)
    if config.center_inputs:
        model.init_pre_bias(torch.as_tensor(embeddings[train_rows]))
    return model


def sparse_result(config: SparseStageConfig, dense: DenseStage, model: SparseAutoencoder,
                  history: History) -> SparseStage:
    """A trained model's activations on every window and its metrics on each split."""
    embeddings, rows = dense.embeddings.to_numpy(dtype=np.float32), split_rows(dense)
    model.cpu().eval()
    with torch.no_grad():
        output = model(torch.from_numpy(embeddings.copy()))
    features, reconstruction = output.features.numpy(), output.reconstruction.numpy()
    metrics = pd.DataFrame(
        {name: sparse_metrics(embeddings[mask], reconstruction[mask], features[mask]) for name, mask in rows.items()}
    ).T.rename_axis("split")
    columns = [f"f{i:03d}" for i in range(config.n_features)]
    return SparseStage(
        config=config,
        saved=SavedModel.of(model),
        history=history,
        activations=pd.DataFrame(features, index=dense.embeddings.index, columns=columns),
        split=dense.split,
        metrics=metrics,
    )


def train_sparse(config: SparseStageConfig, dense: DenseStage) -> SparseStage:
    """Train on the training windows' embeddings of `dense`, the stage `config.dense` describes."""
    embeddings, rows = dense.embeddings.to_numpy(dtype=np.float32), split_rows(dense)
    model = sparse_model(config, dense)
    history = fit(model, embeddings[rows["train"]], embeddings[rows["validation"]], config.train)
    return sparse_result(config, dense, model, history)


def book_sparse_config(
    dense: DenseStageConfig,
    *,
    n_features: int = SparseStageConfig.n_features,
    k: int = SparseStageConfig.k,
    aux_k: int = SparseStageConfig.aux_k,
    epochs: int | None = None,
    center_inputs: bool = SparseStageConfig.center_inputs,
    seed: int = 0,
) -> SparseStageConfig:
    """The sparse stage as Chapters 3, 7 and 10 configure it, over a dense stage's embeddings:
    one function, so equal parameters give one cache entry. The auxiliary loss never asks for
    more features than the dictionary has."""
    train = adjusted(SparseStageConfig().train, epochs=epochs, seed=seed)
    return SparseStageConfig(dense=dense, n_features=n_features, k=k, aux_k=min(aux_k, n_features),
                             center_inputs=center_inputs, train=train)


def train_sparse_ensemble(configs: list[SparseStageConfig], denses: list[DenseStage],
                          description: str = "sparse autoencoders") -> list[SparseStage]:
    """Each config's sparse autoencoder over its dense stage (the configs alike but for their
    seeds), all trained at once as one `SparseEnsemble`: each member starts as `train_sparse`
    would start it, the first config's training settings drive the loop (its seed orders the
    mini-batches), and the stages share the ensemble's history."""
    ensemble = SparseEnsemble([sparse_model(config, dense) for config, dense in zip(configs, denses, strict=True)])
    stacked = {name: np.stack([dense.embeddings.to_numpy(dtype=np.float32)[split_rows(dense)[name]]
                               for dense in denses], axis=1)
               for name in ("train", "validation")}  # (rows, M, n_inputs)
    train = adjusted(configs[0].train, description=description)
    history = fit(ensemble, stacked["train"], stacked["validation"], train)
    ensemble.cpu()
    return [sparse_result(config, dense, ensemble.member(number), history)
            for number, (config, dense) in enumerate(zip(configs, denses, strict=True))]
