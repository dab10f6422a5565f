"""Shared stages of the book: pure functions of a frozen config, cached on disk.

Chapter 3 needs Chapter 2's embeddings, and later chapters need Chapter 3's features.
Each calls the stage with its config; the first call trains, later calls (in any
notebook, any process) read the cache. Tensors are stored on the CPU.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from helpers.analysis.embedding import reconstruction_r2
from helpers.cache import cached_stage
from helpers.data import SPLITS, CrossSectionSpec, MarketSpec, WindowSpec
from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.models.sparse_ae import SparseAEConfig, SparseAutoencoder
from helpers.train import History, TrainConfig, fit


@dataclass(frozen=True, kw_only=True)
class DenseStageConfig:
    windows: WindowSpec = WindowSpec()
    latent_size: int = 32
    hidden_sizes: tuple[int, ...] = (256, 128)
    activation: str = "gelu"
    dropout: float = 0.0
    train: TrainConfig = field(default_factory=lambda: TrainConfig(description="dense autoencoder"))


@dataclass(frozen=True)
class SavedModel:
    """A trained model's class, config and weights, on the CPU, so the cache can hold it."""

    model_class: type
    config: object
    state_dict: dict

    @classmethod
    def of(cls, model: torch.nn.Module) -> SavedModel:
        weights = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
        return cls(type(model), model.config, weights)

    def load(self) -> torch.nn.Module:
        model = self.model_class(self.config)
        model.load_state_dict(self.state_dict)
        return model.eval()


@dataclass(frozen=True)
class DenseStage:
    """A trained dense autoencoder and the embedding of every window, by end date."""

    config: DenseStageConfig
    saved: SavedModel
    history: History
    embeddings: pd.DataFrame  # end date x latent dimension
    split: pd.Series  # end date -> "train" | "validation" | "test"
    r2: dict[str, float]  # reconstruction R^2 per split, against the training mean


@cached_stage
def dense_stage(config: DenseStageConfig) -> DenseStage:
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


@cached_stage
def stock_stage(config: StockStageConfig) -> StockStage:
    """Embed each stock's behaviour over the training days with a dense autoencoder.

    A random `validation_share` of the stocks is held out for early stopping; every stock
    is then embedded.
    """
    from helpers.analysis.embedding import stock_features

    market, splits, _ = config.market.build()
    features = stock_features(market.prices, market.benchmark, splits.train)
    rng = np.random.default_rng(config.train.seed)
    held_out = rng.random(len(features)) < config.validation_share
    if held_out.all() or not held_out.any():
        raise ValueError(f"validation_share={config.validation_share} leaves an empty set of {len(features)} stocks")
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


@dataclass(frozen=True, kw_only=True)
class SparseStageConfig:
    dense: DenseStageConfig = DenseStageConfig()
    n_features: int = 128
    k: int = 8
    aux_k: int = 16
    aux_coefficient: float = 1 / 32
    dead_after_epochs: float = 1.0  # a feature is dead after this many epochs of samples without firing
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
    metrics: pd.DataFrame  # split x (fvu, l0, dead_fraction)


@cached_stage
def sparse_stage(config: SparseStageConfig) -> SparseStage:
    from helpers.analysis.interpret import sparse_metrics

    dense = dense_stage(config.dense)
    embeddings = dense.embeddings.to_numpy(dtype=np.float32)
    rows = {name: (dense.split == name).to_numpy() for name in SPLITS}
    model_config = SparseAEConfig(
        n_inputs=embeddings.shape[1],
        n_features=config.n_features,
        k=config.k,
        aux_k=config.aux_k,
        aux_coefficient=config.aux_coefficient,
        dead_after=max(1, int(config.dead_after_epochs * rows["train"].sum())),
    )
    torch.manual_seed(config.train.seed)
    model = SparseAutoencoder(model_config)
    model.init_pre_bias(torch.as_tensor(embeddings[rows["train"]]))
    history = fit(model, embeddings[rows["train"]], embeddings[rows["validation"]], config.train)
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


