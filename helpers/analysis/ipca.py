"""Instrumented PCA (Kelly, Pruitt and Su, 2019): the linear case of the conditional
autoencoder, and its baseline.

Each asset's betas are a linear map of its lagged characteristics, beta_{i,t} = Gamma' c_{i,t},
and the factors f_t are whatever best explains the month's cross-section given those betas:

    r_{i,t} = c_{i,t}' Gamma f_t + e_{i,t}.

Fitted by alternating least squares: given Gamma, each month's factors are a cross-sectional
regression of its returns on the betas; given the factors, Gamma is one pooled regression of
returns on the Kronecker products c_{i,t} (x) f_t. The PyPI package `ipca` fits the same model
and agrees on a planted case, but compiles with numba for about 15 s in every new kernel and
prints each iteration; these few lines of numpy fit a book-sized panel in well under a second.
"""
from __future__ import annotations

import numpy as np

from helpers.validate import InputError, as_count


def check_panel(characteristics, returns=None) -> tuple[np.ndarray, np.ndarray | None]:
    """(months, assets, characteristics) and (months, assets) arrays, complete and aligned."""
    characteristics = np.asarray(characteristics, dtype=float)
    if characteristics.ndim != 3 or not np.isfinite(characteristics).all():
        raise InputError(f"characteristics of shape {characteristics.shape}; expected a complete (months, assets, "
                         "characteristics) array without NaN")
    if returns is None:
        return characteristics, None
    returns = np.asarray(returns, dtype=float)
    if returns.shape != characteristics.shape[:2] or not np.isfinite(returns).all():
        raise InputError(f"returns of shape {returns.shape}; expected a complete (months, assets) array of shape "
                         f"{characteristics.shape[:2]}, one return per asset and month of the characteristics")
    return characteristics, returns


def cross_sectional_factors(betas: np.ndarray, returns: np.ndarray) -> np.ndarray:
    """Each month's factors: the least-squares regression of its returns on its betas.
    betas (M, N, K), returns (M, N) -> (M, K)."""
    gram = np.einsum("mnk,mnj->mkj", betas, betas)  # (M, K, K)
    moments = np.einsum("mnk,mn->mk", betas, returns)  # (M, K)
    return np.linalg.solve(gram, moments[..., None])[..., 0]


class IPCA:
    """Parameters in `__init__`, `fit` returns self, fitted attributes end in `_`:
    `gamma_` (L, K), `factors_` (training months, K), `factor_mean_` (K,), `n_iter_`.

    Normalized as Kelly, Pruitt and Su do: Gamma' Gamma = I, the factors' second moments
    diagonal and decreasing, each factor's mean positive."""

    def __init__(self, n_factors: int = 1, max_iter: int = 1000, tol: float = 1e-9):
        self.n_factors = n_factors
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, characteristics, returns) -> IPCA:
        characteristics, returns = check_panel(characteristics, returns)
        k = as_count(self.n_factors, "n_factors")
        n_characteristics = characteristics.shape[2]
        if k > n_characteristics:
            raise InputError(f"n_factors={k}; expected at most the {n_characteristics} characteristics")
        managed = np.einsum("mnl,mn->ml", characteristics, returns)  # characteristic-managed portfolios
        gamma = np.linalg.svd(managed, full_matrices=False)[2][:k].T  # (L, K): their first principal axes
        grams = np.einsum("mnl,mnj->mlj", characteristics, characteristics)  # (M, L, L)
        max_iter, iteration, change = as_count(self.max_iter, "max_iter"), 0, np.inf
        while change >= self.tol and iteration < max_iter:
            factors = cross_sectional_factors(characteristics @ gamma, returns)  # (M, K)
            system = np.einsum("mlj,mk,mi->lkji", grams, factors, factors).reshape(n_characteristics * k, -1)
            target = np.einsum("ml,mk->lk", managed, factors).reshape(-1)
            updated = self._normalized(np.linalg.solve(system, target).reshape(n_characteristics, k), factors)
            change, gamma, iteration = np.abs(updated - gamma).max(), updated, iteration + 1
        self.gamma_, self.n_iter_ = gamma, iteration
        self.factors_ = cross_sectional_factors(characteristics @ gamma, returns)
        self.factor_mean_ = self.factors_.mean(axis=0)
        return self

    @staticmethod
    def _normalized(gamma: np.ndarray, factors: np.ndarray) -> np.ndarray:
        """Gamma of the same fit rotated: orthonormal, its factors uncorrelated, by decreasing size,
        with positive means."""
        left, scale, right = np.linalg.svd(gamma, full_matrices=False)
        factors = factors @ (right.T * scale)  # gamma f = left (scale right f)
        moments, rotation = np.linalg.eigh(factors.T @ factors / len(factors))
        rotation = rotation[:, np.argsort(moments)[::-1]]
        gamma, factors = left @ rotation, factors @ rotation
        return gamma * np.where(factors.mean(axis=0) < 0, -1.0, 1.0)

    def betas(self, characteristics) -> np.ndarray:
        """(months, assets, K): the betas the characteristics set."""
        characteristics, _ = check_panel(characteristics)
        return characteristics @ self.gamma_

    def fitted(self, characteristics, returns) -> np.ndarray:
        """beta' f_t with each month's factors read off its own returns: the fit that total R2 scores."""
        characteristics, returns = check_panel(characteristics, returns)
        betas = self.betas(characteristics)
        return np.einsum("mnk,mk->mn", betas, cross_sectional_factors(betas, returns))

    def predicted(self, characteristics) -> np.ndarray:
        """beta' lambda, with lambda the training months' mean factor: what predictive R2 scores."""
        return self.betas(characteristics) @ self.factor_mean_
