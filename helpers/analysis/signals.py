"""Per-asset signals: features known at each close, forward-return targets, purged
time-series validation, and the metrics a cross-sectional signal is judged by."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from helpers.analysis.bootstrap import bootstrap_differences, bootstrap_intervals, mean_of_columns
from helpers.validate import InputError

LAGS = (1, 5, 21, 63)
SINGLE_FEATURES = {  # signal -> (feature, sign): the directions the literature names, fixed before any data
    "reversal (minus 5-day return)": ("return 5d", -1),
    "momentum (21-day return)": ("return 21d", 1),
    "low volatility (minus 21-day volatility)": ("volatility 21d", -1),
}


def asset_features(prices: pd.DataFrame, lags=LAGS, vol_window: int = 21, ma_window: int = 50) -> pd.DataFrame:
    """Features of each (date, asset) from prices up to that date's close: log returns over
    `lags`, realized volatility, distance from the moving average, and the cross-sectional
    rank of each (centred, in [-0.5, 0.5]). The first days lack a full history; they are
    dropped, as the index shows."""
    log_prices = np.log(prices)
    returns = log_prices.diff()
    raw = {f"return {lag}d": log_prices.diff(lag) for lag in lags}
    raw[f"volatility {vol_window}d"] = returns.rolling(vol_window).std()
    raw[f"distance from {ma_window}d average"] = log_prices - log_prices.rolling(ma_window).mean()
    columns = dict(raw)
    for name, frame in raw.items():
        columns[f"rank of {name}"] = cross_sectional_rank(frame)
    stacked = pd.concat({name: frame.stack(future_stack=True) for name, frame in columns.items()}, axis=1)
    stacked.index.names = ["date", "asset"]
    return stacked.dropna()


def single_feature_signals(features: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The one-feature signals of SINGLE_FEATURES (date x asset), the baselines a learned
    signal has to beat: nothing is fit, so nothing can leak."""
    missing = [column for column, _ in SINGLE_FEATURES.values() if column not in features.columns]
    if missing:
        raise InputError(f"features lack {missing}; expected the columns asset_features makes")
    return {name: sign * features[column].unstack() for name, (column, sign) in SINGLE_FEATURES.items()}


def forward_returns(prices: pd.DataFrame, horizon: int = 5) -> pd.DataFrame:
    """Log return from each close to the close `horizon` days later (date x asset)."""
    if not isinstance(horizon, int) or horizon < 1:
        raise InputError(f"horizon={horizon!r}; expected a positive integer (days)")
    log_prices = np.log(prices)
    return log_prices.shift(-horizon) - log_prices


def cross_sectional_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Each date's rank across assets, centred in [-0.5, 0.5]."""
    return frame.rank(axis=1, pct=True) - 0.5


class PurgedTimeSeriesSplit(BaseCrossValidator):
    """Expanding-window folds by date, with a purge gap between training and validation: a
    scikit-learn cross-validator, so it can be passed as `cv=` to `cross_val_score`,
    `GridSearchCV` and the like.

    The dates are cut into `n_splits + 1` consecutive blocks; fold k validates on block
    k + 1 and trains on every date before it except the last `gap` ones, so that no
    training target (which looks `horizon` days ahead) overlaps the validation period.
    Choose gap > horizon. Rows are dated by `groups` when it is given, otherwise by X:
    a DatetimeIndex, or a frame or series indexed by date or by (date, asset).
    """

    def __init__(self, n_splits: int = 3, gap: int = 10) -> None:
        self.n_splits = n_splits
        self.gap = gap

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Row positions (train, validation) of each fold."""
        if not isinstance(self.n_splits, int) or self.n_splits < 1:
            raise InputError(f"n_splits={self.n_splits!r}; expected a positive integer")
        if not isinstance(self.gap, int) or self.gap < 0:
            raise InputError(f"gap={self.gap!r}; expected an integer >= 0 (days)")
        dates = row_dates(X, groups)
        unique = dates.unique().sort_values()
        blocks = np.array_split(np.arange(len(unique)), self.n_splits + 1)
        for block in blocks[1:]:
            last_train = block[0] - self.gap
            if last_train < 1:
                raise InputError(f"gap={self.gap} leaves no training dates before a fold of {len(unique)} dates")
            train_dates, validation_dates = unique[:last_train], unique[block]
            yield np.flatnonzero(dates.isin(train_dates)), np.flatnonzero(dates.isin(validation_dates))


def row_dates(X, groups=None) -> pd.DatetimeIndex:
    """The date of each row: `groups` if given, else X's dates (see PurgedTimeSeriesSplit)."""
    if groups is not None:
        return pd.DatetimeIndex(groups)
    if isinstance(X, pd.DatetimeIndex):
        return X
    index = getattr(X, "index", None)
    if isinstance(index, pd.MultiIndex) and "date" in index.names:
        return pd.DatetimeIndex(index.get_level_values("date"))
    if isinstance(index, pd.DatetimeIndex):
        return index
    raise InputError(f"cannot date the rows of a {type(X).__name__}; pass groups=<the date of each row>, or X "
                     "indexed by date or by a (date, asset) MultiIndex")


def daily_rank_ic(signal: pd.DataFrame, realized: pd.DataFrame) -> pd.Series:
    """Spearman correlation across assets between each date's signal and realized return."""
    signal, realized = signal.align(realized, join="inner")
    return signal.rank(axis=1).corrwith(realized.rank(axis=1), axis=1).dropna().rename("rank IC")


def ic_table(daily_ics: pd.DataFrame, block: int | None = None, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Mean daily rank IC of each column with a 95% interval from a circular block bootstrap
    of the days. Consecutive days' targets overlap and ICs persist, so the days are resampled
    in blocks, by default of the length the data choose (Politis and White), one length for
    every column so that differences between columns stay paired."""
    table = bootstrap_intervals(daily_ics, mean_of_columns, block, n_boot, seed=seed)
    return table.rename(columns={"estimate": "mean IC", "low": "IC low", "high": "IC high"})


def ic_differences(daily_ics: pd.DataFrame, reference: str, block: int | None = None, n_boot: int = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """Each column's mean daily IC minus the reference column's, paired by day, with 95% intervals."""
    return bootstrap_differences(daily_ics, mean_of_columns, reference, block, n_boot, seed=seed)


def hit_rate(signal: pd.DataFrame, realized: pd.DataFrame) -> float:
    """Share of (date, asset) pairs where the signal and the realized return fall on the
    same side of their cross-sectional medians."""
    signal, realized = signal.align(realized, join="inner")
    above_signal = signal.sub(signal.median(axis=1), axis=0) > 0
    above_return = realized.sub(realized.median(axis=1), axis=0) > 0
    valid = signal.notna() & realized.notna()
    return float((above_signal == above_return)[valid].stack().mean())


def quantile_spread(signal: pd.DataFrame, realized: pd.DataFrame, quantiles: int = 5) -> float:
    """Mean over dates of the top-minus-bottom quantile mean realized return."""
    signal, realized = signal.align(realized, join="inner")
    ranks = signal.rank(axis=1, pct=True)
    top = realized.where(ranks > 1 - 1 / quantiles).mean(axis=1)
    bottom = realized.where(ranks <= 1 / quantiles).mean(axis=1)
    return float((top - bottom).mean())


def choose_checkpoints(validation_ic: pd.DataFrame) -> dict[str, int]:
    """For each model (first column level), the checkpoint epoch with the best validation
    IC averaged over folds (second level)."""
    mean_ic = validation_ic.T.groupby(level=0, sort=False).mean().T
    return {name: int(mean_ic[name].idxmax()) for name in mean_ic.columns}