def book_dense_config(
    windows: WindowSpec,
    latent_size: int = 32,
    hidden_sizes: tuple[int, ...] = (256, 128),
    epochs: int = 300,
    patience: int = 20,
    seed: int = 0,
) -> DenseStageConfig:
    """The dense stage as the chapters configure it, so that they share one cache entry."""
    train = TrainConfig(epochs=epochs, patience=patience, seed=seed, description="dense autoencoder")
    return DenseStageConfig(windows=windows, latent_size=latent_size, hidden_sizes=tuple(hidden_sizes), train=train)


def book_sparse_config(
    dense: DenseStageConfig, n_features: int = 128, k: int = 8, aux_k: int = 16, epochs: int = 500, seed: int = 0
) -> SparseStageConfig:
    """The sparse stage as the chapters configure it, over a dense stage's embeddings."""
    train = TrainConfig(epochs=epochs, batch_size=256, learning_rate=4e-3, patience=30, seed=seed,
                        description="sparse autoencoder")
    return SparseStageConfig(dense=dense, n_features=n_features, k=k, aux_k=min(aux_k, n_features), train=train)


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


@cached_stage
def vae_stage(config: VAEStageConfig) -> VAEStage:
    from helpers.analysis.factors import TREND_VOLATILITY_NAMES, one_hot, trend_volatility_label
    from helpers.data.synthetic import REGIMES
    from helpers.models.vae import VAE, VAEConfig, gaussian_kl

    if config.condition not in CONDITIONS:
        raise ValueError(f"condition={config.condition!r}; expected one of {list(CONDITIONS)}")
    market, splits, standardized, scaler = config.data.build()
    conditions = None
    if config.condition == "true_regime":
        if market.truth is None:
            raise ValueError("condition='true_regime' needs the synthetic source, which knows its regimes")
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


LABEL_WARMUP = 63  # days before the trend/volatility label exists


@dataclass(frozen=True, kw_only=True)
class CovarianceRaceConfig:
    market: MarketSpec = MarketSpec(source="synthetic")
    window: int = 504  # trailing days each monthly estimate sees
    n_factors: int = 4  # PCA factors, and the VAE's latent size
    hidden_sizes: tuple[int, ...] = (64,)
    beta: float = 1.0
    conditions: tuple[str, ...] = ("trend_volatility",)  # the CVAEs: "true_regime" (synthetic), "trend_volatility"
    refit_every: int = 12  # months between retrainings of a VAE
    long_only: bool = True
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=300, learning_rate=3e-3, patience=20, description="VAE")
    )


CONDITION_NAMES = {"true_regime": "CVAE (true regime)", "trend_volatility": "CVAE (trend/volatility label)"}
LINEAR_ESTIMATORS = ("sample", "Ledoit-Wolf", "OAS", "denoised", "PCA")
NO_RESIDUAL = "VAE, no residual"


