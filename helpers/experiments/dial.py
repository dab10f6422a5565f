"""The nonlinearity dial: one experiment repeated on simulated markets whose nonlinearity is
turned from none to well above the default, to find where an autoencoder's edge over PCA
appears and how large it gets.

Every market is scored on its held-out (test) days:
- windows: a dense autoencoder against PCA with as many components, reconstruction R^2;
- factors: a VAE against PCA with as many components and the oracle (GLS on the truth),
  the held-out R^2 of the true factors regressed on each (averaged over the factors);
- covariance: the VAE-implied covariance against PCA's factor covariance and Ledoit-Wolf,
  Stein's loss against each test day's true conditional covariance;
- generators: days drawn from the VAE's prior and from probabilistic PCA, and the training
  days themselves, by the distance of their correlations to the test days';
- the VAE's use of its latents: its active units, and how well its loading space groups the
  stocks by sector (against the true loadings and chance);
- the nonlinearity statistic of `helpers.analysis.nonlinearity`, which needs no truth.
`run_conditional_study` trains the same markets' VAEs given each day's true regime and
reads, per regime, the covariance and loadings they imply against the truth's.
All the markets' autoencoders are trained together as one ensemble, and all their VAEs as
another, through the one training loop; each member stops early on its own.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from tqdm.auto import tqdm

from helpers.analysis.covariance import PCAFactorCovariance
from helpers.analysis.embedding import pca_reconstruction, reconstruction_r2
from helpers.analysis.factors import (
    active_units,
    chance_purity,
    decoder_jacobian,
    factor_recovery,
    implied_covariance,
    knn_purity,
    one_hot,
    regime_readings,
)
from helpers.analysis.nonlinearity import nonlinearity_statistic
from helpers.analysis.scenarios import correlation_distance, generate, pca_generate
from helpers.data import chronological_split, load, make_windows
from helpers.data.truth import REGIMES, VARIANTS
from helpers.experiments.vae import VAEStageConfig
from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.models.ensemble import Ensemble
from helpers.models.vae import VAE, VAEConfig, gaussian_kl
from helpers.train import History, TrainConfig, adjusted, fit, progress_hidden
from helpers.validate import InputError, as_choice, as_count

# Each part of the nonlinearity alone, at the default strength (nonlinearity 1).
PARTS_ALONE = {
    "interaction alone": {"stress_beta": 1.0, "stress_style_loading": 1.0},
    "loading shift alone": {"interaction": 0.0},
}


@dataclass(frozen=True, kw_only=True)
class DialConfig:
    nonlinearities: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
    market_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    parts_alone: bool = True  # add each part of the nonlinearity alone at the default strength
    windows: bool = True  # also race a dense autoencoder against PCA on windows (False: the VAE only)
    variant: str = "default"  # the named simulator variant every market starts from (helpers.data.truth.VARIANTS)
    n_assets: int = 30
    n_days: int = 1260
    window: int = 5
    window_latent: int = 8  # the dense autoencoder's embedding, and PCA's components for windows
    latent_size: int = 4  # the VAE's latent factors, and PCA's components for the cross-section
    hidden_sizes: tuple[int, ...] = (64,)
    beta: float = 1.0  # the VAE's weight on its KL term
    implied_draws: int = 5000  # prior draws behind each VAE-implied covariance
    generated_days: int = 5000  # days drawn from each generator
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=300, batch_size=128, learning_rate=3e-3, patience=20, description="dial"))

    def __post_init__(self) -> None:
        if not self.nonlinearities or min(self.nonlinearities) < 0:
            raise InputError(f"nonlinearities={self.nonlinearities!r}; expected one or more numbers >= 0")
        if not self.market_seeds:
            raise InputError("market_seeds is empty; give at least one seed")
        for name in ("n_assets", "n_days", "window", "window_latent", "latent_size", "implied_draws",
                     "generated_days"):
            object.__setattr__(self, name, as_count(getattr(self, name), name))
        as_choice(self.variant, "variant", VARIANTS)

    def markets(self) -> list[tuple[str, float, int, dict]]:
        """(setting, nonlinearity, seed, other simulator settings) of every market."""
        settings = [(f"nonlinearity {value:g}", float(value), {}) for value in self.nonlinearities]
        if self.parts_alone:
            settings += [(name, 1.0, changes) for name, changes in PARTS_ALONE.items()]
        return [(label, value, seed, changes) for label, value, changes in settings for seed in self.market_seeds]


@dataclass(frozen=True)
class DialResult:
    table: pd.DataFrame  # one row per market: setting, nonlinearity, seed, and each score
    seconds: float  # wall time of the whole dial
    models_trained: int  # networks trained (both ensembles)
    histories: dict[str, History]  # "VAE" and, with windows, "dense autoencoder": the ensembles' records


def run_dial(config: DialConfig = DialConfig()) -> DialResult:
    start = time.perf_counter()
    quiet = progress_hidden(config.train)
    markets = [prepare_market(config, *market) for market in tqdm(config.markets(), desc="simulating", disable=quiet)]
    histories = {}
    autoencoders = [None] * len(markets)
    if config.windows:
        autoencoders, histories["dense autoencoder"] = train_ensemble(
            [DenseAEConfig(n_inputs=config.window * config.n_assets, latent_size=config.window_latent,
                           hidden_sizes=config.hidden_sizes)] * len(markets),
            DenseAutoencoder, [m["windows"] for m in markets], [m["seed"] for m in markets], config.train)
    vaes, histories["VAE"] = train_ensemble(
        [VAEConfig(n_inputs=config.n_assets, latent_size=config.latent_size,
                   hidden_sizes=config.hidden_sizes, beta=config.beta)] * len(markets),
        VAE, [m["days"] for m in markets], [m["seed"] for m in markets], config.train)
    rows = [_score(config, market, autoencoder, vae)
            for market, autoencoder, vae in tqdm(zip(markets, autoencoders, vaes, strict=True), desc="scoring",
                                                 total=len(markets), disable=quiet)]
    return DialResult(pd.DataFrame(rows), time.perf_counter() - start, len(histories) * len(markets), histories)


def prepare_market(config: DialConfig, setting: str, nonlinearity: float, seed: int, changes: dict) -> dict:
    market = load("synthetic", n_assets=config.n_assets, n_days=config.n_days, seed=seed, variant=config.variant,
                  nonlinearity=nonlinearity, **changes)
    splits = chronological_split(market.returns.index)
    windows = make_windows(market.returns, config.window, splits)
    standardized = windows.standardized
    days = {name: standardized.loc[getattr(splits, name)].to_numpy(np.float32, copy=True)
            for name in ("train", "validation", "test")}
    return {"setting": setting, "nonlinearity": nonlinearity, "seed": seed, "market": market, "splits": splits,
            "windows": {name: windows.inputs[name].astype(np.float32) for name in days},
            "days": days, "scale": windows.scaler.scale_, "center": windows.scaler.mean_}


def run_conditional_study(config: DialConfig) -> DialResult:
    """Each market's VAE given the day's true regime (calm or stress) as a condition on both
    sides, all trained together: one row per market with `regime_readings` on its test
    days, each column suffixed by the regime."""
    if config.windows or config.parts_alone:
        raise InputError("the conditional study trains VAEs on the markets of one setting; give a config with "
                         "windows=False and parts_alone=False (as vae_market_study makes)")
    start = time.perf_counter()
    quiet = progress_hidden(config.train)
    markets = [prepare_market(config, *market) for market in tqdm(config.markets(), desc="simulating", disable=quiet)]
    for market in markets:
        regimes = market["market"].truth.regimes
        market["conditioned"] = {name: (days, one_hot(regimes.loc[getattr(market["splits"], name)], len(REGIMES)))
                                 for name, days in market["days"].items()}
    vae_config = VAEConfig(n_inputs=config.n_assets, latent_size=config.latent_size,
                           hidden_sizes=config.hidden_sizes, beta=config.beta, condition_size=len(REGIMES))
    cvaes, history = train_ensemble([vae_config] * len(markets), VAE, [m["conditioned"] for m in markets],
                                    [m["seed"] for m in markets], config.train)
    rows = [{"setting": market["setting"], "nonlinearity": market["nonlinearity"], "seed": market["seed"],
             **_regime_scores(config, market, cvae)}
            for market, cvae in tqdm(zip(markets, cvaes, strict=True), desc="scoring", total=len(markets),
                                     disable=quiet)]
    return DialResult(pd.DataFrame(rows), time.perf_counter() - start, len(markets), {"conditional VAE": history})


def _regime_scores(config: DialConfig, market: dict, cvae: VAE) -> dict:
    splits, conditioned = market["splits"], market["conditioned"]
    with torch.no_grad():
        train = cvae(*map(torch.from_numpy, conditioned["train"]))
        test_means = cvae(*map(torch.from_numpy, conditioned["test"])).mean.numpy()
    residual = ((conditioned["train"][0] - train.reconstruction.numpy()) ** 2).mean(axis=0) * market["scale"] ** 2
    table = regime_readings(cvae, market["market"].truth, pd.DataFrame(test_means, index=splits.test), splits.test,
                         market["scale"], residual, config.implied_draws, seed=market["seed"])
    return {f"{column}, {regime}": value for regime, row in table.iterrows() for column, value in row.items()}


def train_ensemble(model_configs, model_type, data, seeds, train: TrainConfig):
    """Every market's model of one type trained together; each member starts from its market's
    seed. `data` holds each market's "train" and "validation" inputs: an array, or a tuple of
    arrays for a model of several inputs (a conditional VAE's days and conditions)."""
    members = []
    for model_config, seed in zip(model_configs, seeds, strict=True):
        torch.manual_seed(seed)
        members.append(model_type(model_config))
    ensemble = Ensemble(members)
    stacked = {name: _stacked([market[name] for market in data]) for name in ("train", "validation")}
    history = fit(ensemble, stacked["train"], stacked["validation"], train)
    ensemble.cpu()
    return [ensemble.member(number) for number in range(len(members))], history


def _stacked(inputs: list) -> tuple[np.ndarray, ...]:
    """The members' inputs with the member on the second axis, (rows, M, ...), for each input."""
    as_tuples = [part if isinstance(part, tuple) else (part,) for part in inputs]
    return tuple(np.stack(columns, axis=1) for columns in zip(*as_tuples, strict=True))


def _window_scores(config: DialConfig, windows: dict, autoencoder: DenseAutoencoder | None) -> dict:
    if autoencoder is None:
        return {}
    with torch.no_grad():
        ae_test = autoencoder(torch.from_numpy(windows["test"])).reconstruction.numpy()
    reference = windows["train"].mean(axis=0)
    window_pca = pca_reconstruction(windows["train"], windows["test"], config.window_latent)
    return {"window R2, dense AE": reconstruction_r2(windows["test"], ae_test, reference),
            "window R2, PCA": reconstruction_r2(windows["test"], window_pca, reference)}


def _score(config: DialConfig, market: dict, autoencoder: DenseAutoencoder | None, vae: VAE) -> dict:
    days, splits, truth = market["days"], market["splits"], market["market"].truth
    with torch.no_grad():
        vae_days = {name: vae(torch.from_numpy(values)) for name, values in days.items()}

    index = {name: getattr(splits, name) for name in days}
    factors = truth.factors
    every_day = np.concatenate([days[name] for name in days])
    every_date = index["train"].append([index["validation"], index["test"]])
    vae_means = pd.DataFrame(np.concatenate([vae_days[name].mean.numpy() for name in days]), index=every_date)
    pca = PCA(n_components=config.latent_size, svd_solver="full").fit(days["train"])
    pca_scores = pd.DataFrame(pca.transform(every_day), index=every_date)
    returns = market["market"].returns
    oracle = truth.gls_factors(returns.loc[every_date])

    train_returns = returns.loc[index["train"]]
    residual = ((days["train"] - vae_days["train"].reconstruction.numpy()) ** 2).mean(axis=0) * market["scale"] ** 2
    estimates = {
        "VAE": implied_covariance(vae, market["scale"], residual, config.implied_draws, seed=market["seed"]),
        "PCA": PCAFactorCovariance(config.latent_size).fit(train_returns).covariance_,
        "Ledoit-Wolf": LedoitWolf().fit(train_returns).covariance_,
    }
    true_covariances = truth.conditional_covariance(index["test"])

    recovered = {name: factor_recovery(latents, factors.loc[every_date], index["train"], index["test"])
                 for name, latents in (("VAE", vae_means), ("PCA", pca_scores), ("oracle", oracle))}

    return {
        "setting": market["setting"], "nonlinearity": market["nonlinearity"], "seed": market["seed"],
        **_window_scores(config, market["windows"], autoencoder),
        **{f"factor R2, {name}": float(values.mean()) for name, values in recovered.items()},
        **{f"factor R2, {name}, {factor}": float(value) for name, values in recovered.items()
           for factor, value in values.items()},
        **{f"covariance loss, {name}": stein_loss(estimate, true_covariances) for name, estimate in estimates.items()},
        **_generator_scores(config, market, vae),
        **_latent_use(vae_days["validation"], vae, vae_days["test"].mean.numpy(), market["market"]),
        "nonlinearity statistic": nonlinearity_statistic(returns, index["train"], index["test"], config.latent_size),
    }


def _latent_use(validation, vae: VAE, test_means: np.ndarray, market) -> dict:
    """How many latent units the VAE uses (mean KL on validation days above 0.01 nats), and
    whether stocks of a sector sit together in its loading space (each stock's 5 nearest
    neighbours by its decoder sensitivities on test days), beside the true loadings and chance."""
    sectors = market.assets["sector"].to_numpy()
    kl = gaussian_kl(validation.mean, validation.log_var).mean(dim=0).numpy()
    return {"active units": active_units(kl),
            "sector purity, VAE": knn_purity(decoder_jacobian(vae, test_means), sectors),
            "sector purity, true loadings": knn_purity(market.truth.loadings["calm"].to_numpy(), sectors),
            "sector purity, chance": chance_purity(sectors)}


def _generator_scores(config: DialConfig, market: dict, vae: VAE) -> dict:
    returns, splits = market["market"].returns, market["splits"]
    test_days = returns.loc[splits.test].to_numpy()
    drawn = {
        "VAE": generate(vae, config.generated_days, market["scale"], market["center"], seed=market["seed"]),
        "PCA": pca_generate(market["days"]["train"], config.latent_size, config.generated_days, market["scale"],
                            market["center"], seed=market["seed"]),
        "training days": returns.loc[splits.train].to_numpy(),
    }
    return {f"correlation distance, {name}": correlation_distance(days, test_days) for name, days in drawn.items()}


def vae_market_study(*, markets: int, seed: int, variant: str, n_assets: int, n_days: int, latent_size: int,
                     hidden_sizes, beta: float, epochs: int | None = None, patience: int | None = None) -> DialConfig:
    """The book's VAE (trained as `book_vae_config` trains it) repeated on `markets` markets of
    one setting and size (market seeds seed, seed + 1, ...), one VAE each: one function, so
    Chapters 4 and 9 share one cache entry."""
    return DialConfig(
        nonlinearities=(VARIANTS[as_choice(variant, "variant", VARIANTS)].get("nonlinearity", 1.0),),
        parts_alone=False, windows=False,
        market_seeds=tuple(range(seed, seed + as_count(markets, "markets"))), variant=variant, n_assets=n_assets,
        n_days=n_days, latent_size=latent_size, hidden_sizes=tuple(hidden_sizes), beta=beta,
        train=adjusted(VAEStageConfig().train, epochs=epochs, patience=patience, seed=seed,
                       description="VAE, one per market"))


def stein_loss(estimate: np.ndarray, truths: np.ndarray) -> float:
    """Mean over days of Stein's loss tr(S^-1 C) - log det(S^-1 C) - N of an estimate S
    against each day's true covariance C: zero only when S = C, and it punishes an
    estimate that understates a risk more than one that overstates it."""
    solved = np.linalg.solve(estimate, truths)  # (D, N, N): S^-1 C for each day
    _, log_det = np.linalg.slogdet(solved)
    return float(np.mean(np.trace(solved, axis1=1, axis2=2) - log_det - estimate.shape[0]))
