"""The synthetic market has the properties the book relies on."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from helpers.data import SyntheticConfig, load
from helpers.data.synthetic import _observable_indicators
from helpers.data.truth import REGIMES


def mean_correlation(frame: pd.DataFrame) -> float:
    matrix = np.corrcoef(frame.to_numpy().T)
    n = len(matrix)
    return (matrix.sum() - n) / (n * (n - 1))


def test_same_seed_same_market_other_seed_other_market():
    a, b, c = (load("synthetic", n_assets=8, n_days=300, seed=s) for s in (1, 1, 2))
    pd.testing.assert_frame_equal(a.prices, b.prices)
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    assert not np.allclose(a.prices.to_numpy(), c.prices.to_numpy())


def test_shapes_and_metadata(small_synthetic):
    truth = small_synthetic.truth
    assert small_synthetic.prices.shape == (1500, 12)
    assert truth.factors.shape == (1500, 4) and list(truth.factors.columns[:2]) == ["market", "rates"]
    assert set(truth.regimes.unique()) == {0, 1}
    assert small_synthetic.assets["sector"].nunique() == 6
    assert set(small_synthetic.indicator_info["origin"]) == {"simulated", "derived"}


def test_the_market_factor_drives_the_cross_section(default_synthetic):
    returns = default_synthetic.returns
    centred = returns - returns.mean()
    _, singular, vt = np.linalg.svd(centred.to_numpy(), full_matrices=False)
    first_pc = centred.to_numpy() @ vt[0]
    market = default_synthetic.truth.factors["market"].reindex(returns.index)
    assert abs(np.corrcoef(first_pc, market)[0, 1]) > 0.9
    assert singular[0] ** 2 / (singular**2).sum() > 0.3


def test_volatility_and_correlation_rise_in_stress(default_synthetic):
    returns = default_synthetic.returns
    stress = default_synthetic.truth.regimes.reindex(returns.index) == 1
    assert 0.1 < stress.mean() < 0.5
    assert returns[stress].std().mean() > 1.5 * returns[~stress].std().mean()
    assert mean_correlation(returns[stress]) > mean_correlation(returns[~stress]) + 0.1
    loadings = default_synthetic.truth.loadings
    assert not np.allclose(loadings["calm"], loadings["stress"]), "loadings must change with the regime"


def test_the_nonlinear_interaction_is_there(default_synthetic):
    """Within the calm regime, what a linear model of the true factors leaves over moves
    with the product of the market and rates factors, in the direction of gamma."""
    truth = default_synthetic.truth
    returns = default_synthetic.returns
    calm = (truth.regimes.reindex(returns.index) == 0) & ~truth.anomalies.reindex(returns.index).any(axis=1)
    factors = truth.factors.reindex(returns.index)[calm]
    design = np.column_stack([np.ones(calm.sum()), factors.to_numpy()])
    product = (factors["market"] * factors["rates"]).to_numpy()
    strongest = truth.interaction_loadings.abs().nlargest(5).index
    for asset in strongest:
        y = returns.loc[calm, asset].to_numpy()
        residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        sign = np.sign(truth.interaction_loadings[asset])
        assert sign * np.corrcoef(residual, product)[0, 1] > 0.1, asset


def test_conditional_covariance_is_valid_and_matches_the_data(default_synthetic):
    truth = default_synthetic.truth
    returns = default_synthetic.returns
    covariance = truth.conditional_covariance(returns.index[:50])
    assert covariance.shape == (50, 60, 60)
    np.testing.assert_allclose(covariance, covariance.transpose(0, 2, 1))
    assert np.linalg.eigvalsh(covariance).min() > 0
    quiet = ~truth.anomalies.reindex(returns.index).any(axis=1)
    for regime in (0, 1):
        days = returns.index[(truth.regimes.reindex(returns.index) == regime) & quiet]
        implied = truth.conditional_covariance(days).mean(axis=0)
        realized = np.cov(returns.loc[days].to_numpy().T)
        ratio = np.diag(realized) / np.diag(implied)
        assert 0.8 < np.median(ratio) < 1.2, regime


def test_planted_anomalies_crash_then_drift(small_synthetic):
    truth = small_synthetic.truth
    episodes = truth.anomaly_episodes
    assert len(episodes) == 10
    assert truth.anomalies.to_numpy().sum() == 10 * truth.config.anomaly_days
    returns = np.log(small_synthetic.prices).diff()
    first_day = [returns.loc[row.start, row.asset] for row in episodes.itertuples() if row.start != returns.index[0]]
    assert np.mean(first_day) < -3 * truth.config.idio_vol_low
    for asset, group in episodes.groupby("asset"):
        starts, ends = group["start"].to_numpy(), group["end"].to_numpy()
        assert (starts[1:] > ends[:-1]).all(), f"overlapping episodes on {asset}"


def test_vix_like_index_forecasts_volatility_with_a_premium(default_synthetic):
    """It is a forecast: it moves with the next month's realized volatility of the index,
    and its square sits above that variance by about the variance premium."""
    index_returns = default_synthetic.benchmark_returns
    ahead = 100 * np.sqrt(252) * np.sqrt((index_returns**2).rolling(21).mean().shift(-21)).dropna()
    vix = default_synthetic.indicators["vix_like"].reindex(ahead.index)
    assert np.corrcoef(vix, ahead)[0, 1] > 0.3
    assert 1.0 < (vix**2).mean() / (ahead**2).mean() < 1.5
    slope_changes = default_synthetic.indicators["yield_slope_like"].diff().dropna()
    assert np.corrcoef(slope_changes, default_synthetic.truth.factors["rates"].iloc[1:])[0, 1] > 0.5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_assets": 1}, "n_assets=1; expected an integer >= n_sectors=6"),
        ({"n_factors": 1}, "n_factors=1"),
        ({"stay_calm": 1.0}, "stay_calm=1.0; expected a probability"),
        ({"n_sectors": 9}, "n_sectors=9"),
        ({"tail_df": 2}, "tail_df=2"),
        ({"garch_alpha": 0.5, "garch_beta": 0.6}, "garch_alpha"),
    ],
)
def test_bad_configuration(options, message):
    with pytest.raises(ValueError, match=message):
        SyntheticConfig(**options)


def test_too_many_anomalies_for_the_space_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot place n_anomalies=500"):
        load("synthetic", n_assets=2, n_sectors=2, n_days=200, n_anomalies=500)


def test_linear_variant_has_one_constant_covariance():
    market = load("synthetic", variant="linear", n_assets=10, n_days=300, n_anomalies=0)
    covariances = market.truth.conditional_covariance()
    np.testing.assert_allclose(covariances, covariances[:1].repeat(len(covariances), axis=0))
    with pytest.raises(ValueError, match="variant='curved'"):
        load("synthetic", variant="curved")


def test_the_default_market_is_pinned(default_synthetic):
    """The default simulation is frozen: a change to it must show here, and in review."""
    truth, returns = default_synthetic.truth, default_synthetic.returns
    observed = {
        "stress share": truth.regimes.mean(),
        "index volatility": default_synthetic.benchmark_returns.std(),
        "mean return": returns.to_numpy().mean(),
        "mean VIX-like": default_synthetic.indicators["vix_like"].mean(),
        "last slope": default_synthetic.indicators["yield_slope_like"].iloc[-1],
        "market factor mean": truth.factors["market"].mean(),
    }
    pinned = {
        "stress share": 0.24285714285714285,
        "index volatility": 0.01615710369073352,
        "mean return": -0.00023640562879070074,
        "mean VIX-like": 25.664773882557025,
        "last slope": 1.2366811610547592,
        "market factor mean": -7.758345446218191e-05,
    }
    for name, value in pinned.items():
        assert observed[name] == pytest.approx(value, rel=1e-9), name
    counts = truth.events["type"].value_counts().to_dict()
    assert counts == {"sector_shock": 6, "rates_move": 6, "volatility_burst": 4, "momentum_crash": 3}
    assert len(truth.anomaly_episodes) == 30


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_vix_like_index_is_not_an_oracle_of_the_regime(seed):
    market = load("synthetic", seed=seed)
    stress = market.truth.regimes.reindex(market.returns.index) == 1
    vix = market.indicators["vix_like"].reindex(market.returns.index)
    assert roc_auc_score(stress, vix) < 0.95
    assert roc_auc_score(stress, vix) > 0.7, "it must still carry the volatility it forecasts"


def test_indicators_use_only_the_past_and_noise():
    """Change day t's regime and index return: no indicator moves on or before day t."""
    cfg = SyntheticConfig(n_days=200)
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2020-01-01", periods=200)
    regimes = rng.integers(0, 2, 200)
    index_returns = rng.normal(0, 0.01, 200)
    rates_news = rng.standard_normal(200)
    before, _ = _observable_indicators(cfg, regimes, index_returns, rates_news, days, np.random.default_rng(5))
    for day in (50, 120):
        regimes_changed, returns_changed = regimes.copy(), index_returns.copy()
        regimes_changed[day] = 1 - regimes_changed[day]
        returns_changed[day] *= 10
        after, _ = _observable_indicators(cfg, regimes_changed, returns_changed, rates_news, days,
                                          np.random.default_rng(5))
        pd.testing.assert_frame_equal(before.iloc[: day + 1], after.iloc[: day + 1])
        assert not after.iloc[day + 1 :].equals(before.iloc[day + 1 :]), "the change must reach later days"


