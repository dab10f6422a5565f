"""Chapter 6's protocol: every covariance estimator walked forward over one market."""
from __future__ import annotations

from dataclasses import dataclass, field

from skfolio.moments import DenoiseCovariance, EWCovariance
from skfolio.moments import EmpiricalCovariance as WindowedSampleCovariance
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

from helpers.analysis.covariance import NonlinearShrinkage, PCAFactorCovariance, ScaledIdentity, VAECovariance
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
    ewma_half_lives: tuple[float, ...] = (11.2, 21.0, 63.0, 126.0, 252.0)  # days; 11.2 is RiskMetrics' 0.94 decay
    short_window: int | None = None  # days behind the short-window sample covariance; None: a quarter of the window
    long_only: bool = True
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=300, learning_rate=3e-3, patience=20, description="VAE")
    )


    @property
    def short_days(self) -> int:
        return self.window // 4 if self.short_window is None else self.short_window


CONDITION_NAMES = {"true_regime": "CVAE (true regime)", "trend_volatility": "CVAE (trend/volatility label)"}
EQUAL_WEIGHT = "1/N"
NO_RESIDUAL = "VAE, no residual"


def ewma_name(half_life: float) -> str:
    return f"EWMA, half-life {half_life:g} days"


def non_learned_estimators(config: CovarianceRaceConfig) -> dict:
    """Every estimator of the race that learns no network: the baselines a VAE has to beat."""
    return {
        "sample": EmpiricalCovariance(),
        f"sample, last {config.short_days} days": WindowedSampleCovariance(window_size=config.short_days),
        **{ewma_name(half_life): EWCovariance(half_life=half_life, min_observations=1)
           for half_life in config.ewma_half_lives},
        "Ledoit-Wolf": LedoitWolf(),
        "OAS": OAS(),
        "nonlinear shrinkage": NonlinearShrinkage(),
        "denoised": DenoiseCovariance(),
        "PCA": PCAFactorCovariance(config.n_factors),
        EQUAL_WEIGHT: ScaledIdentity(),
    }


def run_covariance_race(config: CovarianceRaceConfig):
    """The walk-forward of every covariance estimator of Chapter 6 on one market."""
    unknown = set(config.conditions) - set(CONDITION_NAMES)
    if unknown:
        raise InputError(f"conditions {sorted(unknown)}; expected some of {list(CONDITION_NAMES)}")
    if not isinstance(config.short_days, int) or not 2 <= config.short_days < config.window:
        raise InputError(f"short_window={config.short_window!r}; expected None or a whole number of days in "
                         f"[2, window={config.window})")
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
    estimators = non_learned_estimators(config) | {"VAE": VAECovariance(**vae)}
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
    ewma_half_lives: tuple[float, ...] = CovarianceRaceConfig.ewma_half_lives,
    short_window: int | None = CovarianceRaceConfig.short_window,
    epochs: int | None = None,
    patience: int | None = None,
    seed: int = 0,
) -> CovarianceRaceConfig:
    """The covariance race as Chapters 6 and 11 configure it: one function, so equal
    parameters give one cache entry. Unset values are the config's defaults."""
    train = adjusted(CovarianceRaceConfig().train, epochs=epochs, patience=patience, seed=seed)
    return CovarianceRaceConfig(market=market, window=window, n_factors=n_factors, hidden_sizes=tuple(hidden_sizes),
                                beta=beta, conditions=tuple(conditions), refit_every=refit_every,
                                ewma_half_lives=tuple(float(h) for h in ewma_half_lives), short_window=short_window,
                                train=train)
