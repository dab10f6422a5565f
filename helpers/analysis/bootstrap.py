"""Circular block bootstrap of daily series (arch's): confidence intervals that respect
the serial dependence (volatility clustering) of returns, with a block length the data
choose when none is given."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from arch.bootstrap import CircularBlockBootstrap, optimal_block_length

from helpers.analysis.metrics import rank_auroc
from helpers.validate import InputError, as_count, as_number, check_finite_frame


def data_chosen_block(daily: pd.DataFrame) -> int:
    """One block length for every column, so that resamples stay paired: the longest of
    Politis and White's circular-bootstrap lengths over the columns and their squares (a
    Sharpe ratio depends on the volatility's persistence as much as on the mean's),
    rounded up."""
    values = check_finite_frame(daily, "daily").to_numpy(dtype=float)
    if len(values) < 10:
        raise InputError(f"daily has {len(values)} rows; expected at least 10 days to choose a block length")
    centred = values - values.mean(axis=0)
    lengths = [optimal_block_length(series)["circular"].max() for series in (values, centred**2)]
    return int(np.ceil(max(lengths)))


def block_bootstrap_indices(n_days: int, block: int = 21, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Row indices of `n_boot` resamples (n_boot, n_days), each a chain of circular blocks
    of `block` consecutive days starting at random days."""
    block, n_boot = as_count(block, "block"), as_count(n_boot, "n_boot")
    if block > n_days:
        raise InputError(f"block={block!r}; expected at most {n_days} days, the series length")
    resampler = CircularBlockBootstrap(block, np.arange(n_days), seed=seed)
    return np.stack([positional[0] for positional, _ in resampler.bootstrap(n_boot)])


def resolve_block(daily: pd.DataFrame, block: int | None) -> int:
    """The given block length, or the data's choice when it is None."""
    return data_chosen_block(daily) if block is None else as_count(block, "block")


def mean_of_columns(values: np.ndarray) -> np.ndarray:
    """The statistic most intervals bootstrap: each column's mean over the resampled days."""
    return values.mean(axis=0)


def bootstrap_draws(
    daily: pd.DataFrame,
    statistic: Callable[[np.ndarray], np.ndarray],
    block: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """`statistic` of every column on each resample (n_boot rows): the distribution of a
    path statistic, such as the worst drawdown, over resampled paths."""
    values = check_finite_frame(daily, "daily").to_numpy(dtype=float)
    rows = block_bootstrap_indices(len(values), resolve_block(daily, block), n_boot, seed)
    return pd.DataFrame(np.stack([statistic(values[resample]) for resample in rows]), columns=daily.columns)


def bootstrap_intervals(
    daily: pd.DataFrame,
    statistic: Callable[[np.ndarray], np.ndarray],
    block: int | None = 21,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Estimate and percentile interval of `statistic` for each column of `daily`.

    `statistic` maps a (days, columns) array to one value per column. The same resampled
    days serve every column, so intervals of differences between columns (see
    `bootstrap_differences`) are paired. `block=None` lets the data choose the block.
    """
    level = as_number(level, "level", 0, 1, open_low=True, open_high=True)
    draws = bootstrap_draws(daily, statistic, block, n_boot, seed).to_numpy()
    tail = (1 - level) / 2
    return pd.DataFrame(
        {
            "estimate": statistic(daily.to_numpy(dtype=float)),
            "low": np.quantile(draws, tail, axis=0),
            "high": np.quantile(draws, 1 - tail, axis=0),
        },
        index=daily.columns,
    )


def bootstrap_differences(
    daily: pd.DataFrame,
    statistic: Callable[[np.ndarray], np.ndarray],
    reference: str,
    block: int | None = 21,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each column's statistic minus the reference column's, with a paired interval."""
    if reference not in daily.columns:
        raise InputError(f"reference={reference!r}; expected one of {list(daily.columns)}")
    position = list(daily.columns).index(reference)

    def difference(values: np.ndarray) -> np.ndarray:
        result = statistic(values)
        return result - result[position]

    return bootstrap_intervals(daily, difference, block, n_boot, level, seed)


def labelled_score_differences(
    calls: pd.DataFrame, labels: pd.Series, reference: str,
    score: Callable[[np.ndarray, np.ndarray], np.ndarray], block: int | None = None, n_boot: int = 1000,
    level: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Each column's score against `labels` minus the reference column's, with a paired
    interval: the columns and the labels are resampled together, in circular blocks of days.
    `score(values, labels)` maps a (days, columns) array and those days' labels to one score
    per column (an AUROC, a balanced accuracy, an adjusted Rand index). Labels come in
    spells, so a resample can hold one kind of label only and have no score: such resamples
    are left out, at most half of them, and the column `resamples` says how many were used."""
    if reference not in calls.columns:
        raise InputError(f"reference={reference!r}; expected one of {list(calls.columns)}")
    if not labels.index.equals(calls.index):
        raise InputError("labels must be on the days of the scores")
    level = as_number(level, "level", 0, 1, open_low=True, open_high=True)
    block = resolve_block(calls, block)
    values, truth = calls.to_numpy(dtype=float), labels.to_numpy()
    position = list(calls.columns).index(reference)

    def difference(rows: np.ndarray) -> np.ndarray | None:
        if len(np.unique(truth[rows])) < 2:
            return None
        scores = np.asarray(score(values[rows], truth[rows]), dtype=float)
        return scores - scores[position]

    draws = [difference(rows) for rows in block_bootstrap_indices(len(values), block, n_boot, seed)]
    used = np.array([draw for draw in draws if draw is not None]).reshape(-1, calls.shape[1])
    if len(used) < n_boot / 2:
        raise InputError(f"only {len(used)} of {n_boot} resamples hold more than one kind of label; expected most "
                         f"of them (try a shorter block than {block})")
    tail = (1 - level) / 2
    return pd.DataFrame({"estimate": difference(np.arange(len(values))), "low": np.quantile(used, tail, axis=0),
                         "high": np.quantile(used, 1 - tail, axis=0), "resamples": len(used)}, index=calls.columns)


def auroc_differences(
    scores: pd.DataFrame, labels: pd.Series, reference: str, block: int | None = None, n_boot: int = 1000,
    level: float = 0.95, seed: int = 0,
) -> pd.DataFrame:
    """Each score's AUROC for the boolean `labels` minus the reference score's, with a paired
    interval (see `labelled_score_differences`)."""
    return labelled_score_differences(scores, labels.astype(float) > 0.5, reference, rank_auroc, block, n_boot,
                                      level, seed)


def auroc_intervals(
    scores: pd.DataFrame, labels: pd.Series, block: int | None = None, n_boot: int = 1000, level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each score's AUROC for the boolean `labels`, with an interval: its paired difference
    from a constant score, whose AUROC is one half, shifted by one half. The block length is
    the scores' own choice when none is given, so the same call with the same seed
    resamples the same days as `auroc_differences` on those scores."""
    if "chance" in scores.columns:
        raise InputError("scores has a column named 'chance'; the constant reference needs that name")
    block = resolve_block(scores, block)
    over_chance = auroc_differences(scores.assign(chance=0.0), labels, "chance", block, n_boot, level, seed)
    shifted = over_chance.loc[scores.columns]
    return shifted.assign(**{column: 0.5 + shifted[column] for column in ("estimate", "low", "high")})
