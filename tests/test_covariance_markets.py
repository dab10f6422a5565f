"""Chapter 6's races over many markets: the VAEs of every market trained as ensembles give the
covariances the single race's VAECovariance gives, and the walk-forward races them as it
races its own estimators."""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.covariance import PCAFactorCovariance, VAECovariance
from helpers.analysis.metrics import annualized_volatility
from helpers.analysis.walkforward import ORACLE, PORTFOLIOS, rebalance_dates, trailing_history, walk_forward
from helpers.data import MarketSpec
from helpers.experiments.covariance_race import (
    CONDITION_NAMES,
    LABEL_WARMUP,
    NO_RESIDUAL,
    CovarianceRaceConfig,
    MarketsRaceConfig,
    _joined,
    _mixture_covariance,
    differences_on_test_months,
    ewma_name,
    non_learned_estimators,
    run_races_over_markets,
    vae_conditions,
    vae_covariances,
)
from helpers.train import TrainConfig
from helpers.validate import InputError

QUICK = TrainConfig(epochs=3, patience=2, progress=False)
TINY = MarketSpec(source="synthetic", synthetic_assets=6, synthetic_days=320, seed=1)
RACE = CovarianceRaceConfig(market=TINY, window=100, n_factors=2, hidden_sizes=(8,), refit_every=3, short_window=50,
                            conditions=(),
                            ewma_half_lives=(21.0, 63.0), train=QUICK)


def walked_vae(race: CovarianceRaceConfig, condition: str | None):
    """VAECovariance walked month by month as the single race walks it, with the network it
    trained at each refit date kept."""
    market = race.market.load()
    returns = market.returns.iloc[LABEL_WARMUP:]
    dates = rebalance_dates(returns.index, race.window)
    labels, n_labels = vae_conditions(race, market, returns)[CONDITION_NAMES[condition] if condition else "VAE"]
    estimator = VAECovariance(latent_size=race.n_factors, hidden_sizes=race.hidden_sizes, labels=labels,
                              n_labels=n_labels, warm_start=True, refit_every=race.refit_every, train=race.train,
                              seed=race.train.seed)
    covariances, networks = [], []
    for month, date in enumerate(dates):
        estimator.fit(trailing_history(returns, date, race.window))
        if month % race.refit_every == 0:
            networks.append(copy.deepcopy(estimator.model_))
        covariances.append(estimator.covariance_)
    return returns, dates, labels, n_labels, networks, covariances


