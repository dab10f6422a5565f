"""Intervals over independent replications: seeds, or whole simulated markets, each of
which gives one number. Unlike days, they are independent, so Student's t applies."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.validate import InputError, as_number


def replication_interval(values, level: float = 0.95) -> pd.Series:
    """Mean of the replications' values with its Student-t interval (estimate, low, high)."""
    level = as_number(level, "level", 0, 1, open_low=True, open_high=True)
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2 or not np.isfinite(values).all():
        raise InputError(f"values={values!r}; expected at least two finite numbers, one per replication")
    mean, error = values.mean(), stats.sem(values)
    half = error * stats.t.ppf(0.5 + level / 2, len(values) - 1)
    return pd.Series({"estimate": mean, "low": mean - half, "high": mean + half})


def rank_among(values: pd.Series, key, unit: str = "markets") -> str:
    """Where `values[key]` falls among `values`, largest first, in words ("ranks 3 of 20"):
    with ties a single rank would misplace it, so the words name the ranks it shares."""
    if key not in values.index:
        raise InputError(f"{key!r} is not among the {unit} {list(values.index)}")
    value = values[key]
    above, tied = int((values > value).sum()), int((values == value).sum())
    if tied == 1:
        return f"ranks {above + 1} of {len(values)}"
    return f"ties for ranks {above + 1} to {above + tied} of {len(values)} (equal on {tied} {unit})"
