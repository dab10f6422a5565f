from __future__ import annotations

import pandas as pd
import pytest

from helpers.data import load
from helpers.data.bundled import DEFAULT_TICKERS


@pytest.fixture(scope="module")
def bundled():
    return load("bundled")


def test_default_panel_is_the_twenty_stocks_1990_to_2022(bundled):
    assert bundled.tickers == list(DEFAULT_TICKERS) and len(bundled.tickers) == 20
    assert bundled.prices.index[0] == pd.Timestamp("1990-01-02")
    assert bundled.prices.index[-1] == pd.Timestamp("2022-12-28")
    assert not bundled.prices.isna().any().any()
    assert bundled.benchmark.name == "SP500"


def test_every_series_has_plausible_dates(bundled):
    coverage = bundled.coverage()
    for name, row in coverage.iterrows():
        assert 1986 <= pd.Timestamp(row["first"]).year <= 2022, name
        assert 1990 <= pd.Timestamp(row["last"]).year <= 2022, name


def test_indicators_stay_inside_their_coverage(bundled):
    coverage = bundled.coverage()
    assert coverage.loc["vix", "first"] == pd.Timestamp("2014-01-03").date()
    assert coverage.loc["vix", "last"] <= pd.Timestamp("2019-01-03").date()
    assert coverage.loc["wti", "last"] <= pd.Timestamp("2019-01-03").date()
    assert coverage.loc["credit_spread", "last"] <= pd.Timestamp("2019-01-31").date()


def test_indicator_origins_are_labelled(bundled):
    info = bundled.indicator_info
    assert info.loc["vix", "origin"] == "observed"
    assert set(info.loc[["realized_vol_21d", "momentum_20d", "mean_correlation_63d", "credit_spread"], "origin"]) == {
        "derived"
    }


def test_credit_spread_of_a_month_is_used_from_the_next_month():
    from arch.data import default

    yields = default.load()
    market = load("bundled", start="2008-09-01", end="2008-11-30")
    spread = market.indicators["credit_spread"]
    september = float((yields["BAA"] - yields["AAA"]).loc["2008-09-01"])
    assert spread.loc["2008-10-01"] == pytest.approx(september)
    assert spread.loc["2008-09-30"] != pytest.approx(september)


def test_factor_etfs_before_their_listing_move_the_start_with_a_warning(caplog):
    market = load("bundled", tickers=["AAPL", "MTUM"], start="2010-01-01")
    assert market.prices.index[0] >= pd.Timestamp("2013-01-01")
    assert market.prices.index[0] == market.prices["MTUM"].first_valid_index()
    assert "moved the start from 2010-01-04" in caplog.text and "MTUM" in caplog.text


def test_factor_etfs_from_2014():
    market = load("bundled", tickers=["MTUM", "QUAL", "SIZE", "USMV", "VLUE"], start="2014-01-02")
    assert set(market.assets["asset_class"]) == {"factor ETF"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tickers": ["AAPL", "TSLA"]}, r"tickers \['TSLA'\] are not bundled"),
        ({"start": "2030-01-01"}, "covers 1990-01-02..2022-12-28"),
    ],
)
def test_bad_bundled_requests(options, message):
    with pytest.raises(ValueError, match=message):
        load("bundled", **options)


@pytest.mark.parametrize(
    ("tickers", "message"),
    [
        ([], r"tickers=\[\]; expected ticker symbols"),
        (["AAPL", "KO", "AAPL"], r"\['AAPL'\] more than once"),
    ],
)
def test_empty_or_duplicate_tickers(tickers, message):
    with pytest.raises(ValueError, match=message):
        load("bundled", tickers=tickers)


def test_tickers_as_one_text_load_those_tickers():
    assert load("bundled", tickers="AAPL, KO").tickers == ["AAPL", "KO"]
