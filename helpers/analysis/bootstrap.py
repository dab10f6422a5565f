"""Circular block bootstrap of daily series: confidence intervals that respect the
serial dependence (volatility clustering) of returns."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.validate import InputError, as_count, as_number, check_finite_frame


def block_bootstrap_indices(n_days: int, block: int = 21, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Row indices of `n_boot` resamples (n_boot, n_days), each a chain of circular blocks
    of `block` consecutive days starting at random days."""
    block, n_boot = as_count(block, "block"), as_count(n_boot, "n_boot")
    if block > n_days:
        raise InputError(f"block={block!r}; expected at most {n_days} days, the series length")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n_days // block)
    starts = rng.integers(0, n_days, size=(n_boot, n_blocks))
    offsets = np.arange(block)
    return ((starts[:, :, None] + offsets) % n_days).reshape(n_boot, -1)[:, :n_days]


def bootstrap_intervals(
    daily: pd.DataFrame,
    statistic: Callable[[np.ndarray], np.ndarray],
    block: int = 21,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Estimate and percentile interval of `statistic` for each column of `daily`.

    `statistic` maps a (days, columns) array to one value per column. The same resampled
    days serve every column, so intervals of differences between columns (see
    `bootstrap_differences`) are paired.
    """
    level = as_number(level, "level", 0, 1, open_low=True, open_high=True)
    values = check_finite_frame(daily, "daily").to_numpy(dtype=float)
    draws = np.stack([statistic(values[rows]) for rows in block_bootstrap_indices(len(values), block, n_boot, seed)])
    tail = (1 - level) / 2
    return pd.DataFrame(
        {
            "estimate": statistic(values),
            "low": np.quantile(draws, tail, axis=0),
            "high": np.quantile(draws, 1 - tail, axis=0),
        },
        index=daily.columns,
    )


def bootstrap_differences(
    daily: pd.DataFrame,
    statistic: Callable[[np.ndarray], np.ndarray],
    reference: str,
    block: int = 21,
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
