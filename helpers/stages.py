"""The book's shared stages, cached on disk: each is a pipeline of `helpers.experiments`
under a key of its config and the code it runs (see `helpers.cache`).

Chapter 3 needs Chapter 2's embeddings, and later chapters need Chapter 3's features.
Each calls the stage with its config; the first call trains, later calls (in any
notebook, any process) read the cache. Tensors are stored on the CPU.
"""
from __future__ import annotations

from helpers.cache import cached_stage
from helpers.experiments.conditional_pricing import PricingRun, PricingStudy, run_pricing
from helpers.experiments.covariance_race import CovarianceRaceConfig, run_covariance_race
from helpers.experiments.dial import DialConfig, DialResult, run_conditional_study, run_dial
from helpers.experiments.embeddings import (
    DenseStage,
    DenseStageConfig,
    StockStage,
    StockStageConfig,
    embed_stocks,
    train_dense,
)
from helpers.experiments.planted import PlantedStudy, PlantedStudyConfig, run_planted_study
from helpers.experiments.signal_study import SignalStudy, SignalStudyConfig, run_signal_study
from helpers.experiments.sparse import (
    SparseSeedsConfig,
    SparseStage,
    SparseStageConfig,
    train_sparse,
    train_sparse_ensemble,
)
from helpers.experiments.vae import VAEStage, VAEStageConfig, train_vae


@cached_stage
def dense_stage(config: DenseStageConfig) -> DenseStage:
    return train_dense(config)


@cached_stage
def stock_stage(config: StockStageConfig) -> StockStage:
    return embed_stocks(config)


@cached_stage
def sparse_stage(config: SparseStageConfig) -> SparseStage:
    return train_sparse(config, dense_stage(config.dense))


@cached_stage
def sparse_seeds_stage(config: SparseSeedsConfig) -> list[SparseStage]:
    """Every run of `config` trained at once as one sparse ensemble over the one dense stage:
    each starts from its own seed's weights, and the mini-batches come in the first seed's order."""
    runs = config.configs()
    dense = dense_stage(config.sparse.dense)
    return train_sparse_ensemble(runs, [dense] * len(runs), "sparse autoencoders, one per seed")


@cached_stage
def vae_stage(config: VAEStageConfig) -> VAEStage:
    return train_vae(config)


@cached_stage
def covariance_race_stage(config: CovarianceRaceConfig):
    return run_covariance_race(config)


@cached_stage
def signal_study_stage(config: SignalStudyConfig) -> SignalStudy:
    return run_signal_study(config)


@cached_stage
def dial_stage(config: DialConfig) -> DialResult:
    return run_dial(config)


@cached_stage
def conditional_study_stage(config: DialConfig) -> DialResult:
    return run_conditional_study(config)


@cached_stage
def pricing_stage(run: PricingRun) -> PricingStudy:
    return run_pricing(run)


@cached_stage
def planted_stage(config: PlantedStudyConfig) -> PlantedStudy:
    return run_planted_study(config, [dense_stage(sparse.dense) for sparse in config.market_configs()])
