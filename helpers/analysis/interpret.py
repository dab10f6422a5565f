"""What sparse features respond to: metrics, indicator correlations, labels, episodes."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import validate_data

from helpers.validate import InputError, check_finite_frame


def sparse_metrics(x: np.ndarray, reconstruction: np.ndarray, features: np.ndarray) -> dict[str, float]:
    """Fraction of variance unexplained, mean active features (L0), share never firing."""
    fvu = ((x - reconstruction) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum()
    active = features > 0
    return {
        "fvu": float(fvu),
        "l0": float(active.sum(axis=1).mean()),
        "dead_fraction": float((~active.any(axis=0)).mean()),
    }


def interpretation_indicators(indicators: pd.DataFrame, min_coverage: float = 0.8) -> pd.DataFrame:
    """The five series features are read against: volatility and its 5-day change, a rates
    or credit series, 20-day momentum and cross-asset correlation.

    An observed VIX is used where it covers at least `min_coverage` of the days, else the
    realized-volatility index derived from prices.
    """
    covered = [name for name in ("vix", "vix_like") if name in indicators]
    volatility = next(
        (name for name in covered if indicators[name].notna().mean() >= min_coverage), "realized_vol_21d"
    )
    rates = next((name for name in ("yield_slope", "yield_slope_like", "credit_spread") if name in indicators), None)
    columns = {
        volatility: indicators[volatility],
        f"{volatility} 5-day change": indicators[volatility].diff(5),
        "momentum_20d": indicators["momentum_20d"],
        "mean_correlation_63d": indicators["mean_correlation_63d"],
    }
    if rates is not None:
        columns[rates] = indicators[rates]
    return pd.DataFrame(columns, index=indicators.index)


def rank_correlations(activations: pd.DataFrame, indicators: pd.DataFrame, smoothing: int = 1) -> pd.DataFrame:
    """Spearman correlation of every feature with every indicator (features x indicators),
    each pair over the days both are defined. A feature that never varies gets 0.

    With `smoothing` > 1 each activation is first averaged over that many trailing windows:
    the indicators are trailing averages over weeks, while a sparse activation switches on
    and off from one day to the next.
    """
    if smoothing < 1:
        raise InputError(f"smoothing={smoothing!r}; expected a number of windows >= 1")
    activations = activations.rolling(smoothing).mean().iloc[smoothing - 1 :]
    ranks = activations.rank()
    table = {}
    for name, series in indicators.reindex(activations.index).items():
        valid = series.notna().to_numpy()
        x = ranks.to_numpy()[valid]
        y = series[valid].rank().to_numpy()
        x = x - x.mean(axis=0)
        y = y - y.mean()
        denominator = np.sqrt((x**2).sum(axis=0) * (y**2).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(denominator > 0, (x * y[:, None]).sum(axis=0) / denominator, 0.0)
    return pd.DataFrame(table, index=activations.columns)


class FeatureLabeler(BaseEstimator):
    """Label a feature by the indicator it tracks most, if the rank correlation is strong.

    A label reads "high <indicator>" or "low <indicator>"; features below `threshold` in
    absolute correlation stay unlabelled: a heuristic, not a discovery.
    """

    def __init__(self, threshold: float = 0.4, smoothing: int = 21):
        self.threshold = threshold
        self.smoothing = smoothing

    def fit(self, activations: pd.DataFrame, indicators: pd.DataFrame) -> FeatureLabeler:
        if not 0 < self.threshold < 1:
            raise InputError(f"threshold={self.threshold!r}; expected an absolute correlation in (0, 1)")
        validate_data(self, activations, ensure_all_finite=False, ensure_min_samples=2)
        frame = activations if isinstance(activations, pd.DataFrame) else pd.DataFrame(np.asarray(activations))
        check_finite_frame(frame, "activations")
        if not isinstance(indicators, pd.DataFrame):  # one indicator, row by row
            indicators = pd.DataFrame({"indicator": np.asarray(indicators, dtype=float)}, index=frame.index)
        self.correlations_ = rank_correlations(frame, indicators, self.smoothing)
        strongest = self.correlations_.abs().idxmax(axis=1)
        value = pd.Series(
            [self.correlations_.loc[feature, name] for feature, name in strongest.items()], index=strongest.index
        )
        labelled = value.abs() >= self.threshold
        self.labels_ = pd.Series(
            [f"{'high' if value[f] > 0 else 'low'} {strongest[f]}" for f in value.index[labelled]],
            index=value.index[labelled],
            name="label",
            dtype="object",
        )
        self.strength_ = value[labelled].rename("rank correlation")
        return self


def drawdown_spells(benchmark: pd.Series, depth: float = 0.15) -> pd.Series:
    """Name each spell in which the benchmark sits more than `depth` below its running peak."""
    if not 0 < depth < 1:
        raise InputError(f"depth={depth!r}; expected a fraction in (0, 1)")
    underwater = benchmark / benchmark.cummax() - 1 < -depth
    spell = (underwater != underwater.shift()).cumsum()
    labels = pd.Series(pd.NA, index=benchmark.index, dtype="object", name="drawdown")
    for _, days in underwater[underwater].groupby(spell[underwater]):
        labels[days.index] = f"drawdown from {benchmark.loc[: days.index[0]].idxmax():%Y-%m-%d}"
    return labels


def best_separating_feature(activations: pd.DataFrame, target: pd.Series, fit_rows: np.ndarray) -> tuple[str, float]:
    """The feature whose activation best separates a binary target on `fit_rows` (AUROC,
    either direction); returns its name and its direction-adjusted AUROC on those rows."""
    scores = {}
    y = target.to_numpy()[fit_rows]
    if len(np.unique(y)) < 2:
        raise InputError("the target takes one value on the fitting rows; AUROC is undefined")
    for feature in activations.columns:
        auc = roc_auc_score(y, activations[feature].to_numpy()[fit_rows])
        scores[feature] = max(auc, 1 - auc)
    best = max(scores, key=scores.get)
    return best, scores[best]


def directed_auroc(score: pd.Series, target: pd.Series, fit_rows: np.ndarray, test_rows: np.ndarray) -> float:
    """AUROC on `test_rows`, in the direction the score had on `fit_rows`."""
    sign = 1 if roc_auc_score(target.to_numpy()[fit_rows], score.to_numpy()[fit_rows]) >= 0.5 else -1
    return float(roc_auc_score(target.to_numpy()[test_rows], sign * score.to_numpy()[test_rows]))
