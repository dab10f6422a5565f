"""Chronological splits, a standardizer fit on the training days, and flattened return windows.

Nothing here looks ahead: a window ends on its date and holds that day and the W-1 before
it; the standardizer's mean and scale come from training days only; split boundaries are
dates, so values after a date never move a boundary.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import StandardScaler

from helpers.validate import InputError, as_count, as_period_end, check_days, check_finite_frame

SPLITS = ("train", "validation", "test")


class Splits(NamedTuple):
    train: pd.DatetimeIndex
    validation: pd.DatetimeIndex
    test: pd.DatetimeIndex


def chronological_split(
    days: pd.DatetimeIndex,
    train_end: str | float = 0.6,
    validation_end: str | float = 0.8,
    gap: int = 0,
) -> Splits:
    """Train up to `train_end`, validation up to `validation_end`, test after; ends inclusive.

    An end is a date or a fraction of the days. `gap` days are left out after each
    boundary, so that windows or forward-looking targets cannot straddle two sets.
    """
    days = check_days(days)
    gap = as_count(gap, "gap", minimum=0)
    train_last = _boundary(days, train_end, "train_end")
    validation_last = _boundary(days, validation_end, "validation_end")
    if validation_last <= train_last:
        raise InputError(
            f"validation_end={validation_end!r} falls on or before train_end={train_end!r}: "
            "the sets would overlap; validation_end must come later"
        )
    train = days[: train_last + 1]
    validation = days[train_last + 1 + gap : validation_last + 1]
    test = days[validation_last + 1 + gap :]
    for name, members in zip(SPLITS, (train, validation, test), strict=True):
        if len(members) == 0:
            raise InputError(
                f"the {name} set is empty (train_end={train_end!r}, validation_end={validation_end!r}, "
                f"gap={gap}, days {days[0].date()}..{days[-1].date()}); move the split dates"
            )
    return Splits(train, validation, test)


def _boundary(days: pd.DatetimeIndex, end: str | float, name: str) -> int:
    """Position of the last day on or before `end` (a fraction of the days, a date or a year)."""
    end_value = as_period_end(end, name)
    if isinstance(end_value, float):
        return int(round(end_value * len(days))) - 1
    position = int(days.searchsorted(end_value, side="right")) - 1
    if position < 0:
        raise InputError(f"{name}={end!r} is before the first day {days[0].date()}")
    return position


@dataclass(frozen=True)
class WindowedReturns:
    """Flattened windows per split; row i of `inputs[s]` ends on `dates[s][i]`.

    A flattened window is day-major: `x.reshape(window, len(tickers))` gives it back as
    (day, asset), oldest day first.
    """

    inputs: dict[str, np.ndarray]
    dates: dict[str, pd.DatetimeIndex]
    standardized: pd.DataFrame
    scaler: StandardScaler
    window: int
    tickers: list[str]

    @property
    def n_features(self) -> int:
        return self.window * len(self.tickers)

    def all_inputs(self) -> tuple[np.ndarray, pd.DatetimeIndex]:
        """Every window in date order, with its end date."""
        dates = self.dates["train"].append([self.dates["validation"], self.dates["test"]])
        return np.concatenate([self.inputs[s] for s in SPLITS]), dates


def fit_standardizer(returns: pd.DataFrame, train_days: pd.DatetimeIndex) -> StandardScaler:
    """Mean and scale of each column over the training days only.

    A column that never moves on the training days has no scale to divide by; scikit-learn
    would quietly use 1, so it raises instead, naming the series.
    """
    rows = returns.index.intersection(train_days)
    if len(rows) < 2:
        raise InputError(f"the standardizer needs at least 2 training days, found {len(rows)}")
    flat = returns.loc[rows].std() == 0
    if flat.any():
        raise InputError(
            f"{list(flat[flat].index)} do not move on any of the {len(rows)} training days "
            f"({rows[0].date()}..{rows[-1].date()}): a stale series has no scale; drop it or move the dates"
        )
    return StandardScaler().set_output(transform="pandas").fit(returns.loc[rows])


def rolling_windows(frame: pd.DataFrame, window: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """All windows of `window` consecutive rows, flattened day-major, with their end dates."""
    window = as_count(window, "window")
    if window > len(frame):
        raise InputError(f"window={window} is longer than the history of {len(frame)} days")
    check_finite_frame(frame, "the windowed frame")
    blocks = sliding_window_view(frame.to_numpy(), window, axis=0)  # (T - W + 1, N, W)
    flat = blocks.transpose(0, 2, 1).reshape(len(blocks), -1)  # (T - W + 1, W * N)
    return np.ascontiguousarray(flat, dtype=np.float32), frame.index[window - 1 :]


def make_windows(returns: pd.DataFrame, window: int, splits: Splits) -> WindowedReturns:
    """Standardize with training statistics, cut windows, and file each under its end date's split."""
    window = as_count(window, "window")
    check_finite_frame(returns, "returns")
    scaler = fit_standardizer(returns, splits.train)
    standardized = scaler.transform(returns)
    flat, ends = rolling_windows(standardized, window)
    inputs, dates = {}, {}
    for name, members in zip(SPLITS, splits, strict=True):
        mask = ends.isin(members)
        inputs[name], dates[name] = flat[mask], ends[mask]
        if not mask.any():
            raise InputError(f"no {window}-day window ends in the {name} set; use a shorter window")
    return WindowedReturns(inputs, dates, standardized, scaler, window, list(returns.columns))
