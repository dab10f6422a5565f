"""Monthly asset characteristics and the betas they set, for the characteristics variants of
the synthetic market (the conditional autoencoder's setting: betas that move with what is
observed of each asset, as in Gu, Kelly and Xiu's model and Kelly, Pruitt and Su's IPCA).

Each asset's characteristics follow a persistent monthly AR(1), are observed at each month's
end as cross-sectional ranks scaled to [-1, 1], and set the asset's betas for the next
month: beta_{i,m} = beta_0 + Gamma' h(c_{i,m-1}). With the `linear` map h(c) = c, a linear
model of the characteristics (IPCA) can represent the betas exactly; the `nonlinear` map
replaces each characteristic by an interaction, a V shape or a threshold of them, with the
same cross-sectional variance, which it cannot.
"""
from __future__ import annotations

import numpy as np

from helpers.data.truth import MARKET

MARKET_BETA_SCALE = 0.5  # the characteristics move market betas half as much as the others


def rank_scale(values: np.ndarray) -> np.ndarray:
    """Cross-sectional ranks of (months, assets, characteristics) scaled to [-1, 1]: the
    transform GKX and IPCA apply, so that no outlier drives a beta."""
    ranks = values.argsort(axis=1).argsort(axis=1).astype(float)  # 0 .. N-1 within each month
    return 2 * ranks / (values.shape[1] - 1) - 1


def beta_features(characteristics: np.ndarray, beta_map: str) -> np.ndarray:
    """h(c) of the module docstring: (..., L) -> (..., L), each column of variance about 1/3
    when c is uniform on [-1, 1], as the characteristics are."""
    if beta_map == "linear":
        return characteristics
    c = [characteristics[..., column] for column in range(characteristics.shape[-1])]
    following = c[1:] + c[:1]  # each characteristic's neighbour, for the interactions
    features = []
    for column, (own, other) in enumerate(zip(c, following, strict=True)):
        if column % 3 == 0:
            features.append(np.sqrt(3) * own * other)  # interaction: var(c c') = 1/9
        elif column % 3 == 1:
            features.append(2 * np.abs(own) - 1)  # V shape: |c| is uniform on [0, 1]
        else:
            features.append(np.sign(own) / np.sqrt(3))  # threshold at the median
    return np.stack(features, axis=-1)


def simulate_characteristics(n_months: int, n_assets: int, n_characteristics: int, n_factors: int,
                             persistence: float, beta_map: str, rng: np.random.Generator):
    """Characteristics observed at the end of each month, one month before the first, and
    the betas they set for each month.

    Returns (characteristics (months + 1, N, L), with row 0 the month before the sample;
    betas (months, N, K), where betas[m] comes from characteristics[m], the previous month's
    end; gamma (L, K))."""
    latent = np.empty((n_months + 1, n_assets, n_characteristics))
    latent[0] = rng.standard_normal((n_assets, n_characteristics))
    innovation = np.sqrt(1 - persistence**2)
    for month in range(1, n_months + 1):
        latent[month] = persistence * latent[month - 1] + innovation * rng.standard_normal(
            (n_assets, n_characteristics))
    characteristics = rank_scale(latent)
    gamma = rng.normal(0.0, 0.45, (n_characteristics, n_factors))
    gamma[:, MARKET] *= MARKET_BETA_SCALE
    base = np.zeros(n_factors)
    base[MARKET] = 1.0
    betas = base + beta_features(characteristics[:-1], beta_map) @ gamma  # (months, N, K)
    return characteristics, betas, gamma