@cached_stage
def covariance_race_stage(config: CovarianceRaceConfig):
    """The walk-forward of every covariance estimator of Chapter 5 on one market."""
    from skfolio.moments import DenoiseCovariance
    from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

    from helpers.analysis.covariance import PCAFactorCovariance, VAECovariance
    from helpers.analysis.factors import trend_volatility_label
    from helpers.analysis.walkforward import walk_forward
    from helpers.data.synthetic import REGIMES

    unknown = set(config.conditions) - set(CONDITION_NAMES)
    if unknown:
        raise ValueError(f"conditions {sorted(unknown)}; expected some of {list(CONDITION_NAMES)}")
    market = config.market.load()
    returns = market.returns.iloc[LABEL_WARMUP:]
    vae = {
        "latent_size": config.n_factors,
        "hidden_sizes": config.hidden_sizes,
        "beta": config.beta,
        "refit_every": config.refit_every,
        "train": config.train,
        "seed": config.train.seed,
    }
    estimators = {
        "sample": EmpiricalCovariance(),
        "Ledoit-Wolf": LedoitWolf(),
        "OAS": OAS(),
        "denoised": DenoiseCovariance(),
        "PCA": PCAFactorCovariance(config.n_factors),
        "VAE": VAECovariance(**vae),
    }
    for condition in config.conditions:
        if condition == "true_regime":
            if market.truth is None:
                raise ValueError("condition 'true_regime' needs the synthetic source, which knows its regimes")
            labels, n_labels = market.truth.regimes, len(REGIMES)
        else:
            labels, n_labels = trend_volatility_label(market.benchmark, returns.index[: config.window]), 4
        estimators[CONDITION_NAMES[condition]] = VAECovariance(labels=labels, n_labels=n_labels, **vae)
    return walk_forward(
        returns,
        estimators,
        config.window,
        truth=market.truth,
        also={NO_RESIDUAL: ("VAE", "systematic_")},
        long_only=config.long_only,
    )


NETWORKS = ("supervised autoencoder", "without decoder", "plain MLP")


@dataclass(frozen=True, kw_only=True)
class SignalStudyConfig:
    market: MarketSpec = MarketSpec(source="bundled", start="2000-01-01")
    horizon: int = 5  # days ahead of the target return
    gap: int = 10  # purge gap between training and validation or test dates, > horizon
    n_splits: int = 3
    test_share: float = 0.2  # the last share of dates, held out
    latent_size: int = 8
    hidden_sizes: tuple[int, ...] = (64,)
    noise_std: float = 0.1
    dropout: float = 0.1
    alpha: float = 1.0
    aux_weight: float = 0.5
    ridge_alpha: float = 10.0
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=20, batch_size=1024, learning_rate=1e-3, patience=20, checkpoint_every=2, description="signals"
        )
    )


@dataclass(frozen=True)
class SignalStudy:
    config: SignalStudyConfig
    fold_dates: list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, pd.Timestamp]]  # train and validation spans
    test_dates: tuple[pd.Timestamp, pd.Timestamp]
    validation_ic: pd.DataFrame  # checkpoint epoch x (network, fold): mean daily rank IC
    chosen: dict[str, int]  # network -> checkpoint chosen on mean validation IC
    test_ic_by_epoch: pd.DataFrame  # checkpoint epoch x network, for the figure only
    test_signals: dict  # model name -> SignalTable (ridge: checkpoint 0)
    realized: pd.DataFrame  # date x asset forward returns over the test dates


def _network(name: str, n_inputs: int, config: SignalStudyConfig) -> torch.nn.Module:
    from helpers.models.mlp import MLPConfig, MLPRegressor
    from helpers.models.supervised_ae import SupervisedAEConfig, SupervisedAutoencoder

    if name == "plain MLP":
        sizes = (*config.hidden_sizes, config.latent_size, *config.hidden_sizes)
        return MLPRegressor(MLPConfig(n_inputs=n_inputs, hidden_sizes=sizes, dropout=config.dropout))
    return SupervisedAutoencoder(SupervisedAEConfig(
        n_inputs=n_inputs, latent_size=config.latent_size, hidden_sizes=config.hidden_sizes,
        head_sizes=config.hidden_sizes, noise_std=config.noise_std, dropout=config.dropout, alpha=config.alpha,
        aux_weight=config.aux_weight, use_decoder=name == "supervised autoencoder"))


def train_network(name: str, features: pd.DataFrame, target: pd.Series, config: SignalStudyConfig):
    """Train one network on the given rows except their last 2 x `gap` dates: the final
    `gap` of those record the validation loss curve, after a purge gap of `gap` dates.
    Returns the model and its history with checkpoints."""
    dates = features.index.get_level_values("date")
    unique = dates.unique()
    inner = dates.isin(unique[: -config.gap * 2])
    monitor = dates.isin(unique[-config.gap :])
    x, y = features.to_numpy(dtype=np.float32), target.to_numpy(dtype=np.float32)
    torch.manual_seed(config.train.seed)
    model = _network(name, x.shape[1], config)
    history = fit(model, (x[inner], y[inner]), (x[monitor], y[monitor]), config.train)
    return model, history


