"""Per-asset signals: features known at each close, forward-return targets, purged
time-series validation, and the metrics a cross-sectional signal is judged by."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import stats

from helpers.analysis.bootstrap import bootstrap_intervals
from helpers.validate import InputError

LAGS = (1, 5, 21, 63)


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


def forward_returns(prices: pd.DataFrame, horizon: int = 5) -> pd.DataFrame:
    """Log return from each close to the close `horizon` days later (date x asset)."""
    if not isinstance(horizon, int) or horizon < 1:
        raise InputError(f"horizon={horizon!r}; expected a positive integer (days)")
    log_prices = np.log(prices)
    return log_prices.shift(-horizon) - log_prices


def cross_sectional_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Each date's rank across assets, centred in [-0.5, 0.5]."""
    return frame.rank(axis=1, pct=True) - 0.5


class PurgedTimeSeriesSplit:
    """Expanding-window folds by date, with a purge gap between training and validation.

    The dates are cut into `n_splits + 1` consecutive blocks; fold k validates on block
    k + 1 and trains on every date before it except the last `gap` ones, so that no
    training target (which looks `horizon` days ahead) overlaps the validation period.
    Choose gap > horizon.
    """

    def __init__(self, n_splits: int = 3, gap: int = 10) -> None:
        self.n_splits = n_splits
        self.gap = gap

    def split(self, dates: pd.Index) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Row positions (train, validation) of each fold, for rows labelled by `dates`."""
        if not isinstance(self.n_splits, int) or self.n_splits < 1:
            raise InputError(f"n_splits={self.n_splits!r}; expected a positive integer")
        if not isinstance(self.gap, int) or self.gap < 0:
            raise InputError(f"gap={self.gap!r}; expected an integer >= 0 (days)")
        dates = pd.DatetimeIndex(dates)
        unique = dates.unique().sort_values()
        blocks = np.array_split(np.arange(len(unique)), self.n_splits + 1)
        for block in blocks[1:]:
            last_train = block[0] - self.gap
            if last_train < 1:
                raise InputError(f"gap={self.gap} leaves no training dates before a fold of {len(unique)} dates")
            train_dates, validation_dates = unique[:last_train], unique[block]
            yield np.flatnonzero(dates.isin(train_dates)), np.flatnonzero(dates.isin(validation_dates))


def daily_rank_ic(signal: pd.DataFrame, realized: pd.DataFrame) -> pd.Series:
    """Spearman correlation across assets between each date's signal and realized return."""
    signal, realized = signal.align(realized, join="inner")
    return signal.rank(axis=1).corrwith(realized.rank(axis=1), axis=1).dropna().rename("rank IC")


def ic_summary(ic: pd.Series, horizon: int, block: int = 21, n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Mean daily rank IC with a block-bootstrap 95% interval, and a t-statistic on every
    `horizon`-th day (targets of consecutive days overlap, so daily ICs are not independent)."""
    spaced = ic.iloc[::horizon]
    interval = bootstrap_intervals(ic.to_frame(), lambda v: v.mean(axis=0), block, n_boot, seed=seed).iloc[0]
    return {
        "mean IC": float(ic.mean()),
        "IC low": float(interval["low"]),
        "IC high": float(interval["high"]),
        "t-statistic": float(stats.ttest_1samp(spaced, 0.0).statistic),
    }


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
