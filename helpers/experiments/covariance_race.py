"""Chapter 6's protocol: every covariance estimator walked forward over one market, and the
same race repeated over many simulated markets of a setting.

A synthetic finding is a statement about a kind of market, so Chapter 6 races every
estimator on many markets of each synthetic setting. One market's race is dominated by its
VAEs, each retrained every `refit_every` months; over many markets the networks of every
market and refit date are trained together, one ensemble per architecture, through the one
training loop, each member stopping early on its own (`run_races_over_markets`).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from skfolio.moments import EmpiricalCovariance as WindowedSampleCovariance
from skfolio.moments import EWCovariance
from sklearn.covariance import OAS, EmpiricalCovariance, LedoitWolf

from helpers.analysis.covariance import (
    MarchenkoPasturDenoise,
    NonlinearShrinkage,
    PCAFactorCovariance,
    ScaledIdentity,
    VAECovariance,
    expected_label_shares,
)
from helpers.analysis.factors import one_hot, trend_volatility_label
from helpers.analysis.metrics import annualized_volatility
from helpers.analysis.walkforward import (
    ORACLE,
    PORTFOLIOS,
    SCORES,
    WalkForwardResult,
    lowest_risk_on_validation,
    rebalance_dates,
    trailing_history,
    walk_forward,
)
from helpers.cache import PRESENTATION, cached_stage
from helpers.data import MarketSpec
from helpers.data.truth import REGIMES
from helpers.models.ensemble import Ensemble
from helpers.models.vae import VAE, VAEConfig
from helpers.train import History, TrainConfig, adjusted, fit
from helpers.validate import InputError, as_count, check_moving_returns

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
        "denoised": MarchenkoPasturDenoise(),
        "PCA": PCAFactorCovariance(config.n_factors),
        EQUAL_WEIGHT: ScaledIdentity(),
    }


def check_race(config: CovarianceRaceConfig) -> None:
    """Refuse a race whose conditions or short window cannot be run, naming the parameter."""
    unknown = set(config.conditions) - set(CONDITION_NAMES)
    if unknown:
        raise InputError(f"conditions {sorted(unknown)}; expected some of {list(CONDITION_NAMES)}")
    if not isinstance(config.short_days, int) or not 2 <= config.short_days < config.window:
        raise InputError(f"short_window={config.short_window!r}; expected None or a whole number of days in "
                         f"[2, window={config.window})")


def vae_conditions(config: CovarianceRaceConfig, market, returns) -> dict[str, tuple[object, int]]:
    """Each VAE of the race by name, with the daily labels it is conditioned on and their
    number: (None, 0) for the plain VAE, then one conditional VAE per condition."""
    vaes = {"VAE": (None, 0)}
    for condition in config.conditions:
        if condition == "true_regime":
            if market.truth is None:
                raise InputError("condition 'true_regime' needs the synthetic source, which knows its regimes")
            vaes[CONDITION_NAMES[condition]] = (market.truth.regimes, len(REGIMES))
        else:
            vaes[CONDITION_NAMES[condition]] = (
                trend_volatility_label(market.benchmark, returns.index[: config.window]), 4)
    return vaes


def run_covariance_race(config: CovarianceRaceConfig):
    """The walk-forward of every covariance estimator of Chapter 6 on one market."""
    check_race(config)
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
    estimators = non_learned_estimators(config)
    for name, (labels, n_labels) in vae_conditions(config, market, returns).items():
        estimators[name] = VAECovariance(labels=labels, n_labels=n_labels, **vae)
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


@dataclass(frozen=True, kw_only=True)
class MarketsRaceConfig:
    """The race of each setting repeated on `markets` markets: seeds market.seed, market.seed + 1, ..."""

    settings: tuple[CovarianceRaceConfig, ...]  # one race per setting, on the first of its markets
    markets: int = 10
    long_only_first: bool = True  # the long-only portfolios on each setting's first market only
    description: str = field(default="covariance races over markets", metadata=PRESENTATION)

    def __post_init__(self) -> None:
        if not self.settings:
            raise InputError("settings is empty; give at least one race")
        object.__setattr__(self, "markets", as_count(self.markets, "markets", 2))
        for race in self.settings:
            check_race(race)
            if race.market.source != "synthetic":
                raise InputError(f"source={race.market.source!r}; a race over markets draws synthetic markets")

    def races(self) -> list[list[CovarianceRaceConfig]]:
        """Each setting's race on each of its markets (setting x market)."""
        return [[replace(race, market=replace(race.market, seed=race.market.seed + number))
                 for number in range(self.markets)] for race in self.settings]


