"""The nonlinearity dial: deterministic, complete, and its measures behave as documented."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.factors import chance_purity
from helpers.analysis.metrics import mean_correlation
from helpers.analysis.nonlinearity import nonlinearity_statistic
from helpers.data import chronological_split, load
from helpers.data.truth import REGIMES
from helpers.experiments.dial import DialConfig, run_conditional_study, run_dial, stein_loss, vae_market_study
from helpers.train import TrainConfig
from helpers.validate import InputError

SMALL = DialConfig(nonlinearities=(0.0, 2.0), market_seeds=(0, 1), n_assets=8, n_days=300, window=3,
                   window_latent=3, latent_size=2, hidden_sizes=(8,), implied_draws=500,
                   train=TrainConfig(epochs=12, batch_size=64, patience=3, progress=False))


def test_a_small_dial_gives_the_same_numbers_twice():
    first, second = run_dial(SMALL), run_dial(SMALL)
    pd.testing.assert_frame_equal(first.table, second.table)
    assert len(first.table) == (2 + 2) * 2, "two settings and the two parts alone, two seeds each"
    assert first.models_trained == 16
    assert set(first.table["setting"]) == {"nonlinearity 0", "nonlinearity 2", "interaction alone",
                                            "loading shift alone"}
    assert first.table.drop(columns="setting").notna().all().all()
    for model in ("VAE", "PCA", "oracle"):  # each factor's recovery is kept, and the mean is theirs
        factors = first.table.filter(like=f"factor R2, {model}, ")
        assert factors.shape[1] == 4
        np.testing.assert_allclose(factors.mean(axis=1), first.table[f"factor R2, {model}"], rtol=1e-12)


def test_a_dial_without_windows_trains_the_vaes_alone_and_scores_them_the_same():
    both, vae_only = run_dial(SMALL), run_dial(replace(SMALL, windows=False))
    assert vae_only.models_trained == 8 and set(vae_only.histories) == {"VAE"}
    assert not vae_only.table.columns.str.startswith("window R2").any()
    pd.testing.assert_frame_equal(vae_only.table, both.table.drop(columns=["window R2, dense AE", "window R2, PCA"]))


def test_stein_loss_is_zero_at_the_truth_and_punishes_understatement_more():
    rng = np.random.default_rng(0)
    factor = rng.standard_normal((5, 5))
    truth = factor @ factor.T + np.eye(5)
    assert stein_loss(truth, truth[None]) == pytest.approx(0.0, abs=1e-9)
    assert stein_loss(0.5 * truth, truth[None]) > stein_loss(2.0 * truth, truth[None]) > 0


def test_the_statistic_sees_the_interaction_and_not_a_linear_market():
    def statistic(**options):
        market = load("synthetic", n_assets=30, n_days=1260, seed=0, **options)
        splits = chronological_split(market.returns.index)
        return nonlinearity_statistic(market.returns, splits.train, splits.test)

    linear, interacting = statistic(variant="linear"), statistic(stress_beta=1.0, stress_style_loading=1.0)
    assert linear < 0.005
    assert interacting > linear + 0.01


def test_the_statistic_refuses_what_it_cannot_measure(random_prices):
    returns = np.log(random_prices).diff().dropna()
    splits = chronological_split(returns.index)
    with pytest.raises(ValueError, match="n_factors=4; expected fewer factors than the 4 assets"):
        nonlinearity_statistic(returns, splits.train, splits.test, n_factors=4)
    with pytest.raises(ValueError, match="flexible regression needs more than"):
        nonlinearity_statistic(returns.iloc[:40], splits.train, splits.test, n_factors=2)


def test_a_dial_needs_settings_and_seeds():
    with pytest.raises(ValueError, match="nonlinearities=\\(-1.0,\\)"):
        DialConfig(nonlinearities=(-1.0,))
    with pytest.raises(ValueError, match="market_seeds is empty"):
        DialConfig(market_seeds=())
    with pytest.raises(ValueError, match="variant='nope'; expected one of"):
        DialConfig(variant="nope")


def test_the_market_study_is_the_books_vae_on_consecutive_market_seeds_and_scores_its_generator():
    study = vae_market_study(markets=3, seed=4, variant="default", n_assets=8, n_days=300, latent_size=2,
                             hidden_sizes=[8], beta=1.0, epochs=6, patience=2)
    assert study.market_seeds == (4, 5, 6) and not study.windows and not study.parts_alone
    assert (study.train.epochs, study.train.patience, study.train.seed) == (6, 2, 4)
    table = run_dial(replace(study, implied_draws=200, generated_days=400,
                             train=replace(study.train, progress=False))).table
    distances = table.filter(like="correlation distance")
    assert list(distances.columns) == [f"correlation distance, {name}" for name in ("VAE", "PCA", "training days")]
    assert (distances > 0).all().all(), "a generator never matches the test days' correlations exactly"
    with pytest.raises(InputError, match="variant='calm'"):
        vae_market_study(markets=3, seed=0, variant="calm", n_assets=8, n_days=300, latent_size=2, hidden_sizes=[8],
                         beta=1.0)


def test_the_dial_counts_the_latents_a_vae_uses_and_reads_sectors_in_its_loadings():
    study = vae_market_study(markets=2, seed=0, variant="default", n_assets=12, n_days=400, latent_size=2,
                             hidden_sizes=[8], beta=1.0, epochs=40, patience=10)
    small = replace(study, implied_draws=200, generated_days=400, train=replace(study.train, progress=False))
    used, priced_out = run_dial(small).table, run_dial(replace(small, beta=1000.0)).table
    assert (used["active units"] >= 1).all() and (priced_out["active units"] == 0).all(), \
        "a KL weight of 1000 leaves every latent on the prior"
    sectors = load("synthetic", n_assets=12, n_days=400, seed=0).assets["sector"].to_numpy()
    assert used["sector purity, chance"].iloc[0] == pytest.approx(chance_purity(sectors))
    purity = used.filter(like="sector purity")
    assert ((purity >= 0) & (purity <= 1)).all().all()
    assert (used["sector purity, true loadings"] > used["sector purity, chance"]).all()


def test_the_conditional_study_reads_each_markets_regimes_and_its_models_see_correlation_rise_in_stress():
    # market seeds 3 and 4 have stress days in their test years (seed 0 has none at this size)
    study = vae_market_study(markets=2, seed=3, variant="default", n_assets=30, n_days=1260, latent_size=4,
                             hidden_sizes=[32], beta=1.0, epochs=150, patience=20)
    small = replace(study, implied_draws=2000, train=replace(study.train, progress=False))
    first, second = run_conditional_study(small), run_conditional_study(small)
    pd.testing.assert_frame_equal(first.table, second.table)
    assert first.models_trained == 2 and set(first.histories) == {"conditional VAE"}
    for seed, row in first.table.set_index("seed").iterrows():
        market = load("synthetic", n_assets=30, n_days=1260, seed=seed)
        test = chronological_split(market.returns.index).test
        for number, name in enumerate(REGIMES):
            days = test[(market.truth.regimes.loc[test] == number).to_numpy()]
            assert row[f"days, {name}"] == len(days)
            assert row[f"true mean correlation, {name}"] == pytest.approx(
                mean_correlation(market.truth.conditional_covariance(days).mean(axis=0)))
        assert row["CVAE mean correlation, stress"] > row["CVAE mean correlation, calm"] + 0.05, \
            "given the regime, the model's covariance carries the rise of correlation in stress"
        assert row["CVAE loading size, stress"] > row["CVAE loading size, calm"]
    with pytest.raises(InputError, match="windows=False and parts_alone=False"):
        run_conditional_study(SMALL)
