"""Covariance matrices and the portfolios built on them."""
from __future__ import annotations

import numpy as np


def minimum_variance_weights(covariance: np.ndarray) -> np.ndarray:
    """Global minimum-variance weights, w proportional to inverse(covariance) times ones,
    summing to one (short positions allowed)."""
    covariance = np.asarray(covariance, dtype=float)
    if covariance.ndim != 2 or covariance.shape[0] != covariance.shape[1]:
        raise ValueError(f"covariance of shape {covariance.shape}; expected a square matrix")
    raw = np.linalg.solve(covariance, np.ones(len(covariance)))
    return raw / raw.sum()
