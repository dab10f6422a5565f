"""Market data for the book: one `load` call over three sources, and the inputs models need."""
from __future__ import annotations

from helpers.data.bundled import load_bundled
from helpers.data.market import MarketData, clean_prices, log_returns
from helpers.data.spec import CrossSectionSpec, MarketSpec, WindowSpec
from helpers.data.synthetic import VARIANTS, SyntheticConfig, SyntheticTruth, simulate
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

SOURCES = ("synthetic", "bundled", "yfinance")

__all__ = [
    "CrossSectionSpec",
    "SOURCES",
    "SPLITS",
    "DataUnavailableError",
    "MarketData",
    "MarketSpec",
    "Splits",
    "SyntheticConfig",
    "SyntheticTruth",
    "WindowSpec",
    "WindowedReturns",
    "chronological_split",
    "clean_prices",
    "fit_standardizer",
    "load",
    "log_returns",
    "make_windows",
    "rolling_windows",
    "simulate",
]


def load(source: str = "bundled", **options) -> MarketData:
    """Load a market.

    - ``synthetic``: options are the fields of `SyntheticConfig` (n_assets, n_days, seed, ...)
      and `variant`, one of `VARIANTS` ("regimes", the default, or "linear"), whose settings
      the other options override.
    - ``bundled``: tickers, start, end, max_missing (see `load_bundled`).
    - ``yfinance``: tickers, start, end, max_missing (see `load_yfinance`).
    """
    if source == "synthetic":
        variant = options.pop("variant", "regimes")
        if variant not in VARIANTS:
            raise ValueError(f"variant={variant!r}; expected one of {list(VARIANTS)}")
        try:
            config = SyntheticConfig(**(VARIANTS[variant] | options))
        except TypeError as error:
            raise ValueError(f"{error}; the synthetic options are the fields of SyntheticConfig") from error
        return simulate(config)
    if source == "bundled":
        return load_bundled(**options)
    if source == "yfinance":
        return load_yfinance(**options)
    raise ValueError(f"source={source!r}; expected one of {list(SOURCES)}")
