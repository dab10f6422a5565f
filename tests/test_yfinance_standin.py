"""The yfinance path against the stand-in: the default multi-asset universe, other ticker
lists, and what real downloads contain (unknown and late tickers, stale prices, no network)."""
from __future__ import annotations

import numpy as np
import pytest
import yfinance

from helpers.analysis.walkforward import walk_forward
from helpers.data import DataUnavailableError, load
from helpers.data.yahoo import DEFAULT_TICKERS
from tests.yfinance_standin import StandIn


@pytest.fixture
def standin(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    fake = StandIn()
    monkeypatch.setattr(yfinance, "download", fake.download)
    return fake


def test_the_default_universe_has_the_properties_of_a_multi_asset_market(standin):
    market = load("yfinance")
    returns = market.returns
    assert market.tickers == list(DEFAULT_TICKERS)
    assert (returns["SPY"].kurt() > 3) and returns["SPY"].abs().autocorr(5) > 0.05, "fat tails, clustering"
    assert returns["TLT"].corr(returns["SPY"]) < 0, "Treasuries rally when equities fall"
    realized = market.indicators["realized_vol_21d"]
    assert market.indicators["vix"].corr(realized) > 0.5, "the VIX rises with realized volatility"
    assert 0 < market.indicators["yield_slope"].abs().median() < 5, "yields in percent"
    assert set(market.assets["asset_class"]) == {"equity", "treasury", "credit", "commodity", "currency"}


@pytest.mark.parametrize("n_tickers", [5, 50])
def test_other_ticker_lists(standin, n_tickers):
    tickers = [f"T{i:02d}" for i in range(n_tickers)]
    market = load("yfinance", tickers=tickers, start="2018-01-01", end="2020-12-31")
    assert market.tickers == tickers and market.returns.notna().all().all()
    assert (market.assets["asset_class"] == "unknown").all()


def test_an_unknown_ticker_among_good_ones_is_named(standin):
    with pytest.raises(DataUnavailableError, match=r"no prices for \['NOSUCHTICKER'\]"):
        load("yfinance", tickers=["SPY", "NOSUCHTICKER", "TLT"])


def test_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    monkeypatch.setattr(yfinance, "download", StandIn(offline=True).download)
    with pytest.raises(DataUnavailableError, match="cannot reach the network"):
        load("yfinance", tickers=["SPY", "TLT"])


def test_a_late_listing_moves_the_start_and_says_so(standin, caplog):
    market = load("yfinance", start="2005-01-01", end="2012-12-31")
    assert market.prices.index[0] >= np.datetime64("2007-04-11")
    assert "HYG" in caplog.text and "moved the start" in caplog.text


def test_a_stale_series_warns_at_load_and_is_refused_where_it_would_take_the_weight(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    monkeypatch.setattr(yfinance, "download", StandIn(stale={"GLD": ("2019-01-01", "2020-12-31")}).download)
    market = load("yfinance", tickers=["SPY", "TLT", "GLD"], start="2017-01-01", end="2021-12-31")
    assert "GLD" in caplog.text and "max_stale_days" in caplog.text
    with pytest.raises(ValueError, match=r"\['GLD'\] do not move in the 252 days"):
        walk_forward(market.returns, {}, window=252)


def test_the_switch_reaches_the_helpers_through_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_MARKETS_CACHE", str(tmp_path))
    monkeypatch.setenv("LATENT_MARKETS_YFINANCE_DOWNLOAD", "tests.yfinance_standin:download")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("the network boundary was called"))
    market = load("yfinance", tickers=["SPY", "GLD"], start="2019-01-01", end="2019-12-31")
    assert market.tickers == ["SPY", "GLD"]
    assert list((tmp_path / "standin" / "yfinance").glob("*.parquet")), "stand-in downloads are cached apart"
    monkeypatch.setenv("LATENT_MARKETS_YFINANCE_DOWNLOAD", "tests.nowhere:download")
    with pytest.raises(ValueError, match="names no importable function"):
        load("yfinance", tickers=["SPY"], start="2018-01-01", end="2018-12-31")
