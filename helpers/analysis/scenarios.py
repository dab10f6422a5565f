"""Scenarios from a VAE: prior draws, latent interpolation, rare-event augmentation, risk."""
from __future__ import annotations

import numpy as np
import torch

from helpers.models.vae import VAE
from helpers.validate import InputError


@torch.no_grad()
def generate(model: VAE, n: int, scale: np.ndarray, center: np.ndarray, condition=None, seed: int = 0) -> np.ndarray:
    """n days drawn from the prior, decoded and de-standardized to returns (n, N)."""
    generator = torch.Generator().manual_seed(seed)
    cond = None if condition is None else torch.as_tensor(condition, dtype=torch.float32)
    return model.sample(n, cond, generator=generator).numpy() * scale + center


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


def correlation_distance(returns_a: np.ndarray, returns_b: np.ndarray) -> float:
    """Frobenius distance between two correlation matrices, over the off-diagonal entries,
    relative to the norm of the second one's off-diagonal: 0 is identical."""
    a, b = np.corrcoef(np.asarray(returns_a).T), np.corrcoef(np.asarray(returns_b).T)
    off = ~np.eye(len(a), dtype=bool)
    return float(np.linalg.norm(a[off] - b[off]) / np.linalg.norm(b[off]))


def day_anomaly_score(recon_error, kl, kl_weight: float = 1.0):
    """Per-day score: summed squared reconstruction error plus a weighted KL term."""
    return recon_error.sum(axis=1) + kl_weight * kl.sum(axis=1)
