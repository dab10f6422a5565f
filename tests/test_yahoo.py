"""yfinance is never called over the network here: `yfinance.download` is replaced by
responses shaped as yfinance 1.7.0 returns them. The offline one is what it returned on
this project's offline machine: an empty frame with (Price, Ticker) columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yfinance

from helpers.data import DataUnavailableError, load
from helpers.data.yahoo import INDICATOR_TICKERS, download_closes

FIELDS = ("Close", "High", "Low", "Open", "Volume")


def recorded_response(tickers, start, end, missing=()):
    days = pd.bdate_range(start, end, inclusive="left", name="Date")
    rng = np.random.default_rng(len(tickers))
    columns = pd.MultiIndex.from_product([FIELDS, tickers], names=["Price", "Ticker"])
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(days), len(columns))), axis=0))
    frame = pd.DataFrame(values, index=days, columns=columns)
    for ticker in missing:
        frame.loc[:, (slice(None), ticker)] = np.nan
    return frame


def offline_response(tickers):
    columns = pd.MultiIndex.from_product([("Adj Close", *FIELDS), tickers], names=["Price", "Ticker"])
    return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], dtype="datetime64[s]"))


@pytest.fixture
def calls(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    made = []

    def fake_download(tickers, start, end, **options):
        made.append(list(tickers))
        return recorded_response(list(tickers), start, end)

    monkeypatch.setattr(yfinance, "download", fake_download)
    return made


def test_download_then_cache(calls, tmp_path):
    first = download_closes(["SPY", "TLT"], "2020-01-01", "2020-03-01")
    second = download_closes(["SPY", "TLT"], "2020-01-01", "2020-03-01")
    assert len(calls) == 1, "the repeated request must be served from the cache"
    pd.testing.assert_frame_equal(first, second, check_freq=False)
    assert list((tmp_path / "yfinance").glob("*.parquet")) and not list((tmp_path / "yfinance").glob("*.partial"))


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"", lambda data: b"not parquet at all"],
    ids=["truncated", "empty", "garbage"],
)
def test_a_damaged_cache_file_is_removed_and_fetched_again(calls, tmp_path, damage):
    first = download_closes(["SPY", "TLT"], "2020-01-01", "2020-03-01")
    (entry,) = (tmp_path / "yfinance").glob("*.parquet")
    entry.write_bytes(damage(entry.read_bytes()))
    with pytest.warns(UserWarning, match="downloading .* again: the cached .* is unreadable"):
        again = download_closes(["SPY", "TLT"], "2020-01-01", "2020-03-01")
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first, again, check_freq=False)
    pd.testing.assert_frame_equal(pd.read_parquet(entry), first, check_freq=False)


def test_load_builds_the_market_with_indicators(calls):
    market = load("yfinance", tickers=["SPY", "TLT", "GLD"], start="2020-01-01", end="2020-06-01")
    assert market.tickers == ["SPY", "TLT", "GLD"]
    assert {"vix", "yield_slope", "realized_vol_21d"} <= set(market.indicators.columns)
    assert set(INDICATOR_TICKERS) <= set(calls[0])
    assert market.indicator_info.loc["yield_slope", "origin"] == "derived"
    assert market.cash_yield.index.equals(market.prices.index) and market.cash_yield.notna().all()
    assert load("bundled").cash_yield is None


def test_offline_yfinance_becomes_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    monkeypatch.setattr(yfinance, "download", lambda tickers, **_: offline_response(list(tickers)))
    with pytest.raises(DataUnavailableError, match=r"no prices for \['SPY', 'TLT'\].*source='bundled'"):
        download_closes(["SPY", "TLT"], "2020-01-01", "2020-02-01")
    assert not list(tmp_path.rglob("*.parquet")), "a failed request must not be cached"


def test_a_partly_failed_request_names_the_failed_ticker(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    monkeypatch.setattr(
        yfinance, "download", lambda tickers, start, end, **_: recorded_response(list(tickers), start, end, ["XYZ"])
    )
    with pytest.raises(DataUnavailableError, match=r"no prices for \['XYZ'\]"):
        download_closes(["SPY", "XYZ"], "2020-01-01", "2020-02-01")
