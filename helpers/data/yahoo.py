"""Any tickers from Yahoo Finance through yfinance, cached on disk as Parquet.

A request is keyed by its tickers and dates; once cached it is served with no network.
yfinance does not raise when it cannot reach the network: it returns an empty frame and
prints its errors. That case becomes a `DataUnavailableError` naming the failed tickers.

`yfinance.download` is the one boundary with the network. Setting
LATENT_MARKETS_YFINANCE_DOWNLOAD to "module:function" replaces it by a function with the
same signature and answer (the test suite's stand-in is tests.yfinance_standin:download);
its downloads and what is trained on them are cached apart from real ones.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
from pathlib import Path

import pandas as pd

from helpers.cache import DOWNLOAD_ENV, cache_root, read_or_heal, write_atomically
from helpers.data.assemble import assemble_market
from helpers.data.market import MarketData, align_to_calendar, clean_prices, describe_indicators
from helpers.validate import InputError, as_date_range, as_tickers

logger = logging.getLogger(__name__)

ASSETS = {
    "SPY": ("equity", "US large cap"),
    "QQQ": ("equity", "US technology"),
    "IWM": ("equity", "US small cap"),
    "XLF": ("equity", "Financials"),
    "XLE": ("equity", "Energy"),
    "XLK": ("equity", "Technology"),
    "TLT": ("treasury", "Long Treasuries"),
    "IEF": ("treasury", "Intermediate Treasuries"),
    "LQD": ("credit", "Investment grade"),
    "HYG": ("credit", "High yield"),
    "GLD": ("commodity", "Gold"),
    "USO": ("commodity", "Oil"),
    "UUP": ("currency", "US dollar"),
    "EEM": ("equity", "Emerging markets"),
}
DEFAULT_TICKERS = tuple(ASSETS)
INDICATOR_TICKERS = ("^VIX", "^TNX", "^IRX")
BENCHMARK = "SPY"


class DataUnavailableError(RuntimeError):
    """yfinance returned no prices: offline, unknown tickers, or dates with no trading."""


def cache_dir() -> Path:
    return cache_root() / "yfinance"


def download_closes(tickers: list[str], start: str, end: str) -> pd.DataFrame:
    """Adjusted closes (dates x tickers), from the cache when this exact request was made before."""
    key = hashlib.sha256(json.dumps([sorted(tickers), start, end]).encode()).hexdigest()[:16]
    path = cache_dir() / f"closes-{key}.parquet"
    cached = read_or_heal(path, pd.read_parquet, f"downloading {tickers} again")
    if cached is not None:
        logger.info("served %s from the cache %s", tickers, path)
        return cached
    raw = downloader()(
        tickers, start=start, end=end, auto_adjust=True, progress=False, threads=False, group_by="column"
    )
    closes = _closes(raw, tickers)
    failed = [t for t in tickers if t not in closes.columns or closes[t].isna().all()]
    if failed:
        raise DataUnavailableError(
            f"yfinance returned no prices for {failed} between {start} and {end}. yfinance returns an "
            "empty frame when it cannot reach the network or does not know a ticker. Check the tickers "
            "and the connection, or use the offline sources: load(source='bundled') or "
            "load(source='synthetic')."
        )
    write_atomically(path, closes[tickers].to_parquet)
    return closes[tickers]


def downloader():
    """`yfinance.download`, or the function LATENT_MARKETS_YFINANCE_DOWNLOAD names."""
    target = os.environ.get(DOWNLOAD_ENV)
    if not target:
        import yfinance  # here: only a real download needs it, never the stand-in

        return yfinance.download
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as error:
        raise InputError(
            f"{DOWNLOAD_ENV}={target!r} names no importable function ({error}); expected 'module:function', "
            "such as tests.yfinance_standin:download with the repository on PYTHONPATH"
        ) from error


def _closes(raw: pd.DataFrame, tickers: list[str]) -> pd.DataFrame:
    if raw is None or raw.empty:
        return pd.DataFrame()
    if isinstance(raw.columns, pd.MultiIndex):
        closes = raw["Close"]
    else:
        closes = raw[["Close"]].rename(columns={"Close": tickers[0]})
    closes.index = pd.DatetimeIndex(closes.index).tz_localize(None).normalize()
    closes.index.name = "date"
    return closes


def load_yfinance(
    tickers: list[str] | tuple[str, ...] | None = None,
    start: str = "2015-10-01",
    end: str = "2025-09-30",
    max_missing: float = 0.02,
) -> MarketData:
    """The multi-asset default universe (or any tickers), SPY as benchmark, VIX and 10y-3m
    slope; cash earns the 13-week T-bill yield (^IRX)."""
    tickers = list(as_tickers(DEFAULT_TICKERS if tickers is None else tickers))
    start, end = as_date_range(start, end)
    asked = tickers + [BENCHMARK] * (BENCHMARK not in tickers) + list(INDICATOR_TICKERS)
    closes = download_closes(asked, start, end)
    prices = clean_prices(closes[tickers], max_missing=max_missing)
    days = prices.index
    benchmark = align_to_calendar(closes[BENCHMARK].rename(BENCHMARK), days)
    observed = pd.DataFrame(
        {
            "vix": align_to_calendar(closes["^VIX"].rename("vix"), days),
            "yield_slope": align_to_calendar((closes["^TNX"] - closes["^IRX"]).rename("yield_slope"), days),
        },
        index=days,
    )
    observed_info = describe_indicators(
        {
            "vix": ("CBOE volatility index, %", "observed", "yfinance ^VIX"),
            "yield_slope": ("10-year minus 13-week Treasury yield, % points", "derived", "yfinance ^TNX - ^IRX"),
        }
    )
    assets = pd.DataFrame(
        [ASSETS.get(t, ("unknown", "unknown")) for t in tickers],
        index=tickers,
        columns=["asset_class", "sector"],
    )
    return assemble_market(
        prices,
        benchmark,
        observed,
        observed_info,
        assets,
        source="yfinance",
        notes=(f"yfinance adjusted closes {start}..{end}, cached in {cache_dir()}",
               "cash yield: yfinance ^IRX, the 13-week Treasury bill yield in % a year"),
        cash_yield=align_to_calendar(closes["^IRX"].rename("cash yield"), days),
    )
