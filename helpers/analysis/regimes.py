"""Market regimes from four methods, the scores that compare them, and how long they last.

Every method is fit on training rows only and labels day t from data up to t: the HMM by
filtered (not smoothed) probabilities, the jump model by its online prediction, the
clusterings and the sparse-feature mapping row by row. State 0 is always the calmest
(lowest volatility), the last state the most stressed, so labels are comparable across
methods and refits.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from hmmlearn.hmm import GaussianHMM
from jumpmodels.jump import JumpModel
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from helpers.analysis.bootstrap import labelled_score_differences
from helpers.analysis.interpret import best_separating_feature
from helpers.data.calendar import TRADING_DAYS
from helpers.validate import InputError, check_count, check_finite_frame

MIN_ROWS_PER_STATE = 5  # a floor below which a state's mean and variance are not estimable at all


def _check_states(n_states) -> None:
    check_count(n_states, "n_states", minimum=2)


def _as_frame(x, name: str) -> pd.DataFrame:
    frame = pd.DataFrame(x) if not isinstance(x, pd.DataFrame) else x
    return check_finite_frame(frame, name)


def _validated(estimator, x, reset: bool, name: str = "x") -> pd.DataFrame:
    """`x` as a frame whose index labels the states, after scikit-learn's checks of its shape
    and type; on `predict` also that the estimator is fitted and `x` has its columns."""
    if not reset:
        check_is_fitted(estimator)
    validate_data(estimator, x, reset=reset, ensure_all_finite=False, ensure_min_samples=2 if reset else 1)
    return _as_frame(x, name)


def _aligned(target, frame: pd.DataFrame, name: str, role: str) -> pd.Series:
    """The per-row target of a fit (returns, volatility) on the rows of `frame`."""
    if isinstance(target, pd.Series):
        series = target.reindex(frame.index)
    else:
        series = pd.Series(np.asarray(target, dtype=float), index=frame.index)
    if series.isna().any():
        raise InputError(f"{name} must cover every row of the fitting data ({role}); "
                         f"it lacks {int(series.isna().sum())} of {len(series)}")
    return series


def _check_labels(labels, n_states: int) -> np.ndarray:
    """State labels as integers 0..n_states-1, naming any other value."""
    values = np.asarray(labels, dtype=float)
    outside = sorted({float(v) for v in values if not (np.isfinite(v) and v.is_integer() and 0 <= v < n_states)})
    if outside:
        shown = [int(v) if np.isfinite(v) and v.is_integer() else v for v in outside[:5]]
        raise InputError(f"labels hold {shown}; expected states 0..{n_states - 1}")
    return values.astype(int)


def volatility_order(labels: np.ndarray, returns: np.ndarray, n_states: int) -> np.ndarray:
    """The permutation that sorts raw state labels by the volatility of `returns` in each
    state: `order[new] = old`. A state with fewer than two rows counts as the calmest."""
    spreads = [np.std(returns[labels == state]) if (labels == state).sum() > 1 else -1.0 for state in range(n_states)]
    return np.argsort(spreads, kind="stable")


class GaussianHMMRegimes(BaseEstimator):
    """A Gaussian hidden Markov model with restarts, read causally.

    `fit` standardizes the features (hmmlearn's default covariance prior would swamp the
    tiny variances of daily returns), runs hmmlearn's EM from `n_restarts` random starts
    and keeps the best training log-likelihood; states are then sorted by the variance
    of the first feature (a return), so state 0 is calm. `filtered_probabilities` runs
    the forward recursion, P(state_t | x_1..x_t), the only probabilities a decision on
    day t may use; `smoothed_probabilities` (forward-backward, which looks at later days)
    is there to show what hindsight changes.
    """

    def __init__(self, n_states: int = 2, n_restarts: int = 10, n_iter: int = 200, random_state: int = 0) -> None:
        self.n_states = n_states
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.random_state = random_state

    def fit(self, x, y=None) -> GaussianHMMRegimes:
        _check_states(self.n_states)
        check_count(self.n_restarts, "n_restarts")
        values = _validated(self, x, reset=True).to_numpy(dtype=float)
        if len(values) < MIN_ROWS_PER_STATE * self.n_states:
            raise InputError(f"x has n_samples={len(values)} rows, too few for n_states={self.n_states}; expected "
                             f"at least {MIN_ROWS_PER_STATE * self.n_states}")
        self.scaler_ = StandardScaler().fit(values)
        scaled = self.scaler_.transform(values)
        models, scores = [], []
        for restart in range(self.n_restarts):
            models.append(GaussianHMM(self.n_states, covariance_type="full", n_iter=self.n_iter,
                                      random_state=self.random_state + restart).fit(scaled))
            scores.append(models[-1].score(scaled))
        best = models[int(np.argmax(scores))]
        order = np.argsort(best.covars_[:, 0, 0], kind="stable")
        scale = self.scaler_.scale_
        self.model_ = best
        self.order_ = order
        self.restart_scores_ = np.array(scores)
        self.log_likelihood_ = float(max(scores))
        self.means_ = self.scaler_.inverse_transform(best.means_)[order]
        self.covariances_ = best.covars_[order] * np.outer(scale, scale)
        self.startprob_ = best.startprob_[order]
        self.transmat_ = best.transmat_[np.ix_(order, order)]
        return self

    def _log_emissions(self, values: np.ndarray) -> np.ndarray:
        return np.column_stack([
            multivariate_normal(mean, covariance).logpdf(values).reshape(len(values))
            for mean, covariance in zip(self.means_, self.covariances_, strict=True)
        ])

    def filtered_probabilities(self, x) -> pd.DataFrame:
        """P(state_t | rows up to t), for each row, from the first row of `x` on."""
        frame = _validated(self, x, reset=False)
        log_b = self._log_emissions(frame.to_numpy(dtype=float))
        log_a = np.log(self.transmat_)
        log_alpha = np.empty_like(log_b)
        log_alpha[0] = np.log(self.startprob_) + log_b[0]
        log_alpha[0] -= logsumexp(log_alpha[0])
        for t in range(1, len(log_b)):
            log_alpha[t] = logsumexp(log_alpha[t - 1][:, None] + log_a, axis=0) + log_b[t]
            log_alpha[t] -= logsumexp(log_alpha[t])
        return pd.DataFrame(np.exp(log_alpha), index=frame.index, columns=range(self.n_states))

    def smoothed_probabilities(self, x) -> pd.DataFrame:
        """P(state_t | all rows of `x`): uses later rows, so for reading history only."""
        frame = _validated(self, x, reset=False)
        scaled = self.scaler_.transform(frame.to_numpy(dtype=float))
        probabilities = self.model_.predict_proba(scaled)[:, self.order_]
        return pd.DataFrame(probabilities, index=frame.index, columns=range(self.n_states))

    def predict(self, x) -> pd.Series:
        """The most probable state of each day given the days up to it."""
        return self.filtered_probabilities(x).idxmax(axis=1).rename("state")


def jump_features(returns: pd.Series, halflives: tuple[int, ...] = (5, 21)) -> pd.DataFrame:
    """Causal features of a return series for a jump model: exponentially weighted mean
    return and downside deviation at each half-life (the usual pair in the literature)."""
    columns = {}
    for halflife in halflives:
        columns[f"mean_{halflife}d"] = returns.ewm(halflife=halflife).mean()
        columns[f"downside_{halflife}d"] = np.sqrt((returns.clip(upper=0) ** 2).ewm(halflife=halflife).mean())
    return pd.DataFrame(columns).iloc[max(halflives):]


class JumpModelRegimes(BaseEstimator):
    """A statistical jump model (the jumpmodels package), whose penalty on every switch
    makes regimes persistent. Features are standardized with training statistics;
    `predict` is the package's online prediction, which uses rows up to each day only."""

    def __init__(self, n_states: int = 2, jump_penalty: float = 50.0, random_state: int = 0) -> None:
        self.n_states = n_states
        self.jump_penalty = jump_penalty
        self.random_state = random_state

    def fit(self, features, returns) -> JumpModelRegimes:
        _check_states(self.n_states)
        if not np.isfinite(self.jump_penalty) or self.jump_penalty < 0:
            raise InputError(f"jump_penalty={self.jump_penalty!r}; expected a finite number >= 0")
        frame = _validated(self, features, reset=True, name="features")
        returns = _aligned(returns, frame, "returns", "they order the states by volatility")
        self.scaler_ = StandardScaler().fit(frame)
        self.model_ = JumpModel(self.n_states, self.jump_penalty, random_state=self.random_state).fit(
            self._scaled(frame), returns, sort_by="vol")
        return self

    def _scaled(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(self.scaler_.transform(frame), index=frame.index, columns=frame.columns)

    def predict(self, features) -> pd.Series:
        frame = _validated(self, features, reset=False, name="features")
        labels = self.model_.predict_online(self._scaled(frame))
        return pd.Series(np.asarray(labels, dtype=int), index=frame.index, name="state")


class EmbeddingRegimes(BaseEstimator):
    """KMeans on the first principal components of standardized embeddings.

    `fit(x, returns)`: `returns` (one per row, the benchmark's) only orders the clusters by
    volatility. Each row is labelled on its own, so a window's state uses that window only.
    """

    def __init__(self, n_states: int = 2, n_components: int = 8, random_state: int = 0) -> None:
        self.n_states = n_states
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, x, returns) -> EmbeddingRegimes:
        _check_states(self.n_states)
        frame = _validated(self, x, reset=True)
        if not 1 <= self.n_components <= frame.shape[1]:
            raise InputError(f"n_components={self.n_components!r}; expected 1..{frame.shape[1]} (the columns of x)")
        self.pipeline_ = make_pipeline(
            StandardScaler(), PCA(self.n_components, random_state=self.random_state),
            KMeans(self.n_states, n_init=10, random_state=self.random_state),
        ).fit(frame.to_numpy())
        raw = self.pipeline_[-1].labels_
        self.order_ = volatility_order(raw, _aligned(returns, frame, "returns", "they order the states").to_numpy(),
                                       self.n_states)
        return self

    def predict(self, x) -> pd.Series:
        frame = _validated(self, x, reset=False)
        rank = np.argsort(self.order_)
        return pd.Series(rank[self.pipeline_.predict(frame.to_numpy())], index=frame.index, name="state")


