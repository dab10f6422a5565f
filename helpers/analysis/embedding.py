"""Reading embeddings: reconstruction quality, 2-D views, and market states by KMeans."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data

from helpers.analysis.metrics import annualized_volatility, mean_correlation
from helpers.analysis.residuals import factor_residuals
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


def market_residual_returns(prices: pd.DataFrame, benchmark: pd.Series, fit_days: pd.DatetimeIndex,
                            days: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Daily log returns on `days` (default: `fit_days`) less each stock's beta times the
    benchmark's, with the betas estimated over `fit_days` only: a later period is read with
    the earlier period's betas. An asset that is the benchmark has no residual: 0, where
    scaling nothing would divide zero by zero."""
    all_returns, all_bench = np.log(prices).diff(), np.log(benchmark).diff().rename("benchmark").to_frame()
    days = fit_days if days is None else days
    residual = factor_residuals(all_returns, all_bench, fit_days, days)
    fit_residual = factor_residuals(all_returns, all_bench, fit_days, fit_days)
    residual.loc[:, fit_residual.std() <= 1e-8 * all_returns.loc[fit_days].std()] = 0.0
    return residual


def stock_features(prices: pd.DataFrame, benchmark: pd.Series, days: pd.DatetimeIndex, step: int = 5) -> pd.DataFrame:
    """One row per stock: its market-residual 5-day returns, 20-day moving-average distance
    and 20-day volatility, sampled every `step` days over `days`, each series z-scored.

    Residual returns remove each stock's beta to the benchmark (estimated over `days`), so
    stocks group by what they share beyond the market: their sector.
    """
    residual = market_residual_returns(prices, benchmark, days)
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


def nearest_neighbours(points: pd.DataFrame) -> pd.Series:
    """Each row's nearest other row (Euclidean): the partner an embedding proposes for a pair."""
    if len(points) < 2:
        raise InputError(f"points has {len(points)} rows; a neighbour needs at least 2")
    indices = NearestNeighbors(n_neighbors=2).fit(points).kneighbors(points, return_distance=False)
    own = np.arange(len(points))
    partner = np.where(indices[:, 0] == own, indices[:, 1], indices[:, 0])  # a duplicate point may come first
    return pd.Series(points.index[partner], index=points.index, name="partner")


def pair_correlations(residuals: pd.DataFrame, partners: pd.Series) -> pd.Series:
    """Each stock's correlation with its partner over the rows of `residuals`: how well a
    pair chosen on one period co-moves in another."""
    correlation = residuals.corr()
    return pd.Series([correlation.loc[stock, partner] for stock, partner in partners.items()], index=partners.index,
                     name="pair correlation")


def cluster_representatives(points: pd.DataFrame, clusters: np.ndarray) -> list:
    """The member of each cluster nearest its centre: one holding per group, the simplest
    portfolio that spreads over what the clustering says is different."""
    chosen = []
    for cluster in np.unique(clusters):
        members = points[np.asarray(clusters) == cluster]
        distance = ((members - members.mean()) ** 2).sum(axis=1)
        chosen.append(distance.idxmin())
    return chosen


def stock_embedding_scores(embeddings: dict[str, pd.DataFrame], groups: pd.Series, test_residuals: pd.DataFrame,
                           test_returns: pd.DataFrame, n_random: int = 200, seed: int = 0) -> pd.DataFrame:
    """How each embedding of the stocks serves three uses on days after those it was built
    from: KMeans clusters that match the groups (ARI), nearest-neighbour pairs that co-move
    (each stock's residual correlation with its partner, averaged) and one holding per
    cluster that spreads risk (annualized volatility of that equal-weight portfolio, %).
    The row "chance" scores `n_random` random labellings, all pairs and random picks of as
    many stocks."""
    n_groups = groups.nunique()
    rows = {}
    for name, points in embeddings.items():
        points = points.loc[groups.index]
        clusters = KMeans(n_clusters=n_groups, n_init=10, random_state=seed).fit_predict(points)
        holdings = cluster_representatives(points, clusters)
        rows[name] = {
            "ARI": adjusted_rand_score(groups, clusters),
            "pair correlation": float(pair_correlations(test_residuals, nearest_neighbours(points)).mean()),
            "diversified volatility": float(annualized_volatility(test_returns[holdings].mean(axis=1).to_numpy())),
        }
    rng = np.random.default_rng(seed)
    correlation = test_residuals[groups.index].corr().to_numpy()
    picks = [rng.choice(groups.index, n_groups, replace=False) for _ in range(n_random)]
    rows["chance"] = {
        "ARI": float(np.mean([adjusted_rand_score(groups, rng.permutation(groups.to_numpy()))
                              for _ in range(n_random)])),
        "pair correlation": float(correlation[~np.eye(len(correlation), dtype=bool)].mean()),
        "diversified volatility": float(np.mean(
            [annualized_volatility(test_returns[list(pick)].mean(axis=1).to_numpy()) for pick in picks])),
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("embedding")


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
