"""Scenarios from a VAE: prior draws, latent interpolation, rare-event augmentation, risk."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

from helpers.models.vae import VAE
from helpers.validate import InputError, as_count, as_number


@torch.no_grad()
def generate(model: VAE, n: int, scale: np.ndarray, center: np.ndarray, condition=None, seed: int = 0) -> np.ndarray:
    """n days drawn from the prior, decoded and de-standardized to returns (n, N)."""
    generator = torch.Generator().manual_seed(seed)
    cond = None if condition is None else torch.as_tensor(condition, dtype=torch.float32)
    return model.sample(n, cond, generator=generator).numpy() * scale + center


def pca_generate(standardized_train, n_components: int, n: int, scale: np.ndarray, center: np.ndarray,
                 seed: int = 0) -> np.ndarray:
    """n days drawn from probabilistic PCA of the standardized training days (a Gaussian with
    the top components' covariance plus isotropic noise for the rest), de-standardized: the
    linear generator a VAE's prior draws should beat."""
    model = PCA(n_components).fit(np.asarray(standardized_train, dtype=float))
    draws = np.random.default_rng(seed).multivariate_normal(model.mean_, model.get_covariance(), size=n)
    return draws * scale + center


@torch.no_grad()
def augment_around(
    model: VAE, standardized_days: np.ndarray, per_day: int, scale: np.ndarray, center: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Draw `per_day` latent points from each day's posterior, decode, de-standardize.

    New scenarios that resemble the given days (say, the worst of the training period)
    without repeating them: rare-event augmentation.
    """
    generator = torch.Generator().manual_seed(seed)
    mean, log_var = model.encode(torch.from_numpy(np.array(standardized_days, dtype=np.float32)))
    mean, std = mean.repeat_interleave(per_day, dim=0), torch.exp(0.5 * log_var).repeat_interleave(per_day, dim=0)
    z = mean + std * torch.randn(mean.shape, generator=generator)
    return model.decode(z).numpy() * scale + center


def interpolate(start: np.ndarray, end: np.ndarray, steps: int) -> np.ndarray:
    """Points on the straight latent line from start to end, both included (steps, L)."""
    if steps < 2:
        raise InputError(f"steps={steps!r}; expected at least 2")
    weights = np.linspace(0, 1, steps)[:, None]
    return (1 - weights) * np.asarray(start)[None] + weights * np.asarray(end)[None]


def value_at_risk(returns: np.ndarray, level: float = 0.99) -> float:
    """The loss exceeded with probability 1 - level, as a positive number."""
    if not 0.5 < level < 1:
        raise InputError(f"level={level!r}; expected a confidence level in (0.5, 1)")
    return float(-np.quantile(np.asarray(returns), 1 - level))


def expected_shortfall(returns: np.ndarray, level: float = 0.99) -> float:
    """The mean loss beyond the value at risk, as a positive number."""
    returns = np.asarray(returns)
    threshold = np.quantile(returns, 1 - level)
    return float(-returns[returns <= threshold].mean())


def tail_risk_intervals(
    sets: dict[str, np.ndarray], level: float = 0.99, confidence: float = 0.95, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Value at risk and expected shortfall of each set of portfolio returns, with bootstrap
    intervals, and each other set's shortfall minus the first set's with a paired interval
    (missing for the first set, which has nothing to be compared with).

    Each set is (days, draws): the scenarios drawn around each of the same days, one column
    where the day is its own scenario. A resample picks days with replacement and keeps all
    of a day's draws, the same days for every set, so draws around one day, which are not
    independent, count as one observation and the differences are paired. A 99% tail of a few
    hundred days rests on a handful of them: the interval says how little that is."""
    confidence = as_number(confidence, "confidence", 0, 1, open_low=True, open_high=True)
    arrays = {name: np.asarray(values, dtype=float).reshape(len(values), -1) for name, values in sets.items()}
    lengths = {name: len(values) for name, values in arrays.items()}
    if not arrays or len(set(lengths.values())) != 1 or min(lengths.values()) < 2:
        raise InputError(f"sets of {lengths} days; expected at least one set, all on the same two or more days")
    picks = np.random.default_rng(seed).integers(0, min(lengths.values()), size=(as_count(n_boot, "n_boot"),
                                                                                  min(lengths.values())))

    def risks(values: np.ndarray) -> tuple[float, float]:
        return value_at_risk(values.ravel(), level), expected_shortfall(values.ravel(), level)

    estimates = {name: risks(values) for name, values in arrays.items()}
    draws = {name: np.array([risks(values[rows]) for rows in picks]) for name, values in arrays.items()}  # (n_boot, 2)
    reference = next(iter(arrays))
    tail = (1 - confidence) / 2
    rows = {}
    for name in arrays:
        low, high = np.quantile(draws[name], [tail, 1 - tail], axis=0)
        rows[name] = {"VaR": estimates[name][0], "VaR low": low[0], "VaR high": high[0],
                      "ES": estimates[name][1], "ES low": low[1], "ES high": high[1],
                      "ES difference": np.nan, "difference low": np.nan, "difference high": np.nan}
        if name != reference:
            gap = draws[name][:, 1] - draws[reference][:, 1]
            rows[name].update({"ES difference": estimates[name][1] - estimates[reference][1],
                               "difference low": np.quantile(gap, tail), "difference high": np.quantile(gap, 1 - tail)})
    return pd.DataFrame(rows).T


def correlation_distance(returns_a: np.ndarray, returns_b: np.ndarray) -> float:
    """Frobenius distance between two correlation matrices, over the off-diagonal entries,
    relative to the norm of the second one's off-diagonal: 0 is identical."""
    a, b = np.corrcoef(np.asarray(returns_a).T), np.corrcoef(np.asarray(returns_b).T)
    off = ~np.eye(len(a), dtype=bool)
    return float(np.linalg.norm(a[off] - b[off]) / np.linalg.norm(b[off]))


def day_anomaly_score(recon_error, kl, kl_weight: float = 1.0):
    """Per-day score: summed squared reconstruction error plus a weighted KL term."""
    return recon_error.sum(axis=1) + kl_weight * kl.sum(axis=1)