class SparseFeatureRegimes(BaseEstimator):
    """Regimes from the dominant sparse feature, by a mapping learnt on training windows.

    A window's dominant feature is the one with the largest activation averaged over the
    `smoothing` trailing windows. The mapping: training windows are put in `n_states`
    volatility bands cut at the training quantiles of `volatility` (above or below the
    median for two states, terciles for three); each feature goes to the band it most
    often dominates in; a feature that never dominates goes to the band it most often
    fires in, and one that never fires to the calm band. A window's state is the band of
    its dominant feature.
    """

    def __init__(self, n_states: int = 2, smoothing: int = 5) -> None:
        self.n_states = n_states
        self.smoothing = smoothing

    def fit(self, activations: pd.DataFrame, volatility: pd.Series) -> SparseFeatureRegimes:
        _check_states(self.n_states)
        frame = _validated(self, activations, reset=True, name="activations")
        volatility = _aligned(volatility, frame, "volatility", "it places features in bands")
        self.cuts_ = np.quantile(volatility, np.arange(1, self.n_states) / self.n_states)
        bands = np.eye(self.n_states)[np.searchsorted(self.cuts_, volatility.to_numpy(), side="right")]
        dominant = self.dominant_features(frame)
        dominated = pd.get_dummies(dominant).reindex(columns=frame.columns, fill_value=False).to_numpy(dtype=float)
        fired = (frame.to_numpy() > 0).astype(float)
        by_dominance, by_firing = dominated.T @ bands, fired.T @ bands  # feature x band: window counts
        votes = np.where(by_dominance.sum(axis=1, keepdims=True) > 0, by_dominance, by_firing)
        self.feature_state_ = pd.Series(votes.argmax(axis=1), index=frame.columns, name="state")
        return self

    def dominant_features(self, activations: pd.DataFrame) -> pd.Series:
        if not isinstance(self.smoothing, int) or self.smoothing < 1:
            raise InputError(f"smoothing={self.smoothing!r}; expected a positive integer (windows)")
        smoothed = _as_frame(activations, "activations").rolling(self.smoothing, min_periods=1).mean()
        silent = smoothed.index[(smoothed <= 0).all(axis=1)]
        if len(silent):
            raise InputError(f"no feature is active around {silent[0]!r}; the mapping needs an active feature")
        return smoothed.idxmax(axis=1).rename("dominant feature")

    def predict(self, activations: pd.DataFrame) -> pd.Series:
        dominant = self.dominant_features(_validated(self, activations, reset=False, name="activations"))
        return pd.Series(self.feature_state_[dominant].to_numpy(), index=dominant.index, name="state")


