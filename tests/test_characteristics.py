"""The characteristics panel pairs each month's returns with what was known when it began."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import load
from helpers.data.characteristics import (
    PRICE_CHARACTERISTICS,
    characteristic_panel,
    monthly_returns,
    price_characteristics,
)
from helpers.data.market import MarketData


@pytest.fixture(scope="module")
def priced():
    return load("synthetic", n_assets=12, n_days=800, seed=3)


def shocked(market: MarketData, month: str) -> MarketData:
    """The same market with every return of one month tripled, and the prices rebuilt."""
    returns = market.returns.copy()
    inside = returns.index.to_period("M") == pd.Period(month)
    returns.loc[inside] *= 3
    prices = market.prices.iloc[:1].to_numpy() * np.exp(returns.cumsum())
    return MarketData(**{**market.__dict__, "prices": pd.concat([market.prices.iloc[:1], prices])})


def test_price_characteristics_use_only_their_month_and_earlier(priced):
    later = shocked(priced, "2014-06")
    before, after = (price_characteristics(m.returns, m.benchmark_returns) for m in (priced, later))
    earlier = before.index.get_level_values("month") < pd.Period("2014-06")
    pd.testing.assert_frame_equal(before[earlier], after[earlier])
    assert not before.loc["2014-06"].equals(after.loc["2014-06"])
    panels = characteristic_panel(priced), characteristic_panel(later)
    month = list(panels[0].months).index(pd.Period("2014-06"))
    np.testing.assert_array_equal(panels[0].characteristics[month], panels[1].characteristics[month])
    assert not np.allclose(panels[0].returns[month], panels[1].returns[month])


def test_price_characteristics_follow_their_definitions(priced):
    raw = price_characteristics(priced.returns, priced.benchmark_returns)
    monthly = monthly_returns(priced.returns)
    asset = priced.returns.columns[0]
    assert list(raw.columns) == list(PRICE_CHARACTERISTICS)
    assert raw.loc[("2013-12", asset), "momentum_12_2"] == pytest.approx(monthly.loc["2013-01":"2013-11", asset].sum())
    assert raw.loc[("2013-12", asset), "reversal_1"] == pytest.approx(monthly.loc["2013-12", asset])
    assert raw.loc[("2013-12", asset), "max_return_1"] == priced.returns.loc["2013-12", asset].max()
    assert np.isnan(raw.loc[("2012-06", asset), "momentum_12_2"])  # not a year of history yet


def test_the_panel_ranks_each_month_and_lags_the_simulated_characteristics():
    market = load("synthetic", variant="characteristics_nonlinear", n_assets=15, n_days=400)
    panel = characteristic_panel(market)
    assert panel.source == "simulated" and panel.months[0] == pd.Period("2012-01")
    truth = market.truth.characteristics
    np.testing.assert_array_equal(panel.characteristics[0], truth.loc["2011-12"].to_numpy())
    priced = characteristic_panel(load("synthetic", n_assets=15, n_days=800))
    assert priced.source == "prices" and priced.names == PRICE_CHARACTERISTICS
    assert np.allclose(np.sort(priced.characteristics[0, :, 0]), np.linspace(-1, 1, 15))
    masks = panel.split(0.6, 0.8)
    assert sum(mask.sum() for mask in masks.values()) == len(panel.months)
    assert np.flatnonzero(masks["train"]).max() < np.flatnonzero(masks["test"]).min()
    with pytest.raises(ValueError, match="expected 0 < train_end < validation_end < 1"):
        panel.split(0.8, 0.6)


def test_a_market_too_short_for_the_characteristics_says_so():
    with pytest.raises(ValueError, match="need 13 months of history"):
        characteristic_panel(load("synthetic", n_assets=10, n_days=200))