@dataclass(frozen=True)
class RacesOverMarkets:
    seeds: tuple[int, ...]  # the market seeds of the first setting (each setting counts from its own seed)
    races: tuple[tuple[WalkForwardResult, ...], ...]  # setting x market
    stress_variance_ratios: tuple[tuple[float, ...], ...]  # setting x market: see `stress_variance_ratio`
    histories: dict[str, History]  # each ensemble's training record, by the VAE it trains
    networks_trained: int
    seconds: float


@cached_stage
def races_over_markets_stage(config: MarketsRaceConfig) -> RacesOverMarkets:
    return run_races_over_markets(config)


def run_races_over_markets(config: MarketsRaceConfig) -> RacesOverMarkets:
    """Every setting's race on each of its markets, in three parallel steps: the markets are
    drawn and their VAEs' training windows cut; the VAEs of every market and refit date are
    trained as one ensemble per architecture (the plain VAEs of all settings together) while
    the other workers race each market's non-learned estimators; then each market's VAE
    covariances are raced and joined to the rest of its race."""
    start = time.perf_counter()
    races = [race for setting in config.races() for race in setting]
    prepared = Parallel(n_jobs=-1)(delayed(_prepare_market)(race) for race in races)
    groups: dict[tuple, list[tuple[int, str]]] = {}  # architecture and training -> (market, VAE name)
    for number, (race, market) in enumerate(zip(races, prepared, strict=True)):
        for name, windows in market["windows"].items():
            key = (market["vae_configs"][name], race.train, windows[0][0].shape)
            groups.setdefault(key, []).append((number, name))
    first = {number * config.markets for number in range(len(config.settings))}
    long_only = [config.long_only_first and number in first for number in range(len(races))]
    done = Parallel(n_jobs=-1)(
        [delayed(train_vae_ensemble)(vae_config, [window for number, name in members
                                                  for window in prepared[number]["windows"][name]], train)
         for (vae_config, train, _), members in groups.items()]
        + [delayed(_race_baselines)(race, market, long_only[number])
           for number, (race, market) in enumerate(zip(races, prepared, strict=True))]
    )
    trained, baselines = done[: len(groups)], done[len(groups):]
    networks: list[dict[str, list[VAE]]] = [{} for _ in races]
    histories = {}
    for members, (models, history) in zip(groups.values(), trained, strict=True):
        models = iter(models)
        for number, name in members:
            networks[number][name] = [next(models) for _ in prepared[number]["windows"][name]]
        histories.setdefault(members[0][1], history)
    vaes = Parallel(n_jobs=-1)(
        delayed(_race_vaes)(race, market, networks[number], long_only[number])
        for number, (race, market) in enumerate(zip(races, prepared, strict=True))
    )
    shape = (len(config.settings), config.markets)
    results = np.array([_joined(first_part, second_part) for (first_part, _), second_part
                        in zip(baselines, vaes, strict=True)], dtype=object).reshape(shape)
    ratios = np.array([ratio for _, ratio in baselines]).reshape(shape)
    return RacesOverMarkets(
        seeds=tuple(race.market.seed for race in config.races()[0]),
        races=tuple(tuple(row) for row in results),
        stress_variance_ratios=tuple(tuple(float(r) for r in row) for row in ratios),
        histories=histories,
        networks_trained=sum(len(models) for market in networks for models in market.values()),
        seconds=time.perf_counter() - start,
    )


def stress_variance_ratio(truth) -> float:
    """The mean trace of the true daily covariance on stress days over that on calm days: how
    much more variance a stress day carries (NaN where the market has no day of either)."""
    regimes = truth.regimes.to_numpy()
    if not ((regimes == 0).any() and (regimes == 1).any()):
        return float("nan")
    traces = np.trace(truth.conditional_covariance(), axis1=1, axis2=2)
    return float(traces[regimes == 1].mean() / traces[regimes == 0].mean())


def _prepare_market(race: CovarianceRaceConfig) -> dict:
    """One market drawn, and each of its VAEs' training windows at each refit date, cut and
    standardized as `VAECovariance.fit` does (with the labels one-hot beside them)."""
    market = race.market.load()
    returns = market.returns.iloc[LABEL_WARMUP:]
    dates = rebalance_dates(returns.index, race.window)
    conditions = vae_conditions(race, market, returns)
    windows, vae_configs = {}, {}
    for name, (labels, n_labels) in conditions.items():
        vae_configs[name] = VAEConfig(n_inputs=returns.shape[1], latent_size=race.n_factors,
                                      hidden_sizes=tuple(race.hidden_sizes), beta=race.beta, condition_size=n_labels)
        windows[name] = [_standardized(trailing_history(returns, date, race.window), labels, n_labels)[:2]
                         for date in dates[:: race.refit_every]]
    return {"market": market, "returns": returns, "conditions": conditions, "windows": windows,
            "vae_configs": vae_configs}


