"""How well a factor model prices a panel of monthly returns, and the models the conditional
autoencoder is graded against besides IPCA (helpers.analysis.ipca).

Gu, Kelly and Xiu's two measures, over the months and assets scored:

    total R2      = 1 - sum (r - beta' f_t)^2    / sum r^2   (the month's own factors)
    predictive R2 = 1 - sum (r - beta' lambda)^2 / sum r^2   (lambda: the training months' mean factor)

Total R2 asks whether the betas span the month's co-movement; predictive R2 whether they
explain expected returns. Neither demeans: a model is compared with predicting zero.
Every model here has the same three calls: `fit(characteristics, returns)` on training
months, `fitted(characteristics, returns)` and `predicted(characteristics)` on any months.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.analysis.bootstrap import bootstrap_differences, bootstrap_intervals
from helpers.analysis.ipca import check_panel, cross_sectional_factors
from helpers.validate import InputError, as_count


def r2(returns: np.ndarray, fit: np.ndarray) -> float:
    """1 - sum of squared errors over the sum of squared returns, over every month and asset."""
    returns, fit = np.asarray(returns, dtype=float), np.asarray(fit, dtype=float)
    if returns.shape != fit.shape:
        raise InputError(f"a fit of shape {fit.shape} for returns of shape {returns.shape}; expected the same shape")
    return float(1 - ((returns - fit) ** 2).sum() / (returns**2).sum())


def r2_intervals(returns: np.ndarray, fits: dict[str, np.ndarray], reference: str, block: int = 3,
                 n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Each model's R2 with a bootstrap interval over months, and its R2 minus `reference`'s
    with a paired interval: a resample draws months (in blocks of `block`), the same months
    for every model. Columns (R2 | minus reference) x (estimate, low, high)."""
    returns = np.asarray(returns, dtype=float)
    errors = {name: ((returns - np.asarray(fit, dtype=float)) ** 2).sum(axis=1) for name, fit in fits.items()}
    monthly = pd.DataFrame(errors | {"sum of squared returns": (returns**2).sum(axis=1)})  # (months, models + 1)

    def r2_of_columns(values: np.ndarray) -> np.ndarray:
        return 1 - values.sum(axis=0) / values[:, -1].sum()

    levels = bootstrap_intervals(monthly, r2_of_columns, block, n_boot, seed=seed)
    gaps = bootstrap_differences(monthly, r2_of_columns, reference, block, n_boot, seed=seed)
    return pd.concat({"R2": levels, f"minus {reference}": gaps}, axis=1).drop(index="sum of squared returns")


class ReturnsPCA:
    """PCA of the training months' returns: constant loadings per asset, and each month's
    factors read off its returns by a cross-sectional regression on them. `loadings_`
    (N, K), `factor_mean_` (K,)."""

    def __init__(self, n_factors: int = 1):
        self.n_factors = n_factors

    def fit(self, characteristics, returns) -> ReturnsPCA:
        _, returns = check_panel(characteristics, returns)
        k = as_count(self.n_factors, "n_factors")
        if k > min(returns.shape):
            raise InputError(f"n_factors={k}; expected at most {min(returns.shape)}, the months or assets")
        self.loadings_ = np.linalg.svd(returns, full_matrices=False)[2][:k].T  # uncentred, as R2 is
        self.factor_mean_ = self._factors(returns).mean(axis=0)
        return self

    def _factors(self, returns: np.ndarray) -> np.ndarray:
        return cross_sectional_factors(np.broadcast_to(self.loadings_, (len(returns), *self.loadings_.shape)),
                                       returns)

    def fitted(self, characteristics, returns) -> np.ndarray:
        _, returns = check_panel(characteristics, returns)
        return self._factors(returns) @ self.loadings_.T

    def predicted(self, characteristics) -> np.ndarray:
        characteristics, _ = check_panel(characteristics)
        return np.broadcast_to(self.loadings_ @ self.factor_mean_, characteristics.shape[:2]).copy()


def sorted_factors(characteristics: np.ndarray, returns: np.ndarray, columns: tuple[int, ...],
                   share: float = 1 / 3) -> np.ndarray:
    """Each month's equal-weight market return and, for each characteristic column, the
    return of its top `share` of assets minus its bottom `share`: (months, 1 + len(columns))."""
    n_assets = returns.shape[1]
    size = max(1, int(round(share * n_assets)))
    factors = [returns.mean(axis=1)]
    for column in columns:
        order = np.argsort(characteristics[..., column], axis=1)  # (months, assets), lowest first
        ranked = np.take_along_axis(returns, order, axis=1)
        factors.append(ranked[:, -size:].mean(axis=1) - ranked[:, :size].mean(axis=1))
    return np.stack(factors, axis=1)


class SortedFactorModel:
    """The characteristics-sorted factor model: the market and long-short portfolios on the
    `columns` characteristics as observed factors, and each asset's constant betas on them
    from a time-series regression over the training months. `betas_` (N, 1 + len(columns))."""

    def __init__(self, columns: tuple[int, ...] = (0, 1)):
        self.columns = columns

    def fit(self, characteristics, returns) -> SortedFactorModel:
        characteristics, returns = check_panel(characteristics, returns)
        factors = sorted_factors(characteristics, returns, tuple(self.columns))
        self.betas_ = np.linalg.lstsq(factors, returns, rcond=None)[0].T  # (N, F)
        self.factor_mean_ = factors.mean(axis=0)
        return self

    def fitted(self, characteristics, returns) -> np.ndarray:
        characteristics, returns = check_panel(characteristics, returns)
        return sorted_factors(characteristics, returns, tuple(self.columns)) @ self.betas_.T

    def predicted(self, characteristics) -> np.ndarray:
        characteristics, _ = check_panel(characteristics)
        return np.broadcast_to(self.betas_ @ self.factor_mean_, characteristics.shape[:2]).copy()
