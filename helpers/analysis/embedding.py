"""Reading embeddings: reconstruction quality, 2-D views, and market states by KMeans."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data

from helpers.analysis.metrics import mean_correlation
from helpers.data.calendar import TRADING_DAYS
from helpers.validate import InputError


def reconstruction_r2(x: np.ndarray, reconstruction: np.ndarray, reference: np.ndarray) -> float:
    """1 - SSE / SST, where SST is measured around `reference` (the training mean), so a
    model that always predicts the training mean scores 0 on any split."""
    return float(1 - ((x - reconstruction) ** 2).sum() / ((x - reference) ** 2).sum())


def pca_reconstruction(train: np.ndarray, x: np.ndarray, n_components: int) -> np.ndarray:
    """Project onto the first principal components of the training data and back."""
    pca = PCA(n_components=n_components, svd_solver="full").fit(train)
    return pca.inverse_transform(pca.transform(x))


def umap_2d(x: np.ndarray, seed: int = 0, n_neighbors: int = 15, n_epochs: int = 200) -> np.ndarray:
    """UMAP to two dimensions, with exact neighbours from scikit-learn.

    Computing the neighbour graph here skips pynndescent, whose just-in-time compilation
    costs about 20 s per process on two cores, longer than the layout itself.
    """
    import umap  # here, not at the top: importing it costs seconds that only this function needs

    distances, indices = NearestNeighbors(n_neighbors=n_neighbors).fit(x).kneighbors(x)
    reducer = umap.UMAP(
        n_neighbors=n_neighbors, n_epochs=n_epochs, random_state=seed, precomputed_knn=(indices, distances, None)
    )
    with warnings.catch_warnings():
        # UMAP notes that a random_state means one thread, and that a precomputed graph
        # cannot embed new points; both are what we want here.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        return reducer.fit_transform(x)


class MarketStates(ClusterMixin, BaseEstimator):
    """KMeans market states with the number of states chosen by the silhouette score.

    Fit on training embeddings only; `predict` then labels any window without refitting.
    """

    def __init__(self, k_values=tuple(range(2, 9)), random_state: int = 0, silhouette_sample: int = 4000):
        self.k_values = k_values
        self.random_state = random_state
        self.silhouette_sample = silhouette_sample

    def fit(self, x: np.ndarray, y=None) -> MarketStates:
        x = validate_data(self, x)
        k_values = list(self.k_values)
        if not k_values or min(k_values) < 2 or max(k_values) >= len(x):
            raise InputError(f"k_values={self.k_values!r}; expected numbers of states in [2, {len(x) - 1}] "
                             f"for n_samples={len(x)} windows")
        scores, models = {}, {}
        for k in k_values:
            models[k] = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(x)
            scores[k] = silhouette_score(
                x, models[k].labels_, sample_size=min(self.silhouette_sample, len(x)), random_state=self.random_state
            )
        self.silhouette_ = pd.Series(scores, name="silhouette").rename_axis("states")
        self.n_states_ = int(self.silhouette_.idxmax())
        self.model_ = models[self.n_states_]
        self.labels_ = self.model_.labels_
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        return self.model_.predict(validate_data(self, x, reset=False))


def state_profiles(states: pd.Series, returns: pd.DataFrame, benchmark_returns: pd.Series) -> pd.DataFrame:
    """Per state: days, annualized benchmark return and volatility, mean pairwise correlation."""
    rows = {}
    for state, days in states.groupby(states).groups.items():
        bench = benchmark_returns.reindex(days)
        rows[state] = {
            "days": len(days),
            "share of days": len(days) / len(states),
            "return (% a year)": 100 * TRADING_DAYS * bench.mean(),
            "volatility (% a year)": 100 * np.sqrt(TRADING_DAYS) * bench.std(),
            "mean pairwise correlation": mean_correlation(np.cov(returns.reindex(days).to_numpy().T)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("state")


def stock_features(prices: pd.DataFrame, benchmark: pd.Series, days: pd.DatetimeIndex, step: int = 5) -> pd.DataFrame:
    """One row per stock: its market-residual 5-day returns, 20-day moving-average distance
    and 20-day volatility, sampled every `step` days over `days`, each series z-scored.

    Residual returns remove each stock's beta to the benchmark (estimated over `days`), so
    stocks group by what they share beyond the market: their sector. An asset that is the
    benchmark (SPY in the yfinance universe) has no residual: its residual features are 0,
    where z-scoring nothing would divide zero by zero.
    """
    returns = np.log(prices).diff().loc[days]
    bench = np.log(benchmark).diff().loc[days]
    beta = returns.apply(lambda column: np.cov(column, bench)[0, 1]) / bench.var()
    residual = returns - np.outer(bench, beta)
    residual.loc[:, residual.std() <= 1e-8 * returns.std()] = 0.0
    blocks = {
        "residual_return_5d": residual.rolling(5).sum(),
        "ma_distance_20d": np.log(prices / prices.rolling(20).mean()).loc[days],
        "volatility_20d": residual.rolling(20).std(),
    }
    sampled = []
    for name, frame in blocks.items():
        frame = frame.iloc[19::step]
        spread = frame.std()
        frame = (frame - frame.mean()) / spread.where(spread > 0, 1.0)
        sampled.append(frame.T.set_axis([f"{name}@{d:%Y-%m-%d}" for d in frame.index], axis=1))
    return pd.concat(sampled, axis=1)


def asset_groups(assets: pd.DataFrame) -> pd.Series | None:
    """Labels that can score a clustering of the assets: their sectors where those group them,
    else their asset classes (an ETF universe has one sector per fund); None when neither does.

    A labelling scores nothing when a label is unknown, when every asset is alone in its group
    (any clustering into that many groups matches it) or when all share one group.
    """
    for column in ("sector", "asset_class"):
        labels = assets[column]
        if not labels.eq("unknown").any() and 1 < labels.nunique() < len(labels):
            return labels
    return None