class StressDetector(BaseEstimator):
    """A stress call from one coordinate of a representation (a sparse feature, an
    embedding dimension, a principal component).

    `fit` averages each coordinate over the `smoothing` trailing windows, picks the one
    that best separates training windows of above-median `volatility` (AUROC, either
    sign) and sets the threshold at its training `quantile`; `predict` calls stress when
    the signed, smoothed coordinate is above it. Every window's call uses windows up to it.
    """

    def __init__(self, smoothing: int = 21, quantile: float = 0.8) -> None:
        self.smoothing = smoothing
        self.quantile = quantile

    def fit(self, x: pd.DataFrame, volatility: pd.Series) -> StressDetector:
        if not 0 < self.quantile < 1:
            raise InputError(f"quantile={self.quantile!r}; expected a share in (0, 1)")
        frame = _validated(self, x, reset=True)
        volatility = _aligned(volatility, frame, "volatility", "it defines the target")
        high = (volatility > volatility.median()).astype(int)
        smoothed = self._smooth(frame)
        every_row = np.ones(len(frame), dtype=bool)
        self.feature_, self.training_auroc_ = best_separating_feature(smoothed, high, every_row)
        rising = smoothed[self.feature_][high == 1].mean() >= smoothed[self.feature_][high == 0].mean()
        self.sign_ = 1.0 if rising else -1.0
        self.threshold_ = float(np.quantile(self.sign_ * smoothed[self.feature_], self.quantile))
        return self

    def _smooth(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(self.smoothing, int) or self.smoothing < 1:
            raise InputError(f"smoothing={self.smoothing!r}; expected a positive integer (windows)")
        return frame.rolling(self.smoothing, min_periods=1).mean()

    def stress_score(self, x: pd.DataFrame) -> pd.Series:
        smoothed = self._smooth(_validated(self, x, reset=False))
        return (self.sign_ * smoothed[self.feature_]).rename("stress score")

    def predict(self, x: pd.DataFrame) -> pd.Series:
        return (self.stress_score(x) > self.threshold_).rename("stress")


def switch_count(labels: pd.Series) -> int:
    values = np.asarray(labels)
    return int((values[1:] != values[:-1]).sum())


def detection_lags(predicted_stress: pd.Series, true_stress: pd.Series) -> pd.Series:
    """For each switch of the truth into stress, the days until the method first says
    stress, counted within the true stress spell; missing where it never does (missed)."""
    predicted = np.asarray(predicted_stress, dtype=bool)
    truth = np.asarray(true_stress, dtype=bool)
    if len(predicted) != len(truth):
        raise InputError(f"{len(predicted)} predicted days against {len(truth)} true days; expected the same days")
    onsets = np.flatnonzero(truth[1:] & ~truth[:-1]) + 1
    lags = {}
    for onset in onsets:
        spell_end = onset + np.argmin(truth[onset:]) if not truth[onset:].all() else len(truth)
        hits = np.flatnonzero(predicted[onset:spell_end])
        lags[onset] = float(hits[0]) if len(hits) else np.nan
    index = pd.Index(true_stress.index[list(lags)], name="onset") if isinstance(true_stress, pd.Series) else None
    return pd.Series(list(lags.values()), index=index, name="lag (days)", dtype=float)


def truth_scores(states: pd.Series, true_regimes: pd.Series, stress_state: int | None = None) -> dict[str, float]:
    """Agreement of a labelling with the true regimes over the same days.

    ARI and NMI score the partition whatever the label names; detection lag, misses and
    switches read the method's most volatile state (`stress_state`, the last by default)
    as its stress call against the truth's stress regime (label 1).
    """
    if not states.index.equals(true_regimes.index):
        raise InputError("states and true_regimes must cover the same days")
    stress_state = int(states.max()) if stress_state is None else stress_state
    lags = detection_lags(states == stress_state, true_regimes == 1)
    years = len(states) / TRADING_DAYS
    return {
        "ARI": adjusted_rand_score(true_regimes, states),
        "NMI": normalized_mutual_info_score(true_regimes, states),
        "median lag (days)": float(lags.median()) if lags.notna().any() else np.nan,
        "missed onsets": int(lags.isna().sum()),
        "onsets": len(lags),
        "switches a year": switch_count(states) / years,
        "true switches a year": switch_count(true_regimes) / years,
    }


def transition_matrix(labels: pd.Series, n_states: int) -> pd.DataFrame:
    """Empirical P(state tomorrow | state today), counted over consecutive days."""
    values = _check_labels(labels, n_states)
    counts = np.zeros((n_states, n_states))
    np.add.at(counts, (values[:-1], values[1:]), 1)
    totals = counts.sum(axis=1, keepdims=True)
    matrix = np.divide(counts, totals, out=np.full_like(counts, np.nan), where=totals > 0)
    states = range(n_states)
    return pd.DataFrame(matrix, index=pd.Index(states, name="from"), columns=pd.Index(states, name="to"))


def mean_durations(labels: pd.Series, n_states: int) -> pd.Series:
    """Mean length in days of the uninterrupted spells of each state (missing if never seen)."""
    values = _check_labels(labels, n_states)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    spells = pd.Series(lengths, index=values[starts])
    return spells.groupby(level=0).mean().reindex(range(n_states)).rename("mean duration (days)")


def agreement_matrix(labels: pd.DataFrame) -> pd.DataFrame:
    """Adjusted Rand index between every pair of labellings (columns) over the same days."""
    frame = _as_frame(labels, "labels")
    names = list(frame.columns)
    matrix = [[adjusted_rand_score(frame[a], frame[b]) for b in names] for a in names]
    return pd.DataFrame(matrix, index=names, columns=names)


def balanced_accuracy(stress_call: pd.Series, episodes: pd.Series) -> float:
    """Mean of the share of episode days called stress and of other days called calm."""
    call, inside = np.asarray(stress_call, dtype=bool), np.asarray(episodes, dtype=bool)
    if inside.all() or not inside.any():
        raise InputError("episodes must mark some days and leave some unmarked to score a stress call")
    return float((call[inside].mean() + (~call[~inside]).mean()) / 2)


def paired_score_difference(call: pd.Series, baseline: pd.Series, reference: pd.Series,
                            score: Callable[[np.ndarray, np.ndarray], float] = balanced_accuracy, block: int = 63,
                            n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """`score(call, reference)` minus `score(baseline, reference)`, with a paired circular
    block bootstrap interval (the same resampled days for both). The reference (stress
    episodes, or the true regimes) comes in spells, so a resample can miss them all: such
    resamples cannot score a call, and how many were used is returned with the interval.
    The default score is the balanced accuracy of a stress call; any score of two label
    arrays, such as the adjusted Rand index, serves."""
    frame = pd.concat([call, baseline, reference], axis=1, join="inner")
    if len(frame) < len(reference):
        raise InputError(f"the calls cover {len(frame)} of the {len(reference)} days of the reference; expected all")
    calls = pd.DataFrame(frame.iloc[:, :2].to_numpy(dtype=float), index=frame.index, columns=["call", "baseline"])

    def both(values: np.ndarray, truth: np.ndarray) -> np.ndarray:
        return np.array([score(values[:, 0], truth), score(values[:, 1], truth)])

    row = labelled_score_differences(calls, frame.iloc[:, 2].astype(float), "baseline", both, block, n_boot, level,
                                     seed).loc["call"]
    return {"estimate": float(row["estimate"]), "low": float(row["low"]), "high": float(row["high"]),
            "resamples": int(row["resamples"])}
