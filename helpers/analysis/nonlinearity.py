"""How nonlinear a panel of returns is, measured from the panel alone, so that a simulated
market and a real one can be placed on the same scale.

The statistic is the share of held-out variance that a flexible regression of each asset's
returns on the panel's linear factors explains beyond the linear regression on the same
factors. The factors are the first principal components of the training days; the
flexible regression adds their squares and pairwise products (an interaction such as the
simulator's market-times-rates term is one of them) and the factors times the previous
day's trailing volatility (loadings that move with the volatility regime). Both are fit by
least squares on the training days and scored on the test days, pooled over assets. Zero
means the factors' linear span explains all that the nonlinear terms could; a negative
value means the extra terms only fit noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from helpers.data.windows import fit_standardizer
from helpers.validate import InputError, as_count, check_finite_frame

VOLATILITY_DAYS = 21  # trailing days of the first factor's volatility that stand for the regime


def nonlinearity_statistic(returns: pd.DataFrame, train_days: pd.DatetimeIndex, test_days: pd.DatetimeIndex,
                           n_factors: int = 4) -> float:
    """Held-out R^2 of the flexible regression minus that of the linear one (see the module)."""
    check_finite_frame(returns, "returns")
    n_factors = as_count(n_factors, "n_factors")
    if n_factors >= returns.shape[1]:
        raise InputError(f"n_factors={n_factors}; expected fewer factors than the {returns.shape[1]} assets")
    design_linear, design_flexible, targets = _designs(returns, pd.DatetimeIndex(train_days), n_factors)
    train = targets.index.intersection(train_days)
    test = targets.index.intersection(test_days)
    if len(train) <= design_flexible.shape[1] or not len(test):
        raise InputError(f"{len(train)} training and {len(test)} test days with a trailing volatility; "
                         f"the flexible regression needs more than {design_flexible.shape[1]} training days")
    return _held_out_r2(design_flexible, targets, train, test) - _held_out_r2(design_linear, targets, train, test)


def _designs(returns: pd.DataFrame, train_days: pd.DatetimeIndex, n_factors: int):
    standardized = fit_standardizer(returns, train_days).transform(returns)
    training = standardized.loc[standardized.index.intersection(train_days)]
    pca = PCA(n_components=n_factors, svd_solver="full").fit(training)
    factors = pd.DataFrame(pca.transform(standardized), index=standardized.index)  # (T, k)
    volatility = factors[0].rolling(VOLATILITY_DAYS).std().shift(1)  # known the day before
    usable = volatility.notna()
    volatility = volatility[usable]
    train_volatility = volatility.loc[volatility.index.intersection(train_days)]
    state = (volatility - train_volatility.mean()) / train_volatility.std()
    f = factors[usable].to_numpy()
    pairs = [f[:, i] * f[:, j] for i in range(n_factors) for j in range(i, n_factors)]
    linear = np.column_stack([np.ones(len(f)), f])
    flexible = np.column_stack([linear, *pairs, f * state.to_numpy()[:, None]])
    index = factors.index[usable]
    return (pd.DataFrame(linear, index=index), pd.DataFrame(flexible, index=index), standardized[usable])


def _held_out_r2(design: pd.DataFrame, targets: pd.DataFrame, train, test) -> float:
    coefficients, *_ = np.linalg.lstsq(design.loc[train].to_numpy(), targets.loc[train].to_numpy(), rcond=None)
    residual = targets.loc[test].to_numpy() - design.loc[test].to_numpy() @ coefficients
    return float(1 - (residual**2).sum() / (targets.loc[test].to_numpy() ** 2).sum())
