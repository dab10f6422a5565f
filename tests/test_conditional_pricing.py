"""The conditional autoencoder's pipeline: every model scored on the same months, nothing
fitted or chosen on the test months."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.data import MarketSpec
from helpers.data.panel import panel_from_frame
from helpers.experiments.conditional_pricing import (
    PricingConfig,
    PricingRun,
    market_scores,
    price_market,
    price_markets,
    price_panels,
    run_pricing,
)
from helpers.train import TrainConfig
from tests.test_characteristics import shocked
from tests.test_panel import long_panel

SMALL = dict(factor_counts=(1, 2), architectures=((), (8,)), seeds=(0, 1),
             train=TrainConfig(epochs=20, batch_size=16, learning_rate=1e-2, patience=5, progress=False))


@pytest.fixture(scope="module")
def simulated():
    spec = MarketSpec(source="synthetic", synthetic_variant="characteristics_nonlinear", synthetic_assets=20,
                      synthetic_days=756)
    return run_pricing(PricingRun(market=spec, pricing=PricingConfig(**SMALL)))


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
    config = PricingConfig(**SMALL)
    market = MarketSpec(source="synthetic", synthetic_assets=20, synthetic_days=1008).load()
    first = price_market(config, market)
    test_start = first.panel.months[first.masks["test"]][0]
    later = price_market(config, shocked(market, str(test_start)))  # the first test month's returns tripled
    pd.testing.assert_frame_equal(first.scores("validation"), later.scores("validation"))
    assert first.choose_on_validation() == later.choose_on_validation()
    assert not np.allclose(first.scores("test")["total"], later.scores("test")["total"])
    assert first.beta_match is None  # price characteristics: no true betas to match


def test_markets_priced_together_are_priced_as_each_alone():
    config = PricingConfig(**SMALL)
    spec = MarketSpec(source="synthetic", synthetic_variant="characteristics_linear", synthetic_assets=20,
                      synthetic_days=756)
    markets = [replace(spec, seed=seed).load() for seed in (0, 1)]
    together = price_markets(config, markets)
    alone = price_market(config, markets[1])
    pd.testing.assert_frame_equal(together[1].scores("test"), alone.scores("test"), atol=1e-5)
    assert not np.allclose(together[0].scores("test")["total"], together[1].scores("test")["total"])
    scores = market_scores(together[1], "conditional AE, [8]", 2)
    assert scores["total R2, IPCA"] == pytest.approx(alone.scores("test").loc[("IPCA", 2), "total"])
    assert {"total R2, conditional AE, [8], single seeds", "total R2, conditional AE, linear", "total R2, oracle",
            "predictive R2, oracle", "beta R2, conditional AE, [8]", "beta R2, IPCA"} <= set(scores.index)
    with pytest.raises(ValueError, match="panels priced together must share"):
        price_markets(config, [markets[0], replace(spec, synthetic_assets=24).load()])


def test_a_readers_panel_is_priced_without_an_oracle_and_refused_with_fewer_assets_than_factors():
    panel = panel_from_frame(long_panel())
    study = price_panels(PricingConfig(**SMALL), [panel])[0]
    assert "oracle" not in set(study.scores("test").index.get_level_values("model")) and study.beta_match is None
    assert study.fit_of("IPCA", 2, "total", "test").shape == study.returns("test").shape
    few = panel_from_frame(long_panel().query("asset in ['A000', 'A001']"))
    with pytest.raises(ValueError, match="K=2 but the panel has 2 assets; expected fewer factors than assets"):
        price_panels(PricingConfig(**SMALL), [few])
    with pytest.raises(ValueError, match="1 truths for 2 panels"):
        price_panels(PricingConfig(**SMALL), [panel, panel], [None])
