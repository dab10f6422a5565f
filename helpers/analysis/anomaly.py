"""Reconstruction error as an idiosyncratic-risk flag: per-stock scores, their agreement
with planted anomalies, and the drawdowns of factor-residual returns."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from helpers.analysis.embedding import pca_reconstruction
from helpers.analysis.metrics import worst_drawdown
from helpers.analysis.residuals import factor_residuals
from helpers.validate import InputError


def anomaly_score(errors: pd.DataFrame, reference_days, window: int = 21) -> pd.DataFrame:
    """How unusual each asset's recent reconstruction error is, robustly.

    The trailing `window`-day median of its squared error, over its median on
    `reference_days` (the training period), so 1 is the asset's normal whatever its own
    volatility; then over that day's cross-sectional median, so a market-wide stress day
    that raises every error does not flag every stock. Medians, not means: one
    fat-tailed day should not look like an episode. Days without a full window are missing.
    """
    if not isinstance(window, int) or window < 1:
        raise InputError(f"window={window!r}; expected a positive integer (days)")
    reference = errors.loc[errors.index.intersection(pd.DatetimeIndex(reference_days))].median()
    if reference.isna().any() or (reference <= 0).any():
        raise InputError("reference_days leave an asset without a positive median error")
    relative = errors.rolling(window).median() / reference
    return relative.div(relative.median(axis=1), axis=0)


def window_pairs(scores: pd.DataFrame, anomalies: pd.DataFrame, window: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """The labels and scores of the (window, asset) pairs: the score at the end of
    consecutive, non-overlapping `window`-day windows, and whether the asset spent at least
    half that window in a planted anomaly."""
    scores = scores.dropna()
    flags = anomalies.loc[scores.index, scores.columns].astype(float).rolling(window, min_periods=1).mean() >= 0.5
    ends = np.arange(window - 1, len(scores), window)
    labels, values = flags.iloc[ends].to_numpy().ravel(), scores.iloc[ends].to_numpy().ravel()
    if labels.all() or not labels.any():
        raise InputError("the windows are all anomalous or all normal; detection cannot be scored")
    return labels, values


def window_detection_auroc(scores: pd.DataFrame, anomalies: pd.DataFrame, window: int = 21) -> float:
    """AUROC of the score for flagging the anomalous (window, asset) pairs (`window_pairs`)."""
    labels, values = window_pairs(scores, anomalies, window)
    return float(roc_auc_score(labels, values))


def window_precision(scores: pd.DataFrame, anomalies: pd.DataFrame, window: int = 21) -> float:
    """Share of anomalous pairs among the highest-scored (window, asset) pairs, as many as
    there are anomalous ones: what a reader who flags the planted count would find.
    Precision equals recall at that count; ties are broken by position."""
    labels, values = window_pairs(scores, anomalies, window)
    flagged = np.argsort(-values, kind="stable")[: labels.sum()]
    return float(labels[flagged].mean())


def pca_errors(standardized: pd.DataFrame, train_days, n_components: int) -> pd.DataFrame:
    """Squared reconstruction error of every day by the first principal components of the
    training days, the linear contrast to a VAE's."""
    values = standardized.to_numpy()
    rows = standardized.index.isin(pd.DatetimeIndex(train_days))
    reconstruction = pca_reconstruction(values[rows], values, n_components)
    return pd.DataFrame((values - reconstruction) ** 2, index=standardized.index, columns=standardized.columns)


def detection_scores(scores: pd.Series, anomalous_days: pd.Series) -> dict[str, float]:
    """How well per-stock scores find the stocks with planted anomalies.

    `anomalous_days` counts each stock's anomalous days. Spearman correlation against the
    count is bounded by the many ties at zero: `spearman_ceiling` is what a perfect score
    (ranking stocks exactly by their counts, ties broken arbitrarily) would reach.
    """
    scores, counts = scores.align(anomalous_days, join="inner")
    if counts.nunique() < 2:
        raise InputError("every stock has the same number of anomalous days; detection cannot be scored")
    perfect = counts.rank(method="first")
    return {
        "spearman": float(spearmanr(scores, counts).statistic),
        "spearman_ceiling": float(spearmanr(perfect, counts).statistic),
        "auroc": float(roc_auc_score(counts > 0, scores)),
        "anomalous_stocks": int((counts > 0).sum()),
    }


def residual_drawdowns(returns: pd.DataFrame, factors: pd.DataFrame, fit_days, days) -> pd.Series:
    """Worst drawdown over `days` of each asset's factor-residual return path (exposures
    from `fit_days`): total drawdowns mostly measure the factors."""
    residual = factor_residuals(returns, factors, fit_days, days)
    return pd.Series(worst_drawdown(np.expm1(residual)) / 100, index=residual.columns)