def test_pretrained_vae_covariances_are_the_vae_covariance_estimators():
    returns, dates, labels, n_labels, networks, expected = walked_vae(RACE, None)
    covariances, systematic = vae_covariances(networks, returns, dates, RACE.window, RACE.refit_every)
    for got, want, part in zip(covariances, expected, systematic, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
        assert np.all(np.diag(got) > np.diag(part)), "the residual variance sits on the diagonal"


def test_a_conditional_vae_mixes_its_labels_exactly_where_the_estimator_draws_them():
    race = replace(RACE, conditions=("true_regime",))
    returns, dates, labels, n_labels, networks, expected = walked_vae(race, "true_regime")
    covariances, _ = vae_covariances(networks, returns, dates, race.window, race.refit_every, labels, n_labels)
    for got, want in zip(covariances, expected, strict=True):
        assert np.linalg.norm(got - want) < 0.05 * np.linalg.norm(want)  # Monte-Carlo draws of the labels


def test_the_mixture_covariance_adds_the_spread_of_the_labels_means():
    means = [np.array([1.0, 0.0]), np.array([-1.0, 2.0])]
    within = [np.eye(2), 2 * np.eye(2)]
    shares = np.array([0.25, 0.75])
    mixed = _mixture_covariance(list(zip(means, within, strict=True)), shares)
    gap = means[0] - means[1]
    np.testing.assert_allclose(mixed, 0.25 * within[0] + 0.75 * within[1] + 0.25 * 0.75 * np.outer(gap, gap))


def test_the_walk_forward_races_given_covariances_as_its_own_estimators():
    returns = TINY.load().returns
    dates = rebalance_dates(returns.index, 100)
    pca = [PCAFactorCovariance(2).fit(trailing_history(returns, date, 100)).covariance_ for date in dates]
    race = walk_forward(returns, {"PCA": PCAFactorCovariance(2)}, 100, long_only=False, n_jobs=1,
                        given={"PCA, given": pca})
    minimum_variance = race.returns[PORTFOLIOS[0]]
    pd.testing.assert_series_equal(minimum_variance["PCA"], minimum_variance["PCA, given"], check_names=False)
    with pytest.raises(InputError, match="one per rebalance date"):
        walk_forward(returns, {}, 100, long_only=False, n_jobs=1, given={"short": pca[:-1]})
    with pytest.raises(InputError, match="share a name"):
        walk_forward(returns, {"PCA": PCAFactorCovariance(2)}, 100, long_only=False, n_jobs=1, given={"PCA": pca})
    with pytest.raises(InputError, match="reserved"):
        walk_forward(returns, {}, 100, long_only=False, n_jobs=1, given={ORACLE: pca})


@pytest.fixture(scope="module")
def study():
    linear = replace(RACE, market=replace(TINY, synthetic_variant="linear"))
    config = MarketsRaceConfig(settings=(linear, replace(RACE, conditions=tuple(CONDITION_NAMES))), markets=2)
    return config, run_races_over_markets(config)


def test_every_setting_races_every_market_with_its_vaes_and_the_oracle(study):
    config, study = study
    assert study.seeds == (1, 2)
    assert [len(setting) for setting in study.races] == [2, 2]
    refits = [[len(race.rebalance_dates[:: RACE.refit_every]) for race in setting] for setting in study.races]
    assert study.networks_trained == sum(refits[0]) + 3 * sum(refits[1])  # the linear markets' VAE, the regime ones' 3
    for number, setting in enumerate(study.races):
        vaes = {"VAE", NO_RESIDUAL} | (set(CONDITION_NAMES.values()) if number == 1 else set())
        for market, race in enumerate(setting):
            estimators = set(race.returns.columns.get_level_values("estimator"))
            assert estimators == {*non_learned_estimators(RACE), *vaes, ORACLE}
            portfolios = set(race.returns.columns.get_level_values("portfolio"))
            assert portfolios == (set(PORTFOLIOS) if market == 0 else {PORTFOLIOS[0]}), "long-only on the first only"
            assert not race.returns.isna().any().any()
    ratios = np.array(study.stress_variance_ratios[1])  # NaN for a market too short to hold a stress day
    assert np.isfinite(ratios).any() and (ratios[np.isfinite(ratios)] > 1).all()


def test_one_markets_differences_are_those_of_its_test_months(study):
    config, study = study
    race = study.races[1][1]
    ewmas = [ewma_name(half_life) for half_life in RACE.ewma_half_lives]
    differences = differences_on_test_months(race, 0.4, list(non_learned_estimators(RACE)), ewmas)
    end = race.validation_end(0.4)
    test = race.returns.loc[race.returns.index > end, PORTFOLIOS[0]]
    volatility = pd.Series(annualized_volatility(test.to_numpy()), index=test.columns)
    gap = volatility["VAE"] - volatility.drop([ORACLE, "VAE", NO_RESIDUAL, *CONDITION_NAMES.values()]).min()
    assert differences["VAE minus best baseline"] <= gap + 1e-9, "the best baseline is chosen on validation"
    assert differences["lowest estimator minus oracle"] == pytest.approx(volatility.drop(ORACLE).min()
                                                                         - volatility[ORACLE])
    assert differences[f"{CONDITION_NAMES['true_regime']} minus VAE"] == pytest.approx(
        volatility[CONDITION_NAMES["true_regime"]] - volatility["VAE"])


def test_a_race_over_markets_refuses_one_market_and_real_data():
    with pytest.raises(InputError, match="markets=1"):
        MarketsRaceConfig(settings=(RACE,), markets=1)
    with pytest.raises(InputError, match="synthetic markets"):
        MarketsRaceConfig(settings=(CovarianceRaceConfig(market=MarketSpec(source="bundled")),))


def test_the_estimators_fit_on_arrays_give_the_numbers_they_give_on_frames():
    returns = TINY.load().returns
    estimators = {name: estimator for name, estimator in non_learned_estimators(RACE).items()
                  if name in ("sample", "Ledoit-Wolf", "nonlinear shrinkage", "PCA", ewma_name(21.0))}
    on_frames, on_arrays = (walk_forward(returns, estimators, 100, long_only=False, n_jobs=1, as_arrays=as_arrays)
                            for as_arrays in (False, True))
    pd.testing.assert_frame_equal(on_frames.returns, on_arrays.returns)
    pd.testing.assert_frame_equal(on_frames.scores, on_arrays.scores)


def test_a_race_in_two_parts_joins_into_the_race_in_one():
    market = TINY.load()
    returns = market.returns
    dates = rebalance_dates(returns.index, 100)
    given = {"PCA, given": [PCAFactorCovariance(1).fit(trailing_history(returns, date, 100)).covariance_
                            for date in dates]}
    estimators = {"sample": non_learned_estimators(RACE)["sample"], "PCA": PCAFactorCovariance(2)}
    whole = walk_forward(returns, estimators, 100, truth=market.truth, n_jobs=1, given=given)
    joined = _joined(walk_forward(returns, estimators, 100, truth=market.truth, n_jobs=1),
                     walk_forward(returns, {}, 100, n_jobs=1, given=given))
    for part in ("returns", "turnover", "scores"):
        pd.testing.assert_frame_equal(getattr(joined, part), getattr(whole, part))
    assert list(joined.weights) == list(whole.weights)
    for key, weights in whole.weights.items():
        pd.testing.assert_frame_equal(joined.weights[key], weights)
