"""The synthetic market has the properties the book relies on."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import SyntheticConfig, load


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


def test_vix_like_index_tracks_market_volatility(default_synthetic):
    truth = default_synthetic.truth
    vix = default_synthetic.indicators["vix_like"]
    assert np.corrcoef(vix, truth.factor_vol["market"])[0, 1] > 0.9
    slope_changes = default_synthetic.indicators["yield_slope_like"].diff().dropna()
    assert np.corrcoef(slope_changes, truth.factors["rates"].iloc[1:])[0, 1] > 0.5


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
