"""One `load` call over the four sources."""
from __future__ import annotations

from helpers.data.bundled import load_bundled
from helpers.data.market import MarketData
from helpers.data.own_prices import load_csv
from helpers.data.synthetic import simulate
from helpers.data.truth import VARIANTS, SyntheticConfig
from helpers.data.yahoo import load_yfinance
from helpers.validate import InputError

SOURCES = ("bundled", "synthetic", "yfinance", "csv")


def load(source: str = "bundled", **options) -> MarketData:
    """Load a market.

    - ``bundled``: tickers, start, end, max_missing (see `load_bundled`).
    - ``synthetic``: options are the fields of `SyntheticConfig` (n_assets, n_days, seed, ...)
      and `variant`, one of `VARIANTS` ("default", "linear", "strongly_nonlinear",
      "event_rich", "characteristics_linear" or "characteristics_nonlinear"), whose settings
      the other options override.
    - ``yfinance``: tickers, start, end, max_missing (see `load_yfinance`).
    - ``csv``: path (or prices, a DataFrame), tickers, start, end, benchmark, indicators,
      assets_path, max_missing (see `load_csv`).
    """
    if source == "synthetic":
        variant = options.pop("variant", "default")
        if variant not in VARIANTS:
            raise InputError(f"variant={variant!r}; expected one of {list(VARIANTS)}")
        try:
            config = SyntheticConfig(**(VARIANTS[variant] | options))
        except TypeError as error:
            raise InputError(f"{error}; the synthetic options are the fields of SyntheticConfig") from error
        return simulate(config)
    if source == "bundled":
        return load_bundled(**options)
    if source == "yfinance":
        return load_yfinance(**options)
    if source == "csv":
        return load_csv(**options)
    raise InputError(f"source={source!r}; expected one of {list(SOURCES)}")