def test_planted_events_are_recorded_and_the_oracle_sees_them(default_synthetic):
    """The oracle reads rates moves and bursts off its GLS factors, and sector shocks and
    momentum crashes off what the true factors leave unexplained."""
    truth, returns = default_synthetic.truth, default_synthetic.returns
    events = truth.events.loc[truth.events["start"] > returns.index[0]]
    factors = truth.gls_factors(returns)
    stacked = {name: truth.loadings[name].to_numpy() for name in REGIMES}
    true_factors = truth.factors.reindex(returns.index).to_numpy()
    regimes = truth.regimes.reindex(returns.index)
    fitted = np.stack([stacked[REGIMES[r]] @ f for r, f in zip(regimes, true_factors, strict=True)])
    residuals = returns - fitted
    unit_rates = factors["rates"] / truth.factor_vol["rates"].reindex(returns.index)
    for event in events.itertuples():
        days = residuals.loc[event.start : event.end]
        assets = list(event.assets)
        if event.type == "rates_move":
            assert np.sign(event.size) * unit_rates.loc[event.start] > 2, event
        elif event.type == "sector_shock":
            typical = residuals[assets].mean(axis=1).std()
            assert np.sign(event.size) * days[assets].mean(axis=1).iloc[0] > 3 * typical, event
        elif event.type == "momentum_crash":
            half = len(assets) // 2
            spread = residuals[assets[:half]].mean(axis=1) - residuals[assets[half:]].mean(axis=1)
            typical = spread.rolling(len(days)).sum().std()
            assert days[assets[:half]].mean(axis=1).sum() - days[assets[half:]].mean(axis=1).sum() < -3 * typical
        else:
            unit_market = (factors["market"] / truth.factor_vol["market"] * event.size).loc[days.index]
            assert (unit_market**2).mean() > 2, event
    assert set(events["type"]) == {"sector_shock", "volatility_burst", "momentum_crash", "rates_move"}


