"""Chapter 3's test against planted truth, repeated on many simulated markets of one setting.

One market is one draw of the simulator: whether a sparse dictionary finds its planted
events better or worse than principal components is a statement about markets of that
setting only when it holds over many draws. Each market gets its own dense autoencoder over
its return windows (the shared dense stage) and its own sparse autoencoder over those
embeddings, configured as the chapter configures its one market; all the markets' sparse
autoencoders are trained as one ensemble, each member stopping on its own.

Each family of scores (the sparse features, as many principal and independent components of
the embeddings as the dictionary has active features, and the window's own volatility)
picks on the training windows the member that best separates a target, and that member is
graded on the test windows by AUROC. The targets are the windows that hold a day of each
type of planted event and, with every score averaged over trailing windows and the
VIX-like index among the baselines, the true stress regime.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA, FastICA
from tqdm.auto import tqdm

from helpers.analysis.interpret import event_windows, pca_fvu, window_volatility
from helpers.analysis.metrics import rank_auroc
from helpers.analysis.replications import replication_interval
from helpers.data import MarketData
from helpers.experiments.embeddings import DenseStage
from helpers.experiments.sparse import SparseStage, SparseStageConfig, split_rows, train_sparse_ensemble
from helpers.train import adjusted, progress_hidden
from helpers.validate import InputError, as_count

SPARSE = "sparse feature"
STRESS = "stress regime"
VIX_LIKE = "VIX-like index"


@dataclass(frozen=True, kw_only=True)
class PlantedStudyConfig:
    """The chapter's stages on its first market (`sparse`, whose dense stage names the market),
    repeated on the markets of `market_seeds`: each market's simulator seed and its networks'
    seeds are its own seed, so the first market's stages are the chapter's where its networks'
    seed is its market's."""
    sparse: SparseStageConfig
    market_seeds: tuple[int, ...]
    smoothing: int = 21  # windows over which scores are averaged before they are compared with the stress regime

    def __post_init__(self) -> None:
        seeds = tuple(as_count(seed, "market_seeds", 0) for seed in self.market_seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise InputError(f"market_seeds={self.market_seeds!r}; expected distinct seeds, at least one")
        object.__setattr__(self, "market_seeds", seeds)
        object.__setattr__(self, "smoothing", as_count(self.smoothing, "smoothing"))
        if self.sparse.dense.windows.market.source != "synthetic":
            raise InputError(f"source={self.sparse.dense.windows.market.source!r}; the planted truth needs the "
                             "synthetic source")

    def market_configs(self) -> list[SparseStageConfig]:
        """The sparse stage's config on each market, its dense stage's inside it."""
        configs = []
        for seed in self.market_seeds:
            windows = self.sparse.dense.windows
            windows = replace(windows, market=replace(windows.market, seed=seed))
            dense = replace(self.sparse.dense, windows=windows, train=adjusted(self.sparse.dense.train, seed=seed))
            configs.append(replace(self.sparse, dense=dense, train=adjusted(self.sparse.train, seed=seed)))
        return configs


@dataclass(frozen=True)
class PlantedStudy:
    config: PlantedStudyConfig
    aurocs: pd.DataFrame  # market seed x (target, family): the test AUROC of the family's chosen member
    first_sparse: SparseStage  # the first market's sparse stage, the chapter's worked example
    reconstruction: pd.DataFrame  # market seed x (sparse FVU, PCA FVU): test FVU of the dictionary and of PCA


def run_planted_study(config: PlantedStudyConfig, denses: list[DenseStage]) -> PlantedStudy:
    """Grade every market, given each market's dense stage (in the order of `market_seeds`).

    The sparse autoencoders are trained as one ensemble; the dense ones are not: at the
    chapter's size the dense autoencoder's step is arithmetic, not overhead, so stacking the
    markets saves nothing per step, and one by one the stage cache keeps each market's dense
    stage for the chapters that read it."""
    configs = config.market_configs()
    sparses = train_sparse_ensemble(configs, denses, "sparse autoencoders, one per market")
    window = config.sparse.dense.windows.window
    rows, reconstruction = {}, {}
    for seed, sparse_config, dense, sparse in tqdm(zip(config.market_seeds, configs, denses, sparses, strict=True),
                                                   desc="grading", total=len(configs),
                                                   disable=progress_hidden(config.sparse.train)):
        market = sparse_config.dense.windows.market.load()
        families = planted_families(market, dense, sparse, window)
        rows[seed] = test_aurocs(families, planted_targets(market, dense, window),
                                 stress_families(families, market, config.smoothing),
                                 true_stress(market, dense.embeddings.index), split_rows(dense))
        reconstruction[seed] = dictionary_against_pca(dense, sparse)
    return PlantedStudy(config, pd.DataFrame(rows).T.rename_axis("market seed"), sparses[0],
                        pd.DataFrame(reconstruction).T.rename_axis("market seed"))


def dictionary_against_pca(dense: DenseStage, sparse: SparseStage) -> dict[str, float]:
    """The test FVU of the sparse dictionary and of PCA with as many components as it has
    active features, both fitted on the training embeddings."""
    rows, embeddings = split_rows(dense), dense.embeddings.to_numpy()
    return {"sparse FVU": float(sparse.metrics.loc["test", "fvu"]),
            "PCA FVU": pca_fvu(embeddings[rows["train"]], embeddings[rows["test"]], sparse.config.k)}


def planted_families(market: MarketData, dense: DenseStage, sparse: SparseStage, window: int
                     ) -> dict[str, pd.DataFrame]:
    """The families of scores on every window: the sparse features; as many principal and
    independent components of the embeddings, fitted on the training windows, as the
    dictionary has active features (the same number of chances to match a target); and the
    window's own volatility, a single number that needs no model."""
    embeddings, fit_rows, seed = dense.embeddings, split_rows(dense)["train"], sparse.config.train.seed
    components = {
        "PCA": PCA(sparse.config.k, random_state=seed).fit(embeddings[fit_rows]),
        "ICA": FastICA(sparse.config.k, whiten="unit-variance", max_iter=2000, random_state=seed).fit(
            embeddings[fit_rows]),
    }
    return {
        SPARSE: sparse.activations,
        **{f"{name} component": pd.DataFrame(model.transform(embeddings), index=embeddings.index).add_prefix(f"{name} ")
           for name, model in components.items()},
        "window volatility": window_volatility(market.returns, window).reindex(embeddings.index).to_frame(),
    }


def planted_targets(market: MarketData, dense: DenseStage, window: int) -> pd.DataFrame:
    """For each type of planted event, whether each window holds one of its days (windows x types)."""
    return event_windows(market.truth.events, market.returns.index, dense.embeddings.index, window)


def stress_families(families: dict[str, pd.DataFrame], market: MarketData, smoothing: int
                    ) -> dict[str, pd.DataFrame]:
    """The families for the slower stress regime: each score averaged over the `smoothing`
    trailing windows, and the VIX-like index, a forecast of volatility that never reads the
    regime, beside them."""
    index = next(iter(families.values())).index
    smoothed = {family: scores.rolling(smoothing, min_periods=1).mean() for family, scores in families.items()}
    return smoothed | {VIX_LIKE: market.indicators["vix_like"].reindex(index).to_frame()}


def true_stress(market: MarketData, index: pd.Index) -> pd.Series:
    """Whether the simulator's regime is stress on each window's last day."""
    return (market.truth.regimes.reindex(index) == 1).rename(STRESS)


def chosen_members(families: dict[str, pd.DataFrame], target: pd.Series, fit_rows: np.ndarray
                   ) -> tuple[pd.DataFrame, pd.Series]:
    """From each family the member that best separates the boolean `target` on `fit_rows`
    (AUROC, in either direction; the first of equals), signed so that higher points to the
    target: one column per family, and the name of each family's choice. The choice of
    `helpers.analysis.interpret.chosen_components`, with every member's AUROC from ranks
    at once, which the many markets need."""
    labels = target.to_numpy(dtype=bool)[fit_rows]
    if labels.all() or not labels.any():
        raise InputError(f"{target.name} takes one value on the fitting rows; AUROC is undefined")
    columns, names = {}, {}
    for family, scores in families.items():
        auroc = rank_auroc(scores.to_numpy(dtype=float)[fit_rows], labels)
        best = int(np.argmax(np.maximum(auroc, 1 - auroc)))
        columns[family] = (1 if auroc[best] >= 0.5 else -1) * scores.iloc[:, best]
        names[family] = scores.columns[best]
    return pd.DataFrame(columns), pd.Series(names, name="chosen")


def graded(families: dict[str, pd.DataFrame], target: pd.Series, rows: dict[str, np.ndarray]
           ) -> tuple[pd.DataFrame, pd.Series, pd.Series] | None:
    """Each family's member chosen on the training windows (see `chosen_members`): its scores
    on the test windows, the test windows' labels and the chosen members' names; None when
    the training or the test windows hold only one kind, so that nothing can be graded."""
    if any(target[rows[name]].nunique() < 2 for name in ("train", "test")):
        return None
    chosen, names = chosen_members(families, target, rows["train"])
    return chosen[rows["test"]], target[rows["test"]], names


def test_aurocs(families: dict[str, pd.DataFrame], events: pd.DataFrame, smoothed: dict[str, pd.DataFrame],
                stress: pd.Series, rows: dict[str, np.ndarray]) -> pd.Series:
    """The test AUROC of each family's chosen member, by (target, family): each planted event
    type with `families`, the stress regime with the `smoothed` families; NaN where a target
    cannot be graded."""
    aurocs = {}
    for target, scores in [(events[kind], families) for kind in events] + [(stress, smoothed)]:
        grade = graded(scores, target, rows)
        values = (np.full(len(scores), np.nan) if grade is None
                  else rank_auroc(grade[0].to_numpy(), grade[1].to_numpy()))
        aurocs |= {(target.name, family): value for family, value in zip(scores, values, strict=True)}
    return pd.Series(aurocs).rename_axis(["target", "family"])


def minus_sparse(aurocs: pd.DataFrame) -> pd.DataFrame:
    """Each baseline's test AUROC minus the sparse feature's, on the same market and target:
    market x (target, baseline)."""
    return pd.DataFrame({(target, family): aurocs[(target, family)] - aurocs[(target, SPARSE)]
                         for target, family in aurocs.columns if family != SPARSE}).rename_axis(
        columns=["target", "family"])


def over_markets(values: pd.DataFrame) -> pd.DataFrame:
    """Each column's mean over the markets that measured it, with its Student-t interval (the
    markets are independent draws) and their number; NaN where fewer than two measured it, as
    on a rerun whose markets leave a target without events in a split."""
    rows = {}
    for column, series in values.items():
        measured = series.dropna()
        interval = (replication_interval(measured) if len(measured) >= 2
                    else pd.Series(np.nan, index=["estimate", "low", "high"]))
        rows[column] = {**interval, "markets": len(measured)}
    return pd.DataFrame(rows).T.rename_axis(values.columns.names)
