"""Splits, the standardizer and windows: shapes, errors, and the proof of no look-ahead."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import SPLITS, chronological_split, log_returns, make_windows, rolling_windows

WINDOW = 5


def test_split_by_dates_and_by_fractions(random_prices):
    days = random_prices.index
    by_date = chronological_split(days, "2020-06-30", "2020-09-30")
    assert by_date.train[-1] <= pd.Timestamp("2020-06-30") < by_date.validation[0]
    assert by_date.validation[-1] <= pd.Timestamp("2020-09-30") < by_date.test[0]
    assert sum(map(len, by_date)) == len(days)
    by_fraction = chronological_split(days, 0.5, 0.75)
    assert (len(by_fraction.train), len(by_fraction.validation), len(by_fraction.test)) == (150, 75, 75)


def test_gap_leaves_days_out(random_prices):
    splits = chronological_split(random_prices.index, 0.5, 0.75, gap=10)
    assert random_prices.index.get_loc(splits.validation[0]) - random_prices.index.get_loc(splits.train[-1]) == 11
    assert sum(map(len, splits)) == 300 - 20


@pytest.mark.parametrize(
    ("train_end", "validation_end", "gap", "message"),
    [
        (0.8, 0.6, 0, "validation_end=0.6 falls on or before train_end=0.8"),
        ("2020-06-30", "2020-06-30", 0, "would overlap"),
        (0.5, "2030-01-01", 0, "the test set is empty"),
        ("1999-01-01", 0.5, 0, "before the first day"),
        (1.5, 0.5, 0, r"train_end=1.5; expected a finite number in \(0, 1\)"),
        ("not a date", 0.5, 0, "expected a fraction in \\(0, 1\\) of the days, a date"),
        (0.5, 0.75, -1, "gap=-1"),
        (0.5, 0.52, 10, "the validation set is empty"),
    ],
)
def test_bad_splits(random_prices, train_end, validation_end, gap, message):
    with pytest.raises(ValueError, match=message):
        chronological_split(random_prices.index, train_end, validation_end, gap)


def test_windows_are_day_major_and_end_on_their_date(random_prices):
    returns = log_returns(random_prices)
    flat, ends = rolling_windows(returns, WINDOW)
    assert flat.shape == (len(returns) - WINDOW + 1, WINDOW * 4)
    assert ends[0] == returns.index[WINDOW - 1]
    block = flat[7].reshape(WINDOW, 4)
    np.testing.assert_allclose(block, returns.iloc[7 : 7 + WINDOW].to_numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("window", "message"),
    [(0, "window=0; expected a whole number"), (2.5, "window=2.5; expected a whole"), (1000, "longer")],
)
def test_bad_windows(random_prices, window, message):
    with pytest.raises(ValueError, match=message):
        rolling_windows(log_returns(random_prices), window)


def test_standardizer_uses_training_days_only(random_prices):
    returns = log_returns(random_prices)
    splits = chronological_split(returns.index, 0.5, 0.75)
    windows = make_windows(returns, WINDOW, splits)
    np.testing.assert_allclose(windows.scaler.mean_, returns.loc[splits.train].mean().to_numpy())
    assert set(windows.inputs) == set(SPLITS)
    assert windows.dates["train"][-1] < windows.dates["validation"][0] < windows.dates["test"][0]
    assert windows.n_features == WINDOW * 4


@pytest.mark.parametrize("cut", [0, 20, 60, 100])
def test_no_look_ahead(random_prices, cut):
    """Change every price after day t (t at or after the end of training): no window,
    standardized value or split member on or before t changes."""
    returns = log_returns(random_prices)
    splits = chronological_split(returns.index, "2020-06-30", "2020-09-30")
    t = returns.index.get_loc(splits.train[-1]) + cut
    day = returns.index[t]
    shocked_prices = random_prices.copy()
    later = shocked_prices.index > day
    shocked_prices.loc[later] *= np.exp(np.random.default_rng(5).normal(0, 0.2, (later.sum(), 4)))
    shocked_returns = log_returns(shocked_prices)
    assert not np.allclose(shocked_returns.iloc[t + 1 :], returns.iloc[t + 1 :])
    shocked_splits = chronological_split(shocked_returns.index, "2020-06-30", "2020-09-30")

    original, shocked = make_windows(returns, WINDOW, splits), make_windows(shocked_returns, WINDOW, shocked_splits)
    pd.testing.assert_frame_equal(original.standardized.loc[:day], shocked.standardized.loc[:day])
    for name in SPLITS:
        before = original.dates[name] <= day
        assert original.dates[name][before].equals(shocked.dates[name][before])
        np.testing.assert_array_equal(original.inputs[name][before], shocked.inputs[name][before])
        assert getattr(splits, name)[getattr(splits, name) <= day].equals(
            getattr(shocked_splits, name)[getattr(shocked_splits, name) <= day]
        )
