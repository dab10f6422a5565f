"""Chapter 10's protocol: supervised networks and ridge on asset features, checkpoints chosen
on purged validation folds, signals on held-out test dates."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.analysis.signals import (
    PurgedTimeSeriesSplit,
    asset_features,
    choose_checkpoints,
    cross_sectional_rank,
    daily_rank_ic,
    forward_returns,
    single_feature_signals,
)
from helpers.data import MarketData, MarketSpec
from helpers.models.mlp import MLPConfig, MLPRegressor
from helpers.models.supervised_ae import SignalTable, SupervisedAEConfig, SupervisedAutoencoder, predict
from helpers.train import TrainConfig, adjusted, fit
from helpers.validate import InputError

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
    test_daily_ic: dict[str, pd.DataFrame]  # network -> test date x checkpoint epoch: daily rank IC
    development_ic: pd.Series  # single-feature signal -> mean daily rank IC on the development dates
    best_feature: str  # the single-feature signal with the best development IC: chosen before the test
    test_signals: dict  # model name -> SignalTable (ridge and single features: checkpoint 0)
    realized: pd.DataFrame  # date x asset forward returns over the test dates

    @property
    def test_ic_by_epoch(self) -> pd.DataFrame:
        """Checkpoint epoch x network: mean test IC, for the figure only (never used to choose)."""
        return pd.DataFrame({name: ics.mean() for name, ics in self.test_daily_ic.items()}).rename_axis("epoch")


def build_network(name: str, n_inputs: int, config: SignalStudyConfig) -> torch.nn.Module:

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
    model = build_network(name, x.shape[1], config)
    history = fit(model, (x[inner], y[inner]), (x[monitor], y[monitor]), config.train)
    return model, history


def checkpoint_daily_ics(model, history, features: pd.DataFrame, realized: pd.DataFrame) -> pd.DataFrame:
    """Date x checkpoint epoch: the daily rank IC of each checkpoint's signal on the given rows."""
    return pd.DataFrame({
        epoch: daily_rank_ic(predict(model, features, epoch, weights).values, realized)
        for epoch, weights in history.checkpoints.items()
    })


def run_signal_study(config: SignalStudyConfig) -> SignalStudy:
    return study_market(config.market.load(), config)


def study_market(market: MarketData, config: SignalStudyConfig) -> SignalStudy:
    """The study on a loaded market (`config.market` is not read): a test can hand it a
    market whose test period was altered and check that no choice moves."""
    if config.gap <= config.horizon:
        raise InputError(f"gap={config.gap} must exceed horizon={config.horizon}: targets would overlap")
    features = asset_features(market.prices)
    realized_all = forward_returns(market.prices, config.horizon)
    target_all = cross_sectional_rank(realized_all).stack(future_stack=True)
    rows = features.index.intersection(target_all.dropna().index)
    features, target = features.loc[rows], target_all.loc[rows]
    dates = features.index.get_level_values("date")
    unique = dates.unique()
    n_test = int(round(config.test_share * len(unique)))
    if not 0 < n_test < len(unique) - config.gap:
        raise InputError(f"test_share={config.test_share} leaves no development or no test dates")
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
            validation_ic[(name, fold)] = checkpoint_daily_ics(
                model, history, dev_features.iloc[validation_rows], validation_realized).mean()
    validation_ic = pd.DataFrame(validation_ic).rename_axis("epoch")
    chosen = choose_checkpoints(validation_ic)

    test_signals, test_daily_ic = {}, {}
    for name in NETWORKS:
        model, history = train_network(name, dev_features, dev_target, config)
        test_daily_ic[name] = checkpoint_daily_ics(model, history, test_features, realized)
        test_signals[name] = predict(model, test_features, chosen[name], history.checkpoints[chosen[name]])
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=config.ridge_alpha)).fit(dev_features, dev_target)
    ridge_signal = pd.Series(ridge.predict(test_features), index=test_features.index).unstack()
    test_signals["ridge regression"] = SignalTable(ridge_signal, 0)
    development_realized = realized_all.loc[dev_dates.unique()]
    development_ic = pd.Series({
        name: daily_rank_ic(signal, development_realized).mean()
        for name, signal in single_feature_signals(dev_features).items()
    })
    for name, signal in single_feature_signals(test_features).items():
        test_signals[name] = SignalTable(signal, 0)
    test_dates = test_features.index.get_level_values("date")
    return SignalStudy(config, fold_dates, (test_dates.min(), test_dates.max()), validation_ic, chosen, test_daily_ic,
                       development_ic, str(development_ic.idxmax()), test_signals, realized)


def book_signal_config(
    market: MarketSpec,
    *,
    epochs: int | None = None,
    checkpoint_every: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    **study,
) -> SignalStudyConfig:
    """The signal study as Chapters 10 and 11 configure it: one function, so equal parameters
    give one cache entry. `study` holds any other field of SignalStudyConfig (horizon, gap,
    latent_size, ...); unset values are the config's defaults. Every epoch may be the best,
    so patience spans the whole run and the checkpoints decide."""
    default = SignalStudyConfig().train
    train = adjusted(default, epochs=epochs, checkpoint_every=checkpoint_every, batch_size=batch_size, seed=seed)
    train = adjusted(train, patience=train.epochs)
    if "hidden_sizes" in study:
        study["hidden_sizes"] = tuple(study["hidden_sizes"])
    return SignalStudyConfig(market=market, train=train, **study)