def checkpoint_ics(model, history, features: pd.DataFrame, realized: pd.DataFrame) -> pd.Series:
    """Mean daily rank IC of each checkpoint's signal on the given rows."""
    from helpers.analysis.signals import daily_rank_ic
    from helpers.models.supervised_ae import predict

    return pd.Series({
        epoch: daily_rank_ic(predict(model, features, epoch, weights).values, realized).mean()
        for epoch, weights in history.checkpoints.items()
    })


@cached_stage
def signal_study_stage(config: SignalStudyConfig) -> SignalStudy:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from helpers.analysis.signals import (
        PurgedTimeSeriesSplit,
        asset_features,
        choose_checkpoints,
        cross_sectional_rank,
        forward_returns,
    )
    from helpers.models.supervised_ae import SignalTable, predict

    if config.gap <= config.horizon:
        raise ValueError(f"gap={config.gap} must exceed horizon={config.horizon}: targets would overlap")
    market = config.market.load()
    features = asset_features(market.prices)
    realized_all = forward_returns(market.prices, config.horizon)
    target_all = cross_sectional_rank(realized_all).stack(future_stack=True)
    rows = features.index.intersection(target_all.dropna().index)
    features, target = features.loc[rows], target_all.loc[rows]
    dates = features.index.get_level_values("date")
    unique = dates.unique()
    n_test = int(round(config.test_share * len(unique)))
    if not 0 < n_test < len(unique) - config.gap:
        raise ValueError(f"test_share={config.test_share} leaves no development or no test dates")
    development = dates.isin(unique[: len(unique) - n_test - config.gap])
    test = dates.isin(unique[len(unique) - n_test :])
    dev_features, dev_target = features[development], target[development]
    test_features = features[test]
    realized = realized_all.loc[test_features.index.get_level_values("date").unique()]

    splitter = PurgedTimeSeriesSplit(config.n_splits, config.gap)
    fold_dates, validation_ic = [], {}
    dev_dates = dev_features.index.get_level_values("date")
    for fold, (train_rows, validation_rows) in enumerate(splitter.split(dev_dates)):
        train_span, validation_span = dev_dates[train_rows], dev_dates[validation_rows]
        fold_dates.append((train_span.min(), train_span.max(), validation_span.min(), validation_span.max()))
        validation_realized = realized_all.loc[validation_span.unique()]
        for name in NETWORKS:
            model, history = train_network(name, dev_features.iloc[train_rows], dev_target.iloc[train_rows], config)
            validation_ic[(name, fold)] = checkpoint_ics(
                model, history, dev_features.iloc[validation_rows], validation_realized)
    validation_ic = pd.DataFrame(validation_ic).rename_axis("epoch")
    chosen = choose_checkpoints(validation_ic)

    test_signals, test_ic = {}, {}
    for name in NETWORKS:
        model, history = train_network(name, dev_features, dev_target, config)
        test_ic[name] = checkpoint_ics(model, history, test_features, realized)
        test_signals[name] = predict(model, test_features, chosen[name], history.checkpoints[chosen[name]])
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=config.ridge_alpha)).fit(dev_features, dev_target)
    ridge_signal = pd.Series(ridge.predict(test_features), index=test_features.index).unstack()
    test_signals["ridge regression"] = SignalTable(ridge_signal, 0)
    test_dates = test_features.index.get_level_values("date")
    return SignalStudy(config, fold_dates, (test_dates.min(), test_dates.max()), validation_ic, chosen,
                       pd.DataFrame(test_ic).rename_axis("epoch"), test_signals, realized)
