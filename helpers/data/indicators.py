"""Market indicators derived from prices: trailing, so a value on day t uses data up to t."""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from helpers.data.calendar import TRADING_DAYS
from helpers.data.market import describe_indicators, log_returns
from helpers.validate import InputError


def realized_volatility_index(benchmark_returns: pd.Series, window: int = 21) -> pd.Series:
    """Annualized trailing volatility in percent: a stand-in for an implied-volatility index."""
    return 100 * np.sqrt(TRADING_DAYS) * benchmark_returns.rolling(window).std()


def momentum(benchmark: pd.Series, window: int = 20) -> pd.Series:
    """Trailing log return over `window` days."""
    return np.log(benchmark / benchmark.shift(window))


def mean_pairwise_correlation(returns: pd.DataFrame, window: int = 63) -> pd.Series:
    """Trailing mean of the off-diagonal correlations of the assets' returns."""
    n_assets = returns.shape[1]
    if n_assets < 2:
        raise InputError(f"mean pairwise correlation needs at least 2 assets, got {n_assets}")
    values = returns.to_numpy()
    out = np.full(len(returns), np.nan)
    if len(returns) >= window:
        blocks = sliding_window_view(values, window, axis=0)  # (T - w + 1, N, w)
        centred = blocks - blocks.mean(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):  # a flat or incomplete window gives NaN
            unit = centred / np.linalg.norm(centred, axis=2, keepdims=True)
        corr = np.einsum("tiw,tjw->tij", unit, unit)  # (T - w + 1, N, N)
        off_diagonal = (corr.sum(axis=(1, 2)) - n_assets) / (n_assets * (n_assets - 1))
        out[window - 1 :] = off_diagonal
    return pd.Series(out, index=returns.index)


def monthly_to_daily(monthly: pd.Series, days: pd.DatetimeIndex) -> pd.Series:
    """Carry a monthly average to days, usable only once its month is over.

    A monthly average for month M is known at the end of M, so it is first used on the
    first trading day of M+1: no day sees a value that averages its own future.
    """
    available_from = monthly.index.to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    shifted = pd.Series(monthly.to_numpy(), index=available_from, name=monthly.name)
    daily = shifted.reindex(days.union(shifted.index)).ffill().reindex(days)
    daily[days >= available_from[-1] + pd.offsets.MonthBegin(1)] = np.nan
    return daily


def derived_indicators(prices: pd.DataFrame, benchmark: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indicators every source gets from its own prices, with their descriptions."""
    bench_returns = log_returns(benchmark.to_frame()).iloc[:, 0].reindex(prices.index)
    frame = pd.DataFrame(
        {
            "realized_vol_21d": realized_volatility_index(bench_returns, 21),
            "momentum_20d": momentum(benchmark, 20),
            "mean_correlation_63d": mean_pairwise_correlation(
                log_returns(prices).reindex(prices.index), 63
            ),
        },
        index=prices.index,
    )
    info = describe_indicators(
        {
            "realized_vol_21d": (
                "annualized 21-day realized volatility of the benchmark, %",
                "derived",
                f"benchmark {benchmark.name}",
            ),
            "momentum_20d": ("20-day log return of the benchmark", "derived", f"benchmark {benchmark.name}"),
            "mean_correlation_63d": (
                "63-day mean pairwise correlation of the assets' returns",
                "derived",
                "asset prices",
            ),
        }
    )
    return frame, info
