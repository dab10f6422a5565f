"""Market data for the book: one `load` call over four sources, and the inputs models need."""
from __future__ import annotations

from helpers.data.bundled import load_bundled
from helpers.data.market import MAX_STALE_DAYS, MarketData, clean_prices, log_returns, stale_runs
from helpers.data.own_prices import load_csv
from helpers.data.sources import SOURCES, load
from helpers.data.spec import CrossSectionSpec, MarketSpec, WindowSpec
from helpers.data.synthetic import simulate
from helpers.data.truth import VARIANTS, SyntheticConfig, SyntheticTruth
from helpers.data.windows import (
    SPLITS,
    Splits,
    WindowedReturns,
    chronological_split,
    fit_standardizer,
    make_windows,
    rolling_windows,
)
from helpers.data.yahoo import DataUnavailableError, load_yfinance

__all__ = [
    "CrossSectionSpec",
    "DataUnavailableError",
    "MAX_STALE_DAYS",
    "MarketData",
    "MarketSpec",
    "SOURCES",
    "SPLITS",
    "Splits",
    "SyntheticConfig",
    "SyntheticTruth",
    "VARIANTS",
    "WindowSpec",
    "WindowedReturns",
    "chronological_split",
    "clean_prices",
    "fit_standardizer",
    "load",
    "load_bundled",
    "load_csv",
    "load_yfinance",
    "log_returns",
    "make_windows",
    "rolling_windows",
    "simulate",
    "stale_runs",
]
