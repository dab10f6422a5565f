"""What sparse features respond to: metrics, indicator correlations, labels, episodes."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import validate_data

from helpers.analysis.embedding import pca_reconstruction
from helpers.validate import InputError, as_count, as_number, check_finite_frame


def sparse_metrics(x: np.ndarray, reconstruction: np.ndarray, features: np.ndarray) -> dict[str, float]:
    """Fraction of variance unexplained, mean active features (L0), the share of features
    that never fire and the share that fire on more than half the rows (dense features,
    which carry no selectivity)."""
    fvu = ((x - reconstruction) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum()
    active = features > 0
    return {
        "fvu": float(fvu),
        "l0": float(active.sum(axis=1).mean()),
        "dead_fraction": float((~active.any(axis=0)).mean()),
        "dense_fraction": float((active.mean(axis=0) > 0.5).mean()),
    }


def pca_fvu(train: np.ndarray, x: np.ndarray, n_components: int) -> float:
    """The fraction of variance of `x` unexplained by the first principal components of
    `train`, measured as `sparse_metrics` measures a dictionary's: the fixed subspace a
    dictionary with as many active features is compared with."""
    reconstruction = pca_reconstruction(train, x, n_components)
    return float(((x - reconstruction) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum())


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


def window_volatility(returns: pd.DataFrame, window: int) -> pd.Series:
    """Root mean square of every asset's return over the `window` days ending on each day:
    the size of the window a feature reads, which anything built from return magnitudes
    tracks by construction. Indicators are residualized on it before features are labelled."""
    if window < 1:
        raise InputError(f"window={window!r}; expected a number of days >= 1")
    squared = check_finite_frame(returns, "returns").pow(2).mean(axis=1)
    return np.sqrt(squared.rolling(window).mean()).rename("window volatility")


def _unit_ranks(values: np.ndarray) -> np.ndarray:
    """Columns ranked, centred and scaled to unit length (a constant column stays zero), so
    that a product of two such columns is their Spearman correlation."""
    ranks = pd.DataFrame(values).rank().to_numpy(dtype=float)
    centred = ranks - ranks.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    return np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)


def _smoothed(activations: pd.DataFrame, smoothing: int) -> pd.DataFrame:
    if smoothing < 1:
        raise InputError(f"smoothing={smoothing!r}; expected a number of windows >= 1")
    return activations.rolling(smoothing).mean().iloc[smoothing - 1 :]


def _paired_ranks(smoothed: pd.DataFrame, indicators: pd.DataFrame):
    """For each indicator, the unit ranks of the features and of the indicator over the days
    both are defined."""
    for name, series in indicators.reindex(smoothed.index).items():
        valid = series.notna().to_numpy()
        yield name, _unit_ranks(smoothed.to_numpy()[valid]), _unit_ranks(series.to_numpy()[valid, None])[:, 0]


def rank_correlations(activations: pd.DataFrame, indicators: pd.DataFrame, smoothing: int = 1) -> pd.DataFrame:
    """Spearman correlation of every feature with every indicator (features x indicators),
    each pair over the days both are defined. A feature that never varies gets 0.

    With `smoothing` > 1 each activation is first averaged over that many trailing windows:
    the indicators are trailing averages over weeks, while a sparse activation switches on
    and off from one day to the next.
    """
    smoothed = _smoothed(activations, smoothing)
    table = {name: features.T @ indicator for name, features, indicator in _paired_ranks(smoothed, indicators)}
    return pd.DataFrame(table, index=activations.columns)


def shifted_max_correlations(activations: pd.DataFrame, indicators: pd.DataFrame, smoothing: int = 1,
                             n_shifts: int = 200, min_shift: int = 126, seed: int = 0) -> np.ndarray:
    """The largest absolute rank correlation between any feature and any indicator, once for
    each circular shift of the indicators against the features: what the best of many
    autocorrelated correlations reaches when nothing links them. Each series keeps its own
    persistence; only the alignment in time is broken."""
    smoothed = _smoothed(activations, smoothing)
    if 2 * min_shift >= len(smoothed):
        raise InputError(f"min_shift={min_shift!r}; expected fewer than half of the {len(smoothed)} smoothed windows")
    fractions = np.random.default_rng(seed).random(as_count(n_shifts, "n_shifts"))
    largest = np.zeros(len(fractions))
    for _, features, indicator in _paired_ranks(smoothed, indicators):
        n_rows = len(indicator)
        shifts = min_shift + (fractions * max(n_rows - 2 * min_shift, 1)).astype(int)
        rolled = np.stack([np.roll(indicator, shift) for shift in shifts])  # (n_shifts, n_rows)
        largest = np.maximum(largest, np.abs(rolled @ features).max(axis=1, initial=0.0))
    return largest


class FeatureLabeler(BaseEstimator):
    """Label a feature by the indicator it tracks most, where that rank correlation beats
    what the best feature-indicator pair reaches by chance.

    Each indicator is first residualized, by least squares on the fitting windows, on the
    logarithm of the `control` (the volatility of the window itself), so that a label says
    what a feature tracks beyond the size of the returns it reads. The chance level is the
    `level` quantile of the largest absolute correlation under circular shifts of the
    indicators (`shifted_max_correlations`). A label reads "high <indicator>" or
    "low <indicator>": a hypothesis the test windows can check, not a discovery.
    """

    def __init__(self, level: float = 0.95, smoothing: int = 21, n_shifts: int = 200, min_shift: int = 126,
                 seed: int = 0):
        self.level = level
        self.smoothing = smoothing
        self.n_shifts = n_shifts
        self.min_shift = min_shift
        self.seed = seed

    def fit(self, activations: pd.DataFrame, indicators: pd.DataFrame, control: pd.Series | None = None
            ) -> FeatureLabeler:
        as_number(self.level, "level", 0, 1, open_low=True, open_high=True)
        validate_data(self, activations, ensure_all_finite=False, ensure_min_samples=2)
        frame = activations if isinstance(activations, pd.DataFrame) else pd.DataFrame(np.asarray(activations))
        check_finite_frame(frame, "activations")
        if not isinstance(indicators, pd.DataFrame):  # one indicator, row by row
            indicators = pd.DataFrame({"indicator": np.asarray(indicators, dtype=float)}, index=frame.index)
        indicators = indicators.reindex(frame.index)
        self.residual_coefficients_ = self._residual_fit(indicators, control, frame.index)
        residuals = self.residualize(indicators, control)
        self.correlations_ = rank_correlations(frame, residuals, self.smoothing)
        min_shift = min(self.min_shift, (len(frame) - self.smoothing) // 4)
        self.null_max_ = shifted_max_correlations(frame, residuals, self.smoothing, self.n_shifts, min_shift,
                                                  self.seed)
        self.threshold_ = float(np.quantile(self.null_max_, self.level))
        strongest = self.correlations_.abs().idxmax(axis=1)
        value = pd.Series(
            [self.correlations_.loc[feature, name] for feature, name in strongest.items()], index=strongest.index
        )
        labelled = value.abs() > self.threshold_
        self.labels_ = pd.Series(
            [f"{'high' if value[f] > 0 else 'low'} {strongest[f]}" for f in value.index[labelled]],
            index=value.index[labelled],
            name="label",
            dtype="object",
        )
        self.strength_ = value[labelled].rename("rank correlation")
        return self

    @staticmethod
    def _residual_fit(indicators: pd.DataFrame, control: pd.Series | None, days: pd.Index) -> pd.DataFrame:
        """Intercept and slope of each indicator on the log control, over the fitting days."""
        if control is None:
            return pd.DataFrame(0.0, index=indicators.columns, columns=["intercept", "slope"])
        log_control = np.log(control.reindex(days))
        rows = {}
        for name, series in indicators.items():
            valid = (series.notna() & log_control.notna()).to_numpy()
            if valid.sum() < 3:
                raise InputError(f"indicator {name!r} and the control share {valid.sum()} days; expected at least 3")
            slope, intercept = np.polyfit(log_control.to_numpy()[valid], series.to_numpy()[valid], 1)
            rows[name] = {"intercept": intercept, "slope": slope}
        return pd.DataFrame(rows).T

    def residualize(self, indicators: pd.DataFrame, control: pd.Series | None = None) -> pd.DataFrame:
        """The indicators less what the fitted lines give for the log control: the fitting
        windows' coefficients, on any windows."""
        coefficients = self.residual_coefficients_.reindex(indicators.columns)
        if control is None:
            return indicators - coefficients["intercept"]
        fitted = np.log(control.reindex(indicators.index)).to_numpy()[:, None] * coefficients["slope"].to_numpy()
        return indicators - fitted - coefficients["intercept"].to_numpy()

    def correlations(self, activations: pd.DataFrame, indicators: pd.DataFrame, control: pd.Series | None = None
                     ) -> pd.DataFrame:
        """Rank correlations on other windows (the test windows), against the indicators
        residualized with the fitting windows' coefficients."""
        return rank_correlations(activations, self.residualize(indicators.reindex(activations.index), control),
                                 self.smoothing)


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


