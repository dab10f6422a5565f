"""Chapter 4's pipeline: a (conditional) VAE of the daily cross-section, and what it says of each day."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from helpers.analysis.factors import TREND_VOLATILITY_NAMES, one_hot, trend_volatility_label
from helpers.data import CrossSectionSpec, MarketSpec
from helpers.data.truth import REGIMES
from helpers.experiments.saved import SavedModel
from helpers.models.vae import VAE, VAEConfig, gaussian_kl
from helpers.train import History, TrainConfig, adjusted, fit
from helpers.validate import InputError

CONDITIONS = (None, "true_regime", "trend_volatility")


@dataclass(frozen=True, kw_only=True)
class VAEStageConfig:
    data: CrossSectionSpec = CrossSectionSpec(market=MarketSpec(source="synthetic"))
    latent_size: int = 4
    hidden_sizes: tuple[int, ...] = (64,)
    beta: float = 1.0
    condition: str | None = None  # None, "true_regime" (synthetic only) or "trend_volatility"
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=600, learning_rate=3e-3, patience=30, description="VAE")
    )


@dataclass(frozen=True)
class VAEStage:
    """A trained (conditional) VAE of the daily cross-section and what it says of each day."""
    config: VAEStageConfig
    saved: SavedModel
    history: History
    means: pd.DataFrame  # day x latent: the latent factors
    log_vars: pd.DataFrame
    conditions: pd.DataFrame | None  # day x one-hot condition
    split: pd.Series
    recon_error: pd.DataFrame  # day x asset: squared standardized reconstruction error
    kl: pd.DataFrame  # day x latent: KL per dimension
    scale: np.ndarray  # per-asset training standard deviation of returns
    center: np.ndarray  # per-asset training mean of returns


def train_vae(config: VAEStageConfig) -> VAEStage:

    if config.condition not in CONDITIONS:
        raise InputError(f"condition={config.condition!r}; expected one of {list(CONDITIONS)}")
    market, splits, standardized, scaler = config.data.build()
    conditions = None
    if config.condition == "true_regime":
        if market.truth is None:
            raise InputError("condition='true_regime' needs the synthetic source, which knows its regimes")
        labels = market.truth.regimes.reindex(standardized.index)
        conditions = pd.DataFrame(one_hot(labels, len(REGIMES)), index=labels.index, columns=list(REGIMES))
    elif config.condition == "trend_volatility":
        labels = trend_volatility_label(market.benchmark, splits.train).reindex(standardized.index).dropna()
        standardized = standardized.loc[labels.index]
        conditions = pd.DataFrame(one_hot(labels, 4), index=labels.index, columns=list(TREND_VOLATILITY_NAMES))
    split = pd.Series("test", index=standardized.index, name="split")
    split[split.index.isin(splits.train)] = "train"
    split[split.index.isin(splits.validation)] = "validation"

    def tensors(name):
        rows = (split == name).to_numpy()
        x = standardized.to_numpy(dtype=np.float32)[rows]
        return (x,) if conditions is None else (x, conditions.to_numpy()[rows])

    model_config = VAEConfig(
        n_inputs=standardized.shape[1],
        latent_size=config.latent_size,
        hidden_sizes=config.hidden_sizes,
        beta=config.beta,
        condition_size=0 if conditions is None else conditions.shape[1],
    )
    torch.manual_seed(config.train.seed)
    model = VAE(model_config)
    history = fit(model, tensors("train"), tensors("validation"), config.train)
    model.cpu().eval()
    x = torch.from_numpy(standardized.to_numpy(dtype=np.float32, copy=True))
    c = None if conditions is None else torch.from_numpy(conditions.to_numpy(copy=True))
    with torch.no_grad():
        output = model(x, c)
    latent_columns = [f"z{i}" for i in range(config.latent_size)]
    days = standardized.index
    return VAEStage(
        config=config,
        saved=SavedModel.of(model),
        history=history,
        means=pd.DataFrame(output.mean.numpy(), index=days, columns=latent_columns),
        log_vars=pd.DataFrame(output.log_var.numpy(), index=days, columns=latent_columns),
        conditions=conditions,
        split=split,
        recon_error=pd.DataFrame(((output.reconstruction - x) ** 2).numpy(), index=days, columns=standardized.columns),
        kl=pd.DataFrame(gaussian_kl(output.mean, output.log_var).numpy(), index=days, columns=latent_columns),
        scale=scaler.scale_.copy(),
        center=scaler.mean_.copy(),
    )


def book_vae_config(
    data: CrossSectionSpec,
    *,
    latent_size: int = VAEStageConfig.latent_size,
    hidden_sizes: tuple[int, ...] = VAEStageConfig.hidden_sizes,
    beta: float = VAEStageConfig.beta,
    condition: str | None = None,
    epochs: int | None = None,
    patience: int | None = None,
    seed: int = 0,
) -> VAEStageConfig:
    """The VAE stage as Chapters 4, 6 and 8 configure it: one function, so equal parameters
    give one cache entry. Unset values are the config's defaults."""
    train = adjusted(VAEStageConfig().train, epochs=epochs, patience=patience, seed=seed)
    return VAEStageConfig(data=data, latent_size=latent_size, hidden_sizes=tuple(hidden_sizes), beta=beta,
                          condition=condition, train=train)