def test_nonlinearity_zero_removes_the_interaction_and_the_loading_shift():
    flat = load("synthetic", nonlinearity=0.0, n_assets=12, n_days=300).truth
    assert (flat.interaction_scale == 0).all()
    pd.testing.assert_frame_equal(flat.loadings["calm"], flat.loadings["stress"])
    default = load("synthetic", n_assets=12, n_days=300).truth
    pd.testing.assert_series_equal(flat.regimes, default.regimes)
    pd.testing.assert_frame_equal(flat.loadings["calm"], default.loadings["calm"])


def test_the_variants_are_named_and_strongly_nonlinear_is_stronger():
    strong = load("synthetic", variant="strongly_nonlinear", n_assets=12, n_days=300).truth
    default = load("synthetic", variant="default", n_assets=12, n_days=300).truth
    assert strong.interaction_scale.mean() == pytest.approx(3 * default.interaction_scale.mean())
    shift = (strong.loadings["stress"] - strong.loadings["calm"]).abs().to_numpy().sum()
    assert shift > 2 * (default.loadings["stress"] - default.loadings["calm"]).abs().to_numpy().sum()


def test_the_oracle_reads_the_factors_off_the_returns(default_synthetic):
    truth, returns = default_synthetic.truth, default_synthetic.returns
    read = truth.gls_factors(returns)
    assert list(read.columns) == list(truth.factors.columns)
    for name in read.columns:
        assert np.corrcoef(read[name], truth.factors[name].reindex(returns.index))[0, 1] > 0.9, name
    with pytest.raises(ValueError, match="gls_factors needs returns of the simulated assets"):
        truth.gls_factors(returns.iloc[:, :5])


