"""Chapter 5's protocol: every covariance estimator walked forward over one market."""
from __future__ import annotations

from dataclasses import dataclass, field

from skfolio.moments import DenoiseCovariance
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

from helpers.analysis.covariance import PCAFactorCovariance, VAECovariance
from helpers.analysis.factors import trend_volatility_label
from helpers.analysis.walkforward import walk_forward
from helpers.data import MarketSpec
from helpers.data.truth import REGIMES
from helpers.train import TrainConfig, adjusted
from helpers.validate import InputError

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


def run_covariance_race(config: CovarianceRaceConfig):
    """The walk-forward of every covariance estimator of Chapter 5 on one market."""
    unknown = set(config.conditions) - set(CONDITION_NAMES)
    if unknown:
        raise InputError(f"conditions {sorted(unknown)}; expected some of {list(CONDITION_NAMES)}")
    market = config.market.load()
    returns = market.returns.iloc[LABEL_WARMUP:]
    vae = {
        "latent_size": config.n_factors,
        "hidden_sizes": config.hidden_sizes,
        "beta": config.beta,
        "warm_start": True,
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
                raise InputError("condition 'true_regime' needs the synthetic source, which knows its regimes")
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


def book_race_config(
    market: MarketSpec,
    *,
    window: int = CovarianceRaceConfig.window,
    n_factors: int = CovarianceRaceConfig.n_factors,
    hidden_sizes: tuple[int, ...] = CovarianceRaceConfig.hidden_sizes,
    beta: float = CovarianceRaceConfig.beta,
    conditions: tuple[str, ...] = CovarianceRaceConfig.conditions,
    refit_every: int = CovarianceRaceConfig.refit_every,
    epochs: int | None = None,
    patience: int | None = None,
    seed: int = 0,
) -> CovarianceRaceConfig:
    """The covariance race as Chapters 5 and 10 configure it: one function, so equal
    parameters give one cache entry. Unset values are the config's defaults."""
    train = adjusted(CovarianceRaceConfig().train, epochs=epochs, patience=patience, seed=seed)
    return CovarianceRaceConfig(market=market, window=window, n_factors=n_factors, hidden_sizes=tuple(hidden_sizes),
                                beta=beta, conditions=tuple(conditions), refit_every=refit_every, train=train)