def _standardized(history: pd.DataFrame, labels, n_labels: int):
    """A window standardized by its own mean and deviation (float32), its one-hot labels (or
    None) and its scale: the inputs `VAECovariance.fit` trains and reconstructs on."""
    values = check_moving_returns(history)
    center, scale = values.mean(axis=0), values.std(axis=0, ddof=1)
    standardized = ((values - center) / scale).astype(np.float32)
    conditions = None if labels is None else one_hot(labels.reindex(history.index), n_labels)
    return standardized, conditions, scale


def train_vae_ensemble(vae_config: VAEConfig, windows: list, train: TrainConfig) -> tuple[list[VAE], History]:
    """One VAE per window (standardized days, and one-hot labels or None), trained together as
    an ensemble; each starts from the weights `VAECovariance` starts from (seeded by the
    training seed) and keeps the same last share of its days to stop on."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the ensembles train side by side, one a core
    try:
        members = []
        for _ in windows:
            torch.manual_seed(train.seed)
            members.append(VAE(vae_config))
        ensemble = Ensemble(members)
        parts = [np.stack([window[0] for window in windows], axis=1)]  # (days, members, assets)
        if windows[0][1] is not None:
            parts.append(np.stack([window[1] for window in windows], axis=1))  # (days, members, labels)
        days = parts[0].shape[0]
        cut = days - max(1, int(round(VAECovariance().validation_share * days)))
        history = fit(ensemble, [part[:cut] for part in parts], [part[cut:] for part in parts],
                      replace(train, progress=False))
        ensemble.cpu()
        return [ensemble.member(number) for number in range(len(members))], history
    finally:
        torch.set_num_threads(torch_threads)


def _race_baselines(race: CovarianceRaceConfig, prepared: dict, long_only: bool):
    """One market's race of its non-learned estimators and the oracle, and its stress ratio."""
    with _one_thread():
        result = walk_forward(prepared["returns"], non_learned_estimators(race), race.window,
                              truth=prepared["market"].truth, long_only=long_only, n_jobs=1, as_arrays=True)
    return result, stress_variance_ratio(prepared["market"].truth)


def _race_vaes(race: CovarianceRaceConfig, prepared: dict, networks: dict[str, list[VAE]], long_only: bool):
    """One market's race of its VAEs (and the plain VAE without its residual), from the
    networks trained for it."""
    returns = prepared["returns"]
    dates = rebalance_dates(returns.index, race.window)
    with _one_thread():
        given = {}
        for name, models in networks.items():
            labels, n_labels = prepared["conditions"][name]
            given[name], systematic = vae_covariances(models, returns, dates, race.window, race.refit_every, labels,
                                                      n_labels, seed=race.train.seed)
            if name == "VAE":
                given[NO_RESIDUAL] = systematic
        return walk_forward(returns, {}, race.window, long_only=long_only, n_jobs=1, given=given)


