"""The csv source: the reader's own closes through the same checks as every other source."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import MarketSpec, load
from helpers.data.spec import WindowSpec


@pytest.fixture
def closes(random_prices):
    return random_prices.rename_axis("date").assign(benchmark=random_prices.mean(axis=1), vix=20.0)


def write(frame: pd.DataFrame, tmp_path) -> str:
    path = tmp_path / "my_prices.csv"
    frame.to_csv(path)
    return str(path)


def test_a_file_with_benchmark_and_vix(closes, tmp_path):
    market = load("csv", path=write(closes, tmp_path))
    assert market.tickers == list("ABCD") and market.benchmark.name == "benchmark"
    assert market.indicator_info.loc["vix", "origin"] == "observed"
    assert {"realized_vol_21d", "momentum_20d"} <= set(market.indicators.columns)
    np.testing.assert_allclose(market.prices.to_numpy(), closes[list("ABCD")].to_numpy())


def test_without_a_benchmark_column_the_equal_weight_index_stands_in(closes, tmp_path):
    market = load("csv", path=write(closes.drop(columns=["benchmark", "vix"]), tmp_path))
    assert market.benchmark.name == "equal_weight" and "equal-weight" in market.notes[0]
    expected = closes[list("ABCD")].pct_change().mean(axis=1).iloc[1:]
    np.testing.assert_allclose(market.benchmark.pct_change().iloc[1:], expected)


def test_a_dataframe_and_a_market_spec_load_the_same(closes, tmp_path):
    path = write(closes, tmp_path)
    from_frame = load("csv", prices=closes, tickers=["A", "C"])
    from_spec = MarketSpec(source="csv", prices_path=path, tickers=["A", "C"]).load()
    pd.testing.assert_frame_equal(from_frame.prices, from_spec.prices, check_freq=False)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.set_axis([f"day {i}" for i in range(len(f))]), r"first column must hold dates.*'day 0'"),
        (lambda f: f.assign(B=-f["B"]), r"non-positive prices in \{'B'"),
        (lambda f: f.assign(C=0.0), r"non-positive prices in \{'C'"),
        (lambda f: f.assign(D="12,50 USD"), r"column 'D' holds text such as '12,50 USD'"),
    ],
)
def test_bad_files_get_clear_errors(closes, tmp_path, mutate, message):
    with pytest.raises(ValueError, match=message):
        load("csv", path=write(mutate(closes), tmp_path))


def test_a_missing_file_ticker_or_named_column_is_a_clear_error(closes, tmp_path):
    path = write(closes, tmp_path)
    with pytest.raises(ValueError, match="is not a file"):
        load("csv", path=str(tmp_path / "nowhere.csv"))
    with pytest.raises(ValueError, match=r"tickers \['ZZ'\] are not columns"):
        load("csv", path=path, tickers=["A", "ZZ"])
    with pytest.raises(ValueError, match="benchmark: 'SPX' is not a column"):
        load("csv", path=path, benchmark="SPX")
    with pytest.raises(ValueError, match="needs prices_path"):
        MarketSpec(source="csv")


def test_fewer_days_than_a_window_is_a_clear_error(closes, tmp_path):
    spec = WindowSpec(market=MarketSpec(source="csv", prices_path=write(closes.iloc[:30], tmp_path)), window=20)
    with pytest.raises(ValueError, match="window"):
        spec.build()
