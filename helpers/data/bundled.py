"""Real daily data that ships inside PyPI packages (skfolio, arch): no network needed."""
from __future__ import annotations

import logging

import pandas as pd
from arch.data import default as moody_yields
from arch.data import vix as arch_vix
from arch.data import wti as arch_wti
from skfolio.datasets import load_factors_dataset, load_sp500_dataset, load_sp500_index

from helpers.data.assemble import assemble_market
from helpers.data.indicators import monthly_to_daily
from helpers.data.market import (
    MarketData,
    align_to_calendar,
    clean_prices,
    date_range,
    describe_indicators,
)
from helpers.validate import InputError, as_tickers

logger = logging.getLogger(__name__)

STOCK_SECTORS = {
    "AAPL": "Technology",
    "AMD": "Technology",
    "MSFT": "Technology",
    "BAC": "Financials",
    "JPM": "Financials",
    "BBY": "Consumer Discretionary",
    "HD": "Consumer Discretionary",
    "CVX": "Energy",
    "XOM": "Energy",
    "RRC": "Energy",
    "GE": "Industrials",
    "JNJ": "Health Care",
    "LLY": "Health Care",
    "MRK": "Health Care",
    "PFE": "Health Care",
    "UNH": "Health Care",
    "KO": "Consumer Staples",
    "PEP": "Consumer Staples",
    "PG": "Consumer Staples",
    "WMT": "Consumer Staples",
}
FACTOR_ETFS = ("MTUM", "QUAL", "SIZE", "USMV", "VLUE")
DEFAULT_TICKERS = tuple(STOCK_SECTORS)
AVAILABLE = DEFAULT_TICKERS + FACTOR_ETFS


def load_bundled(
    tickers: list[str] | tuple[str, ...] | None = None,
    start: str | None = None,
    end: str | None = None,
    max_missing: float = 0.02,
) -> MarketData:
    """skfolio's S&P 500 stocks and factor ETFs with the S&P 500 index as benchmark.

    The 20 stocks span 1990-01-02..2022-12-28 and the factor ETFs 2014-01-02..2022-12-28;
    asking for an ETF with an earlier start moves the start to its first quote, with a
    warning (see `clean_prices`).
    Indicators: arch's VIX (2014..2019) and WTI oil price (1986..2019), the BAA-AAA credit
    spread from arch's monthly Moody's yields (used from the month after each average),
    and the derived realized volatility, momentum and mean correlation.
    """
    tickers = as_tickers(DEFAULT_TICKERS if tickers is None else tickers)
    unknown = [t for t in tickers if t not in AVAILABLE]
    if unknown:
        raise InputError(f"tickers {unknown} are not bundled; the bundled tickers are {list(AVAILABLE)}")

    panel = pd.concat([load_sp500_dataset(), load_factors_dataset()], axis=1)
    prices = date_range(panel.loc[:, list(tickers)], start, end, "the bundled data")
    prices = clean_prices(prices, max_missing=max_missing)
    benchmark = load_sp500_index()["SP500"].reindex(prices.index).rename("SP500")
    if benchmark.isna().any():
        raise InputError("the S&P 500 index misses days of the stock calendar")
    days = prices.index

    yields = moody_yields.load()
    observed = pd.DataFrame(
        {
            "vix": align_to_calendar(arch_vix.load()["vix"].rename("vix"), days),
            "wti": align_to_calendar(arch_wti.load()["DCOILWTICO"].rename("wti"), days),
            "credit_spread": monthly_to_daily(yields["BAA"] - yields["AAA"], days),
        },
        index=days,
    )
    observed_info = describe_indicators(
        {
            "vix": ("CBOE volatility index, %", "observed", "arch.data.vix (2014-2019)"),
            "wti": ("West Texas Intermediate crude oil, $/barrel", "observed", "arch.data.wti (FRED)"),
            "credit_spread": (
                "Moody's BAA minus AAA yield, % points; monthly, used from the next month on",
                "derived",
                "arch.data.default (monthly)",
            ),
        }
    )
    assets = pd.DataFrame(
        {
            "asset_class": ["equity" if t in STOCK_SECTORS else "factor ETF" for t in tickers],
            "sector": [STOCK_SECTORS.get(t, "Multi-sector") for t in tickers],
        },
        index=list(tickers),
    )
    return assemble_market(
        prices,
        benchmark,
        observed,
        observed_info,
        assets,
        source="bundled",
        notes=(
            "prices: skfolio.datasets (adjusted closes); benchmark: skfolio's S&P 500 index",
            "no yield-curve series ships in these packages: the credit spread is the rates-and-credit indicator",
        ),
    )