@contextmanager
def _one_thread():
    """Torch on one thread: the markets race side by side, one a core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _joined(baselines: WalkForwardResult, vaes: WalkForwardResult) -> WalkForwardResult:
    """One market's race from its two parts, as one walk-forward of every estimator returns it:
    the estimators in its order (the non-learned ones, the VAEs, then the oracle)."""

    def ordered(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
        joined = pd.concat([first, second], axis=1)
        names = list(joined.columns.get_level_values(1).unique())
        names = [name for name in names if name != ORACLE] + [name for name in names if name == ORACLE]
        return joined[[(top, name) for top in joined.columns.get_level_values(0).unique() for name in names
                       if (top, name) in joined.columns]]

    returns = ordered(baselines.returns, vaes.returns)
    scores = pd.concat([baselines.scores, vaes.scores], axis=1)
    scores = scores[[(score, name) for score in SCORES for name in sorted(scores.columns.get_level_values(1).unique())]]
    weights = baselines.weights | vaes.weights
    return WalkForwardResult(returns, {key: weights[key] for key in returns.columns},
                             ordered(baselines.turnover, vaes.turnover), scores, baselines.rebalance_dates)


@torch.no_grad()
def vae_covariances(models: list[VAE], returns: pd.DataFrame, dates: pd.DatetimeIndex, window: int, refit_every: int,
                    labels=None, n_labels: int = 0, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each month's covariance of a (conditional) VAE whose networks were trained beforehand,
    one per refit date (`models[k]` from month k * refit_every on), and its systematic part.

    It is `VAECovariance.fit` with warm starts: the month's window standardized by its own
    statistics, the systematic part the covariance of decoded prior draws de-standardized,
    the residual variance that of the window's reconstruction. The prior draws are decoded
    once a refit (they do not change between refits); a conditional VAE's covariance is the
    mixture of its labels' decoded covariances in the shares expected over the next month,
    computed exactly rather than by drawing the labels, which `VAECovariance` does.
    """
    defaults = VAECovariance()
    if len(models) != len(dates[::refit_every]):
        raise InputError(f"{len(models)} networks for {len(dates[::refit_every])} refit dates; expected one each")
    totals, systematics = [], []
    for month, date in enumerate(dates):
        if month % refit_every == 0:
            model = models[month // refit_every].eval()
            moments = _decoded_moments(model, n_labels, defaults.n_samples, seed)
        standardized, conditions, scale = _standardized(trailing_history(returns, date, window), labels, n_labels)
        condition = None if conditions is None else torch.from_numpy(conditions)
        reconstruction = model(torch.from_numpy(standardized), condition).reconstruction.numpy()
        shares = np.ones(1) if conditions is None else expected_label_shares(
            conditions.argmax(axis=1), n_labels, defaults.horizon)
        systematic = _mixture_covariance(moments, shares) * np.outer(scale, scale)
        residual = ((standardized - reconstruction) ** 2).mean(axis=0) * scale**2
        systematics.append(systematic)
        totals.append(systematic + np.diag(residual))
    return totals, systematics


def _decoded_moments(model: VAE, n_labels: int, n_samples: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mean and covariance of `n_samples` decoded prior draws (standardized units), for the
    plain VAE or for each label of a conditional one; the draws of z are the same for each."""
    conditions = [None] if n_labels == 0 else [torch.eye(n_labels)[label] for label in range(n_labels)]
    moments = []
    for condition in conditions:
        draws = model.sample(n_samples, condition, generator=torch.Generator().manual_seed(seed)).numpy()
        moments.append((draws.mean(axis=0, dtype=np.float64), np.cov(draws.T)))
    return moments


def _mixture_covariance(moments: list[tuple[np.ndarray, np.ndarray]], shares: np.ndarray) -> np.ndarray:
    """The covariance of a mixture of the labels' draws in `shares`: the shares' average of
    the labels' covariances plus the spread of their means."""
    means = np.array([mean for mean, _ in moments])  # (labels, N)
    mixed = means.T @ shares
    within = sum(share * covariance for share, (_, covariance) in zip(shares, moments, strict=True))
    between = (means - mixed).T @ ((means - mixed) * shares[:, None])
    return within + between


def differences_on_test_months(race: WalkForwardResult, validation_share: float, baselines, ewmas,
                            reference: str = "sample") -> pd.Series:
    """One market's comparisons over its test months, each choice made on its validation
    months as for the worked example: the best baseline among `baselines` and the EWMA among
    `ewmas`. Volatilities (minimum-variance portfolios) in points a year; scores as the mean
    over test months of the VAE's minus the best baseline's; the conditional VAEs where the
    race has them."""
    end = race.validation_end(validation_share)
    minimum_variance = race.returns[PORTFOLIOS[0]]
    best = lowest_risk_on_validation(minimum_variance, baselines, end)
    ewma = lowest_risk_on_validation(minimum_variance, ewmas, end)
    volatility = pd.Series(annualized_volatility(minimum_variance.loc[minimum_variance.index > end].to_numpy()),
                           index=minimum_variance.columns)
    scores = race.scores.loc[race.scores.index > end].mean()
    gross = race.gross_exposure()[PORTFOLIOS[0]].mean()
    differences = {
        "VAE minus best baseline": volatility["VAE"] - volatility[best],
        "VAE over best baseline (%)": 100 * (volatility["VAE"] / volatility[best] - 1),
        "lowest estimator minus oracle": volatility.drop(ORACLE).min() - volatility[ORACLE],
        f"chosen EWMA minus {reference}": volatility[ewma] - volatility[reference],
        "no residual minus VAE": volatility[NO_RESIDUAL] - volatility["VAE"],
        "gross exposure, no residual minus VAE": gross[NO_RESIDUAL] - gross["VAE"],
        **{f"VAE minus best baseline, {score}": scores[(score, "VAE")] - scores[(score, best)] for score in SCORES},
        "best baseline's calibration minus one": scores[(SCORES[2], best)] - 1.0,
    }
    for name in CONDITION_NAMES.values():
        if name in volatility.index:
            differences[f"{name} minus best baseline"] = volatility[name] - volatility[best]
            differences[f"{name} minus VAE"] = volatility[name] - volatility["VAE"]
    return pd.Series(differences)
