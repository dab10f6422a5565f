"""Chapter 2's pipelines: a dense autoencoder over return windows, and one over each
stock's behaviour, with the configs the chapters that reuse them build through one function."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from helpers.analysis.embedding import reconstruction_r2, stock_features
from helpers.data import SPLITS, WindowSpec
from helpers.experiments.saved import SavedModel
from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.train import History, TrainConfig, adjusted, fit
from helpers.validate import InputError


@dataclass(frozen=True, kw_only=True)
class DenseStageConfig:
    windows: WindowSpec = WindowSpec()
    latent_size: int = 32
    hidden_sizes: tuple[int, ...] = (256, 128)
    activation: str = "gelu"
    dropout: float = 0.0
    train: TrainConfig = field(default_factory=lambda: TrainConfig(description="dense autoencoder"))


@dataclass(frozen=True)
class DenseStage:
    """A trained dense autoencoder and the embedding of every window, by end date."""
    config: DenseStageConfig
    saved: SavedModel
    history: History
    embeddings: pd.DataFrame  # end date x latent dimension
    split: pd.Series  # end date -> "train" | "validation" | "test"
    r2: dict[str, float]  # reconstruction R^2 per split, against the training mean


def train_dense(config: DenseStageConfig) -> DenseStage:
    _, _, windows = config.windows.build()
    model_config = DenseAEConfig(
        n_inputs=windows.n_features,
        latent_size=config.latent_size,
        hidden_sizes=config.hidden_sizes,
        activation=config.activation,
        dropout=config.dropout,
    )
    torch.manual_seed(config.train.seed)
    model = DenseAutoencoder(model_config)
    history = fit(model, windows.inputs["train"], windows.inputs["validation"], config.train)
    model.cpu().eval()
    inputs, dates = windows.all_inputs()
    with torch.no_grad():
        output = model(torch.from_numpy(inputs.copy()))
    embedding, reconstruction = output.embedding.numpy(), output.reconstruction.numpy()
    reference = windows.inputs["train"].mean(axis=0)
    split = pd.Series(np.repeat(SPLITS, [len(windows.dates[s]) for s in SPLITS]), index=dates, name="split")
    r2 = {}
    for name in SPLITS:
        rows = (split == name).to_numpy()
        r2[name] = reconstruction_r2(inputs[rows], reconstruction[rows], reference)
    columns = [f"z{i:02d}" for i in range(config.latent_size)]
    return DenseStage(
        config=config,
        saved=SavedModel.of(model),
        history=history,
        embeddings=pd.DataFrame(embedding, index=dates, columns=columns),
        split=split,
        r2=r2,
    )


@dataclass(frozen=True, kw_only=True)
class StockStageConfig:
    market: WindowSpec = WindowSpec()  # its market, and its training days
    latent_size: int = 8
    hidden_sizes: tuple[int, ...] = (128,)
    validation_share: float = 0.2
    train: TrainConfig = field(default_factory=lambda: TrainConfig(batch_size=32, description="stock autoencoder"))


@dataclass(frozen=True)
class StockStage:
    config: StockStageConfig
    features: pd.DataFrame  # stock x feature
    embeddings: pd.DataFrame  # stock x latent dimension
    history: History


def embed_stocks(config: StockStageConfig) -> StockStage:
    """Embed each stock's behaviour over the training days with a dense autoencoder.

    A random `validation_share` of the stocks is held out for early stopping; every stock
    is then embedded.
    """
    market, splits, _ = config.market.build()
    features = stock_features(market.prices, market.benchmark, splits.train)
    rng = np.random.default_rng(config.train.seed)
    held_out = rng.random(len(features)) < config.validation_share
    if held_out.all() or not held_out.any():
        raise InputError(f"validation_share={config.validation_share} leaves an empty set of {len(features)} stocks")
    values = features.to_numpy(dtype=np.float32)
    torch.manual_seed(config.train.seed)
    model = DenseAutoencoder(
        DenseAEConfig(n_inputs=values.shape[1], latent_size=config.latent_size, hidden_sizes=config.hidden_sizes)
    )
    history = fit(model, values[~held_out], values[held_out], config.train)
    model.cpu().eval()
    with torch.no_grad():
        embedding = model.encode(torch.as_tensor(values)).numpy()
    columns = [f"z{i:02d}" for i in range(config.latent_size)]
    return StockStage(config, features, pd.DataFrame(embedding, index=features.index, columns=columns), history)


def book_dense_config(
    windows: WindowSpec,
    *,
    latent_size: int = DenseStageConfig.latent_size,
    hidden_sizes: tuple[int, ...] = DenseStageConfig.hidden_sizes,
    epochs: int | None = None,
    patience: int | None = None,
    seed: int = 0,
) -> DenseStageConfig:
    """The dense stage as every chapter that trains or reuses it configures it (Chapters 2, 3,
    7 and 10): one function, so equal parameters give one cache entry. Unset values are the
    config's defaults."""
    train = adjusted(DenseStageConfig().train, epochs=epochs, patience=patience, seed=seed)
    return DenseStageConfig(windows=windows, latent_size=latent_size, hidden_sizes=tuple(hidden_sizes), train=train)
