"""Plain-numpy metrics of daily returns and covariances, one convention each: every other
module (backtests, bootstrap intervals, regime profiles, chapters) uses these.

Return metrics take daily simple returns, one column per series, and work on numpy arrays
so that the bootstrap can apply them to thousands of resamples at once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from helpers.data.calendar import TRADING_DAYS
from helpers.validate import InputError


def annualized_return(values: np.ndarray) -> np.ndarray:
    """Compound annual growth rate of daily simple returns, per column, in percent."""
    growth = np.log1p(values).sum(axis=0)
    return 100 * np.expm1(growth * TRADING_DAYS / len(values))


def annualized_volatility(values: np.ndarray) -> np.ndarray:
    """Annualized standard deviation of daily returns, per column, in percent."""
    return 100 * np.sqrt(TRADING_DAYS) * np.std(values, axis=0, ddof=1)


def sharpe_ratio(values: np.ndarray) -> np.ndarray:
    """Annualized mean over volatility of daily returns, per column (cash earns nothing)."""
    return np.sqrt(TRADING_DAYS) * values.mean(axis=0) / values.std(axis=0, ddof=1)


def worst_drawdown(values: np.ndarray) -> np.ndarray:
    """Worst peak-to-trough fall of the compounded path, per column, in percent (negative).
    The path starts at its initial value, so a fall from the start counts too."""
    path = np.cumsum(np.log1p(np.asarray(values, dtype=float)), axis=0)
    peak = np.maximum(np.maximum.accumulate(path, axis=0), 0.0)
    return 100 * np.expm1(path - peak).min(axis=0)


def calmar_ratio(values: np.ndarray) -> np.ndarray:
    return annualized_return(values) / np.abs(worst_drawdown(values))


def drawdown_curve(returns: pd.DataFrame) -> pd.DataFrame:
    """Each day's fall from the running peak of the compounded path, in percent."""
    wealth = (1 + returns).cumprod()
    return 100 * (wealth / np.maximum(wealth.cummax(), 1.0) - 1)


def check_covariance(covariance: np.ndarray) -> np.ndarray:
    covariance = np.asarray(covariance, dtype=float)
    if covariance.ndim != 2 or covariance.shape[0] != covariance.shape[1]:
        raise InputError(f"covariance of shape {covariance.shape}; expected a square matrix")
    if not np.isfinite(covariance).all():
        raise InputError(f"covariance has {int((~np.isfinite(covariance)).sum())} non-finite entries (nan or inf)")
    if not np.allclose(covariance, covariance.T, rtol=1e-8, atol=1e-12):
        raise InputError("covariance is not symmetric; expected a covariance matrix, which equals its transpose")
    return covariance


def correlation_of(covariance: np.ndarray) -> np.ndarray:
    """The correlation matrix of a covariance matrix."""
    covariance = check_covariance(covariance)
    scale = np.sqrt(np.diag(covariance))
    return covariance / np.outer(scale, scale)


def mean_correlation(covariance: np.ndarray) -> float:
    """Mean of the off-diagonal correlations: how much the assets move together."""
    correlation = correlation_of(covariance)
    n = len(correlation)
    if n < 2:
        raise InputError(f"a {n}-asset covariance has no pairs to correlate; expected at least 2 assets")
    return float((correlation.sum() - n) / (n * (n - 1)))


def rank_auroc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of each score column for boolean `labels`, from ranks (ties
    share their rank), so that thousands of resamples need no loop; NaN without both kinds."""
    labels = np.asarray(labels, dtype=bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return np.full(scores.shape[1], np.nan)
    ranks = rankdata(scores, axis=0)
    return (ranks[labels].sum(axis=0) - positives * (positives + 1) / 2) / (positives * negatives)
