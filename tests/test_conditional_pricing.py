"""The conditional autoencoder's pipeline: every model scored on the same months, nothing
fitted or chosen on the test months."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import MarketSpec
from helpers.experiments.conditional_pricing import PricingConfig, price_panel, run_pricing
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