def lagged_fit(truth, lag: int = 1) -> float:
    """Share of the variance of each month's betas that a linear map of the characteristics
    observed `lag` months earlier explains (pooled least squares with an intercept)."""
    characteristics, betas = truth.characteristics, truth.betas
    months = betas.index.get_level_values("month").unique()
    design = np.concatenate([characteristics.loc[month - lag].to_numpy() for month in months])
    design = np.column_stack([np.ones(len(design)), design])
    target = betas.to_numpy()
    residual = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
    return float(1 - (residual**2).sum() / ((target - target.mean(axis=0)) ** 2).sum())


@pytest.fixture(scope="module")
def characteristic_markets():
    return {variant: load("synthetic", variant=f"characteristics_{variant}", n_assets=40, n_days=756)
            for variant in ("linear", "nonlinear")}


def test_the_characteristics_are_monthly_ranks_that_persist(characteristic_markets):
    characteristics = characteristic_markets["linear"].truth.characteristics
    months = characteristics.index.get_level_values("month").unique()
    assert len(months) == 36  # 756 trading days from 2012-01-02 to November 2014, and the month before
    assert characteristics.to_numpy().min() == -1 and characteristics.to_numpy().max() == 1
    by_month = characteristics.to_numpy().reshape(len(months), 40, -1)
    persistence = np.mean([np.corrcoef(by_month[m, :, 0], by_month[m + 1, :, 0])[0, 1] for m in range(35)])
    assert 0.6 < persistence < 0.98


def test_the_betas_are_a_map_of_last_months_characteristics(characteristic_markets):
    linear, nonlinear = characteristic_markets["linear"].truth, characteristic_markets["nonlinear"].truth
    assert lagged_fit(linear) == pytest.approx(1.0, abs=1e-12)  # IPCA's model holds exactly
    assert lagged_fit(linear, lag=0) < 0.95  # the month's own characteristics come too late to set them
    assert lagged_fit(nonlinear) < 0.6  # interactions, V shapes and thresholds: no linear map fits
    days = characteristic_markets["linear"].returns.index
    month_of_day = linear.betas.loc[days[30].to_period("M")].to_numpy()
    np.testing.assert_array_equal(linear.day_loadings(days[30:31])[0], month_of_day)


def test_the_characteristics_variants_leave_the_default_draws_alone(characteristic_markets):
    default = load("synthetic", n_assets=40, n_days=756)
    assert default.truth.characteristics is None and default.truth.betas is None
    pd.testing.assert_series_equal(default.truth.regimes, characteristic_markets["linear"].truth.regimes)
    pd.testing.assert_frame_equal(default.indicators["yield_slope_like"].to_frame(),
                                  characteristic_markets["linear"].indicators["yield_slope_like"].to_frame())


def test_the_oracle_reads_the_factors_of_a_characteristics_market(characteristic_markets):
    market = characteristic_markets["nonlinear"]
    read = market.truth.gls_factors(market.returns)
    for name in ("market", "style_2"):
        assert np.corrcoef(read[name], market.truth.factors[name].reindex(market.returns.index))[0, 1] > 0.9, name
    with pytest.raises(ValueError, match="beta_map='sector'"):
        load("synthetic", beta_map="sector")
