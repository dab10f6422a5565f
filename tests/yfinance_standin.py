"""A deterministic stand-in for `yfinance.download`, so the yfinance path is tested offline.

It answers like yfinance 1.7 with `auto_adjust=True`: a frame on a "Date" index whose
columns are a (Price, Ticker) MultiIndex of Close, High, Low, Open and Volume, NaN columns
for a ticker it does not know, and an empty frame when it is offline. Behind it is one
simulated multi-asset market on a fixed calendar, so a ticker has the same price on a day
whatever else is asked for: an equity factor with clustered, fat-tailed volatility and two
stress episodes (autumn 2008, spring 2020); a 10-year yield in percent whose falls lift
Treasuries when equities fall; credit, gold, oil and the dollar; a VIX that rises with the
equity factor's volatility; and each ETF of the default universe listed on its real
inception date. A ticker outside the known list is an equity with its own beta and noise,
so any list of tickers can be served. The helpers use it when
LATENT_MARKETS_YFINANCE_DOWNLOAD=tests.yfinance_standin:download.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

FIELDS = ("Close", "High", "Low", "Open", "Volume")
CALENDAR = pd.bdate_range("1990-01-01", "2030-12-31", name="Date")
STRESS = (("2008-09-15", "2009-03-31"), ("2020-02-20", "2020-04-30"))
UNKNOWN_PREFIX = "NOSUCH"  # a ticker starting so is one yfinance does not know
LISTED = {
    "SPY": "1993-01-29", "QQQ": "1999-03-10", "IWM": "2000-05-26", "XLF": "1998-12-22", "XLE": "1998-12-22",
    "XLK": "1998-12-22", "TLT": "2002-07-30", "IEF": "2002-07-30", "LQD": "2002-07-30", "HYG": "2007-04-11",
    "GLD": "2004-11-18", "USO": "2006-04-10", "UUP": "2007-03-01", "EEM": "2003-04-14",
}
# ticker: (equity beta, yield duration, own factor, own-factor weight, idiosyncratic daily volatility)
EXPOSURES = {
    "SPY": (1.0, 0, None, 0, 0.001), "QQQ": (1.15, 0, None, 0, 0.006), "IWM": (1.2, 0, None, 0, 0.007),
    "XLF": (1.25, 0, None, 0, 0.008), "XLE": (0.9, 0, "oil", 0.5, 0.008), "XLK": (1.2, 0, None, 0, 0.006),
    "TLT": (0.0, 17, None, 0, 0.002), "IEF": (0.0, 7.5, None, 0, 0.001), "LQD": (0.1, 8, "credit", 0.4, 0.001),
    "HYG": (0.3, 4, "credit", 1.0, 0.003), "GLD": (0.05, 0, "gold", 1.0, 0.002), "USO": (0.4, 0, "oil", 1.0, 0.006),
    "UUP": (-0.08, 0, "dollar", 1.0, 0.001), "EEM": (1.1, 0, "dollar", -0.8, 0.007),
}


@lru_cache(maxsize=1)
def _factors() -> pd.DataFrame:
    """Daily factor returns and index levels on the whole calendar, from one fixed seed."""
    rng = np.random.default_rng(20261202)
    n = len(CALENDAR)
    log_vol = np.zeros(n)
    shocks = rng.normal(size=n)
    for t in range(1, n):
        log_vol[t] = 0.985 * log_vol[t - 1] + 0.07 * shocks[t]
    stress = np.zeros(n, dtype=bool)
    for first, last in STRESS:
        stress |= (CALENDAR >= first) & (CALENDAR <= last)
    volatility = 0.0075 * np.exp(log_vol) * np.where(stress, 2.5, 1.0)
    fat = rng.standard_t(4, size=n) / np.sqrt(2.0)
    equity = volatility * fat
    z = equity / volatility
    yield_change = 0.055 * (0.4 * z + np.sqrt(1 - 0.4**2) * rng.normal(size=n)) * np.where(stress, 1.8, 1.0)
    ten_year = np.empty(n)
    ten_year[0] = 6.0
    for t in range(1, n):
        ten_year[t] = max(0.3, ten_year[t - 1] + 0.0015 * (3.0 - ten_year[t - 1]) + yield_change[t])
    three_month = np.clip(ten_year - 1.2 + np.cumsum(rng.normal(0, 0.02, n)) * 0.05, 0.01, None)
    credit = -0.002 * np.where(stress, 3.0, 1.0) * np.abs(rng.standard_t(4, size=n)) + 0.0005
    vix = 4 + 100 * np.sqrt(252) * volatility * np.exp(rng.normal(0, 0.08, n))
    return pd.DataFrame(
        {
            "equity": equity,
            "yield_change": np.diff(ten_year, prepend=ten_year[0]),
            "credit": credit - credit.mean() + 0.3 * np.minimum(equity, 0),
            "gold": rng.normal(0, 0.009, n) - 0.2 * equity,
            "oil": rng.standard_t(4, size=n) * 0.016,
            "dollar": rng.normal(0, 0.004, n),
            "^VIX": vix,
            "^TNX": ten_year,
            "^IRX": three_month,
        },
        index=CALENDAR,
    )


def _ticker_rng(ticker: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(ticker.encode()))


def _close(ticker: str) -> pd.Series:
    factors = _factors()
    if ticker.startswith("^"):
        return factors[ticker].rename(ticker)
    rng = _ticker_rng(ticker)
    beta, duration, own, weight, idio = EXPOSURES.get(
        ticker, (rng.uniform(0.6, 1.4), 0, None, 0, rng.uniform(0.008, 0.016))
    )
    returns = beta * factors["equity"] - duration * factors["yield_change"] / 100
    if own:
        returns = returns + weight * factors[own]
    returns = returns + idio * rng.standard_t(5, size=len(factors)) / np.sqrt(5 / 3) + 0.0002
    close = 50 * np.exp(returns.cumsum())
    return close.where(CALENDAR >= pd.Timestamp(LISTED.get(ticker, CALENDAR[0]))).rename(ticker)


@dataclass
class StandIn:
    """The stand-in, with the faults a test may switch on."""

    offline: bool = False
    stale: dict[str, tuple[str, str]] = field(default_factory=dict)  # ticker -> span of an unchanged price
    listed: dict[str, str] = field(default_factory=dict)  # ticker -> a later first quote
    requests: list[list[str]] = field(default_factory=list)

    def download(self, tickers, start=None, end=None, **options) -> pd.DataFrame:
        tickers = [tickers] if isinstance(tickers, str) else list(tickers)
        self.requests.append(tickers)
        if self.offline:
            columns = pd.MultiIndex.from_product([("Adj Close", *FIELDS), tickers], names=["Price", "Ticker"])
            return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], dtype="datetime64[s]"))
        days = CALENDAR[(CALENDAR >= pd.Timestamp(start)) & (CALENDAR < pd.Timestamp(end))]
        closes = pd.DataFrame({ticker: self._series(ticker) for ticker in tickers}).reindex(days)
        frames = {
            "Close": closes,
            "High": closes * 1.004,
            "Low": closes * 0.996,
            "Open": closes.shift(1).fillna(closes),
            "Volume": closes.notna() * 1e6,
        }
        frame = pd.concat(frames, axis=1, names=["Price", "Ticker"])
        frame.index.name = "Date"
        return frame

    def _series(self, ticker: str) -> pd.Series:
        if ticker.startswith(UNKNOWN_PREFIX):
            return pd.Series(np.nan, index=CALENDAR, name=ticker)
        close = _close(ticker).copy()
        if ticker in self.listed:
            close[close.index < pd.Timestamp(self.listed[ticker])] = np.nan
        if ticker in self.stale:
            first, last = self.stale[ticker]
            span = (close.index >= first) & (close.index <= last)
            close[span] = close[span].iloc[0]
        return close


download = StandIn().download