def direction(score: pd.Series, target: pd.Series, fit_rows: np.ndarray) -> int:
    """+1 if the score is higher on the target's days on `fit_rows`, else -1."""
    return 1 if roc_auc_score(target.to_numpy()[fit_rows], score.to_numpy()[fit_rows]) >= 0.5 else -1


def chosen_components(families: dict[str, pd.DataFrame], target: pd.Series, fit_rows: np.ndarray
                      ) -> tuple[pd.DataFrame, pd.Series]:
    """From each family of scores (a dictionary's features, principal components, ...) the
    one that best separates `target` on `fit_rows`, signed so that higher points to the
    target: one column per family, and the name of each family's choice."""
    columns, names = {}, {}
    for family, scores in families.items():
        best, _ = best_separating_feature(scores, target, fit_rows)
        columns[family] = direction(scores[best], target, fit_rows) * scores[best]
        names[family] = best
    return pd.DataFrame(columns), pd.Series(names, name="chosen")


def event_windows(events: pd.DataFrame, days: pd.DatetimeIndex, window_ends: pd.DatetimeIndex, window: int
                  ) -> pd.DataFrame:
    """For each event type, whether each window holds a day of one of its events (windows x
    types): a window ending on day t holds the `window` trading days of `days` up to t."""
    position = days.get_indexer(window_ends)
    if (position < 0).any():
        raise InputError("every window end must be one of the days")
    first_day = days[np.maximum(position - window + 1, 0)]
    table = {}
    for kind, rows in events.groupby("type"):
        held = np.zeros(len(window_ends), dtype=bool)
        for start, end in zip(rows["start"], rows["end"], strict=True):
            held |= (first_day <= end) & (window_ends >= start)
        table[kind] = held
    return pd.DataFrame(table, index=window_ends)
