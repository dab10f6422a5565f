"""Reading a VAE as a factor model: recovery of known factors, active units, loadings,
sector structure, regime labels and implied covariances."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import NearestNeighbors

from helpers.analysis.metrics import mean_correlation
from helpers.data.truth import REGIMES, SyntheticTruth
from helpers.models.vae import VAE
from helpers.validate import InputError


def factor_recovery(latents: pd.DataFrame, factors: pd.DataFrame, train_days, test_days) -> pd.Series:
    """Held-out R^2 of each true factor regressed on the latent means: the regression is
    fit on training days and scored on test days, so any rotation or scaling of the
    latent space is allowed but nothing is fit on the days that are scored."""
    scores = {}
    for name in factors.columns:
        model = LinearRegression().fit(latents.loc[train_days], factors.loc[train_days, name])
        scores[name] = model.score(latents.loc[test_days], factors.loc[test_days, name])
    return pd.Series(scores, name="held-out R2")


def max_abs_correlation(latents: pd.DataFrame, series: pd.Series) -> float:
    """The strongest absolute correlation of any latent dimension with a series."""
    joined = latents.join(series.rename("__series"), how="inner").dropna()
    return float(joined.corr()["__series"].drop("__series").abs().max())


def active_units(kl_per_dimension: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose mean KL (nats) exceeds `threshold`: those the model uses."""
    return int((np.asarray(kl_per_dimension) > threshold).sum())


def decoder_jacobian(model: VAE, latents: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
    """Mean sensitivity of each decoded return to each latent factor, d x_hat / d z,
    averaged over the given latent points: the loadings of the nonlinear model (N, L)."""
    z = torch.from_numpy(np.array(latents, dtype=np.float32))
    if condition is None:
        jacobians = torch.func.vmap(torch.func.jacrev(lambda zi: model.decode(zi[None])[0]))(z)
    else:
        c = torch.as_tensor(condition, dtype=torch.float32)
        jacobians = torch.func.vmap(torch.func.jacrev(lambda zi, ci: model.decode(zi[None], ci[None])[0]))(z, c)
    return jacobians.mean(dim=0).detach().numpy()  # (N, L)


def knn_purity(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest neighbours that carry its label, averaged."""
    labels = np.asarray(labels)
    if not 1 <= k < len(points):
        raise InputError(f"k={k!r}; expected 1 <= k < {len(points)} points")
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return float((labels[neighbours[:, 1:]] == labels[:, None]).mean())


def chance_purity(labels: np.ndarray) -> float:
    """The purity a random arrangement gives: the chance that another point shares a label."""
    counts = pd.Series(labels).value_counts().to_numpy()
    return float(((counts * (counts - 1)).sum()) / (len(labels) * (len(labels) - 1)))


def trend_volatility_label(benchmark: pd.Series, train_days, window: int = 63) -> pd.Series:
    """A causal regime label from the benchmark: trailing `window`-day return up or down,
    and trailing volatility above or below its median over the training days.

    Labels: 0 up-calm, 1 up-volatile, 2 down-calm, 3 down-volatile. Days without a full
    trailing window are missing.
    """
    returns = np.log(benchmark).diff()
    trend = returns.rolling(window).sum()
    volatility = returns.rolling(window).std()
    threshold = volatility.loc[volatility.index.intersection(train_days)].median()
    label = 2 * (trend < 0).astype(int) + (volatility > threshold).astype(int)
    return label.where(trend.notna() & volatility.notna()).rename("trend_volatility")


TREND_VOLATILITY_NAMES = ("up, calm", "up, volatile", "down, calm", "down, volatile")


def one_hot(labels: pd.Series, n_classes: int) -> np.ndarray:
    values = labels.to_numpy()
    if np.isnan(values.astype(float)).any():
        raise InputError("labels have missing values; drop those days before encoding")
    return np.eye(n_classes, dtype=np.float32)[values.astype(int)]


@torch.no_grad()
def implied_covariance(
    model: VAE,
    scale: np.ndarray,
    residual_variance: np.ndarray,
    n_samples: int = 20_000,
    condition: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Covariance of returns implied by the generative model, in return units.

    The systematic part is the covariance of decoded prior draws z ~ N(0, I), de-standardized
    by each asset's training scale; `residual_variance` (per asset, in return units) is the
    idiosyncratic part the decoder does not model. Without it a minimum-variance optimizer
    would treat the decoder's low-rank covariance as the whole risk.
    """
    generator = torch.Generator().manual_seed(seed)
    cond = None if condition is None else torch.as_tensor(condition, dtype=torch.float32)
    draws = model.sample(n_samples, cond, generator=generator).numpy() * scale  # (n, N)
    return np.cov(draws.T) + np.diag(residual_variance)


def regime_readings(
    model: VAE,
    truth: SyntheticTruth,
    means: pd.DataFrame,
    days,
    scale: np.ndarray,
    residual_variance: np.ndarray,
    n_samples: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per true regime, a VAE conditioned on the regime against the truth on the given days:
    the mean pairwise correlation its covariance implies and the size of its loadings (the
    mean length of a stock's row of the decoder Jacobian at the regime's days, `means` being
    the posterior means by day), beside the true correlation and the true loadings' size
    with each factor scaled by its volatility (%). A regime with no day among `days` keeps
    its implied correlation and NaN for the rest."""
    rows = {}
    for number, name in enumerate(REGIMES):
        regime_days = truth.regimes.index[truth.regimes == number].intersection(days)
        condition = np.eye(len(REGIMES), dtype=np.float32)[number]
        implied = implied_covariance(model, scale, residual_variance, n_samples, condition=condition, seed=seed)
        row = {"days": len(regime_days), "CVAE loading size": np.nan, "true loading size (x factor vol, %)": np.nan,
               "CVAE mean correlation": mean_correlation(implied), "true mean correlation": np.nan}
        if len(regime_days):
            jacobian = decoder_jacobian(model, means.loc[regime_days].to_numpy(),
                                        np.tile(condition, (len(regime_days), 1)))
            true_loadings = truth.loadings[name].to_numpy() * truth.factor_vol.loc[regime_days].mean().to_numpy()
            true_size = 100 * float(np.linalg.norm(true_loadings, axis=1).mean())
            true_covariance = truth.conditional_covariance(regime_days).mean(axis=0)
            row.update({"CVAE loading size": float(np.linalg.norm(jacobian, axis=1).mean()),
                        "true loading size (x factor vol, %)": true_size,
                        "true mean correlation": mean_correlation(true_covariance)})
        rows[name] = row
    return pd.DataFrame(rows).T
