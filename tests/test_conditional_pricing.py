"""The conditional autoencoder's pipeline: every model scored on the same months, nothing
fitted or chosen on the test months."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.data import MarketSpec
from helpers.experiments.conditional_pricing import (
    PricingConfig,
    market_scores,
    price_panel,
    price_panels,
    run_pricing,
)
from helpers.train import TrainConfig
from tests.test_characteristics import shocked

SMALL = dict(factor_counts=(1, 2), architectures=((), (8,)), seeds=(0, 1),
             train=TrainConfig(epochs=20, batch_size=16, learning_rate=1e-2, patience=5, progress=False))


@pytest.fixture(scope="module")
def simulated():
    spec = MarketSpec(source="synthetic", synthetic_variant="characteristics_nonlinear", synthetic_assets=20,
                      synthetic_days=756)
    return run_pricing(PricingConfig(market=spec, **SMALL))


def test_every_model_is_scored_at_every_k_on_the_same_months(simulated):
    scores = simulated.scores("test")
    models = set(scores.index.get_level_values("model"))
    assert models == {"sorted factors", "IPCA", "PCA", "conditional AE, linear", "conditional AE, [8]", "oracle"}
    assert scores.loc[("oracle", 4), "total"] > scores.loc[("PCA", 1), "total"]
    assert simulated.fit_of("IPCA", 2, "total", "test").shape == simulated.returns("test").shape
    assert len(simulated.members) == 2 * 2 * 2 * 2 * 2  # K x architecture x seed x split x measure
    assert set(simulated.beta_match["model"]) == {"IPCA", "conditional AE, linear", "conditional AE, [8]"}
    with pytest.raises(ValueError, match="split='train'; expected one of"):
        simulated.fit_of("IPCA", 2, "total", "train")


def test_nothing_is_fitted_or_chosen_on_the_test_months():
    config = PricingConfig(market=MarketSpec(source="synthetic", synthetic_assets=20, synthetic_days=1008), **SMALL)
    market = config.market.load()
    first = price_panel(config, market)
    test_start = first.panel.months[first.masks["test"]][0]
    later = price_panel(config, shocked(market, str(test_start)))  # the first test month's returns tripled
    pd.testing.assert_frame_equal(first.scores("validation"), later.scores("validation"))
    assert first.choose_on_validation() == later.choose_on_validation()
    assert not np.allclose(first.scores("test")["total"], later.scores("test")["total"])
    assert first.beta_match is None  # price characteristics: no true betas to match


def test_markets_priced_together_are_priced_as_each_alone():
    config = PricingConfig(market=MarketSpec(source="synthetic", synthetic_variant="characteristics_linear",
                                             synthetic_assets=20, synthetic_days=756), **SMALL)
    markets = [replace(config.market, seed=seed).load() for seed in (0, 1)]
    together = price_panels(config, markets)
    alone = price_panel(config, markets[1])
    pd.testing.assert_frame_equal(together[1].scores("test"), alone.scores("test"), atol=1e-5)
    assert not np.allclose(together[0].scores("test")["total"], together[1].scores("test")["total"])
    scores = market_scores(together[1], "conditional AE, [8]", 2)
    assert scores["total R2, IPCA"] == pytest.approx(alone.scores("test").loc[("IPCA", 2), "total"])
    assert {"total R2, conditional AE, [8], single seeds", "total R2, conditional AE, linear", "total R2, oracle",
            "predictive R2, oracle", "beta R2, conditional AE, [8]", "beta R2, IPCA"} <= set(scores.index)
    with pytest.raises(ValueError, match="markets priced together must share"):
        price_panels(config, [markets[0], replace(config.market, synthetic_assets=24).load()])
