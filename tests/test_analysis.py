"""Analysis helpers on tiny data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from helpers.analysis.embedding import (
    MarketStates,
    asset_groups,
    cluster_representatives,
    market_residual_returns,
    nearest_neighbours,
    pair_correlations,
    pca_reconstruction,
    reconstruction_r2,
    state_profiles,
    stock_embedding_scores,
    stock_features,
)
from helpers.analysis.interpret import (
    FeatureLabeler,
    best_separating_feature,
    chosen_components,
    direction,
    drawdown_spells,
    event_windows,
    interpretation_indicators,
    rank_correlations,
    sparse_metrics,
    window_volatility,
)

DAYS = pd.bdate_range("2020-01-01", periods=200)


def test_reconstruction_r2_is_one_for_perfect_and_zero_for_the_mean():
    x = np.random.default_rng(0).normal(size=(50, 4))
    reference = x.mean(axis=0)
    assert reconstruction_r2(x, x, reference) == 1
    assert reconstruction_r2(x, np.tile(reference, (50, 1)), reference) == pytest.approx(0)


def test_pca_with_all_components_reconstructs_exactly():
    x = np.random.default_rng(1).normal(size=(40, 5))
    np.testing.assert_allclose(pca_reconstruction(x, x, 5), x, atol=1e-10)


def test_market_states_find_three_separated_blobs():
    rng = np.random.default_rng(2)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    x = np.concatenate([c + rng.normal(size=(60, 2)) for c in centres])
    model = MarketStates(k_values=(2, 3, 4, 5), random_state=0).fit(x)
    assert model.n_states_ == 3
    assert len(set(model.predict(centres))) == 3
    with pytest.raises(ValueError, match="k_values"):
        MarketStates(k_values=(1, 2)).fit(x)


def test_state_profiles():
    returns = pd.DataFrame({"a": [0.01, -0.01, 0.02, -0.02], "b": [0.01, -0.01, -0.02, 0.02]}, index=DAYS[:4])
    states = pd.Series([0, 0, 1, 1], index=DAYS[:4])
    profiles = state_profiles(states, returns, returns["a"])
    assert profiles.loc[0, "mean pairwise correlation"] == pytest.approx(1)
    assert profiles.loc[1, "mean pairwise correlation"] == pytest.approx(-1)
    assert profiles.loc[0, "days"] == 2 and profiles.loc[1, "share of days"] == 0.5


def test_stock_features_one_row_per_stock(random_prices):
    benchmark = random_prices.mean(axis=1).rename("index")
    features = stock_features(random_prices, benchmark, random_prices.index[1:200], step=5)
    assert list(features.index) == list(random_prices.columns)
    assert features.shape[1] % 3 == 0 and not features.isna().any().any()


def test_stock_features_of_the_benchmark_itself_are_finite(random_prices):
    benchmark = random_prices["A"].rename("A")
    features = stock_features(random_prices, benchmark, random_prices.index[1:200], step=5)
    assert not features.isna().any().any()
    residual_columns = [c for c in features.columns if not c.startswith("ma_distance")]
    assert (features.loc["A", residual_columns] == 0).all(), "the benchmark has no residual beyond itself"
    assert features.loc["B", residual_columns].abs().sum() > 0


def test_market_residuals_read_a_later_period_with_the_earlier_betas(random_prices):
    benchmark = random_prices.mean(axis=1).rename("index")
    fit_days, later = random_prices.index[1:150], random_prices.index[150:]
    residual = market_residual_returns(random_prices, benchmark, fit_days, later)
    rigged = random_prices.copy()
    rigged.loc[later[0]:, "B"] *= np.exp(np.linspace(0, 3, len(later)))  # a later trend of B's own
    rigged_residual = market_residual_returns(rigged, benchmark, fit_days, later)
    returns = np.log(random_prices).diff()
    beta = returns.loc[fit_days, "A"].cov(np.log(benchmark).diff().loc[fit_days]) / np.log(benchmark).diff().loc[
        fit_days].var()
    np.testing.assert_allclose(residual["A"], returns.loc[later, "A"] - beta * np.log(benchmark).diff().loc[later])
    pd.testing.assert_series_equal(residual["A"], rigged_residual["A"])
    assert not np.allclose(residual["B"], rigged_residual["B"])


def test_nearest_neighbours_pairs_and_representatives():
    points = pd.DataFrame({"x": [0.0, 0.1, 5.0, 5.2, 9.0]}, index=list("abcde"))
    partners = nearest_neighbours(points)
    assert partners.to_dict() == {"a": "b", "b": "a", "c": "d", "d": "c", "e": "d"}
    twins = pd.DataFrame({"x": [1.0, 1.0, 3.0]}, index=list("pqr"))
    twin_partners = nearest_neighbours(twins)
    assert twin_partners["p"] == "q" and twin_partners["q"] == "p" and twin_partners["r"] in ("p", "q")
    assert cluster_representatives(points, np.array([0, 0, 1, 1, 1])) == ["a", "d"]
    rng = np.random.default_rng(0)
    common = rng.normal(size=300)
    residuals = pd.DataFrame({"a": common + 0.1 * rng.normal(size=300), "b": common, "c": rng.normal(size=300)})
    correlations = pair_correlations(residuals, pd.Series({"a": "b", "c": "a"}))
    assert correlations["a"] > 0.95 and abs(correlations["c"]) < 0.2
    with pytest.raises(ValueError, match="at least 2"):
        nearest_neighbours(points.iloc[:1])


def test_stock_embedding_scores_reward_an_embedding_that_knows_the_groups():
    rng = np.random.default_rng(1)
    groups = pd.Series(np.repeat(["g0", "g1", "g2"], 6), index=[f"s{i:02d}" for i in range(18)])
    factors = rng.normal(size=(250, 3)) * 0.01
    codes = groups.str[1].astype(int).to_numpy()
    returns = pd.DataFrame(factors[:, codes] + 0.003 * rng.normal(size=(250, 18)), columns=groups.index)
    knowing = pd.DataFrame(np.eye(3)[codes] + 0.01 * rng.normal(size=(18, 3)), index=groups.index)
    blind = pd.DataFrame(rng.normal(size=(18, 3)), index=groups.index)
    scores = stock_embedding_scores({"knowing": knowing, "blind": blind}, groups, returns, returns, seed=0)
    assert scores.loc["knowing", "ARI"] == 1 and abs(scores.loc["chance", "ARI"]) < 0.05
    assert scores.loc["knowing", "pair correlation"] > 0.8 > scores.loc["chance", "pair correlation"]
    assert scores.loc["knowing", "diversified volatility"] < scores.loc["chance", "diversified volatility"]
    assert scores.loc["blind", "ARI"] < 0.5


def test_asset_groups_prefer_sectors_then_asset_classes_else_none():
    def assets(classes, sectors):
        return pd.DataFrame({"asset_class": classes, "sector": sectors}, index=[f"T{i}" for i in range(len(classes))])

    stocks = assets(["equity"] * 4, ["Tech", "Tech", "Energy", "Energy"])
    assert asset_groups(stocks).name == "sector"
    one_fund_per_sector = assets(["equity", "equity", "treasury", "treasury"], ["A", "B", "C", "D"])
    assert list(asset_groups(one_fund_per_sector)) == ["equity", "equity", "treasury", "treasury"]
    assert asset_groups(assets(["unknown"] * 3, ["unknown"] * 3)) is None
    assert asset_groups(assets(["equity", "treasury", "gold"], ["A", "B", "C"])) is None, "every asset alone"
    assert asset_groups(assets(["equity"] * 3, ["A", "B", "C"])) is None, "all in one class"


def test_sparse_metrics_known_answers():
    x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    features = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    metrics = sparse_metrics(x, np.zeros_like(x), features)
    assert metrics == {"fvu": 1.0, "l0": 1.0, "dead_fraction": pytest.approx(1 / 3), "dense_fraction": 0.0}
    three_rows = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert sparse_metrics(np.eye(3), np.zeros((3, 3)), three_rows)["dense_fraction"] == pytest.approx(1 / 3)


def test_rank_correlations_see_monotone_relations_and_smooth():
    signal = pd.Series(np.sin(np.arange(200) / 10), index=DAYS)
    activations = pd.DataFrame({"up": np.exp(signal), "down": -signal, "flat": 0.0}, index=DAYS)
    table = rank_correlations(activations, signal.to_frame("signal"))
    assert table.loc["up", "signal"] == pytest.approx(1)
    assert table.loc["down", "signal"] == pytest.approx(-1)
    assert table.loc["flat", "signal"] == 0
    assert len(activations.rolling(5).mean().dropna()) == 196
    with pytest.raises(ValueError, match="smoothing=0"):
        rank_correlations(activations, signal.to_frame("signal"), smoothing=0)


def persistent_noise(rng: np.random.Generator, n_days: int, n_series: int, persistence: float = 0.98) -> np.ndarray:
    shocks = rng.normal(size=(n_days, n_series))
    values = np.zeros_like(shocks)
    for day in range(1, n_days):
        values[day] = persistence * values[day - 1] + shocks[day]
    return values


def test_feature_labeler_labels_only_relations_beyond_chance():
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2010-01-01", periods=800)
    signal = pd.Series(persistent_noise(rng, 800, 1)[:, 0], index=days)
    activations = pd.DataFrame(persistent_noise(rng, 800, 20), index=days).add_prefix("noise")
    activations["tracker"] = signal + 0.5 * rng.normal(size=800)
    labeler = FeatureLabeler(level=0.95, smoothing=1).fit(activations, signal.to_frame("signal"))
    assert labeler.labels_.to_dict() == {"tracker": "high signal"}
    noise_correlations = labeler.correlations_.drop(index="tracker").abs()
    assert noise_correlations.max().max() > 0.3  # persistent noise alone: a fixed 0.3 would label it
    assert noise_correlations.max().max() < labeler.threshold_ == pytest.approx(np.quantile(labeler.null_max_, 0.95))
    with pytest.raises(ValueError, match="level=1.5"):
        FeatureLabeler(level=1.5).fit(activations, signal.to_frame("signal"))


def test_feature_labeler_reads_indicators_beyond_the_window_volatility():
    rng = np.random.default_rng(4)
    days = pd.bdate_range("2010-01-01", periods=600)
    volatility = pd.Series(np.exp(0.3 * persistent_noise(rng, 600, 1)[:, 0]), index=days)
    news = pd.Series(persistent_noise(rng, 600, 1)[:, 0], index=days)
    activations = pd.DataFrame({"size": volatility + 0.01 * rng.normal(size=600), "news": news}, index=days)
    indicators = pd.DataFrame({"stress": 3 * np.log(volatility) + 0.3 * news}, index=days)
    plain = FeatureLabeler(smoothing=1).fit(activations, indicators)
    residualized = FeatureLabeler(smoothing=1).fit(activations, indicators, control=volatility)
    assert plain.labels_.get("size") == "high stress"
    assert "size" not in residualized.labels_ and residualized.labels_.get("news") == "high stress"
    assert residualized.residual_coefficients_.loc["stress", "slope"] == pytest.approx(3, abs=0.2)


def test_feature_labeler_learns_only_from_the_windows_it_is_fitted_on():
    rng = np.random.default_rng(5)
    days = pd.bdate_range("2010-01-01", periods=600)
    volatility = pd.Series(np.exp(0.3 * persistent_noise(rng, 600, 1)[:, 0]), index=days)
    indicators = pd.DataFrame({"stress": np.log(volatility) + persistent_noise(rng, 600, 1)[:, 0]}, index=days)
    activations = pd.DataFrame(np.abs(persistent_noise(rng, 600, 3)), index=days).add_prefix("f")
    activations["f0"] = indicators["stress"] - np.log(volatility) + 5
    train = days[:360]
    later_changed = indicators.copy()
    later_changed.loc[days[360]:] *= -10
    shocked_volatility = volatility.copy()
    shocked_volatility.loc[days[360]:] *= 50
    fitted = [FeatureLabeler(smoothing=5).fit(activations.loc[train], table, control)
              for table, control in ((indicators, volatility), (later_changed, shocked_volatility))]
    pd.testing.assert_frame_equal(fitted[0].residual_coefficients_, fitted[1].residual_coefficients_)
    pd.testing.assert_frame_equal(fitted[0].correlations_, fitted[1].correlations_)
    assert fitted[0].threshold_ == fitted[1].threshold_
    pd.testing.assert_series_equal(fitted[0].labels_, fitted[1].labels_)
    assert fitted[0].labels_.to_dict() == {"f0": "high stress"}
    held_out = fitted[0].correlations(activations.loc[days[360]:], indicators, volatility)
    assert held_out.loc["f0", "stress"] > 0.8


def test_window_volatility_is_the_root_mean_square_of_the_window():
    returns = pd.DataFrame({"a": [0.01, -0.03, 0.02], "b": [0.0, 0.01, -0.01]}, index=DAYS[:3])
    volatility = window_volatility(returns, 2)
    assert np.isnan(volatility.iloc[0])
    assert volatility.iloc[2] == pytest.approx(np.sqrt((0.03**2 + 0.01**2 + 0.02**2 + 0.01**2) / 4))
    with pytest.raises(ValueError, match="window=0"):
        window_volatility(returns, 0)


def test_drawdown_spells():
    prices = pd.Series([100, 110, 90, 80, 100, 111, 120, 100, 125], index=DAYS[:9], dtype=float)
    spells = drawdown_spells(prices, depth=0.15)
    assert spells.notna().tolist() == [False, False, True, True, False, False, False, True, False]
    assert spells.iloc[2] == spells.iloc[3] != spells.iloc[7]


def test_best_separating_feature_and_its_direction():
    target = pd.Series(np.r_[np.zeros(100), np.ones(100)].astype(int), index=DAYS)
    activations = pd.DataFrame({"useless": np.tile([0.0, 1.0], 100), "inverse": -target + 0.0}, index=DAYS)
    rows = np.arange(200) % 2 == 0
    feature, auc = best_separating_feature(activations, target, rows)
    assert feature == "inverse" and auc == 1
    assert direction(activations["inverse"], target, rows) == -1


def test_event_windows_mark_the_windows_that_hold_an_event_day():
    events = pd.DataFrame({"type": ["shock", "burst"], "start": [DAYS[10], DAYS[30]], "end": [DAYS[10], DAYS[32]]})
    held = event_windows(events, DAYS, DAYS[5:], window=3)
    assert held.index[held["shock"]].tolist() == list(DAYS[10:13])
    assert held.index[held["burst"]].tolist() == list(DAYS[30:35])
    with pytest.raises(ValueError, match="window end"):
        event_windows(events, DAYS[:50], DAYS[40:60], window=3)


def test_chosen_components_pick_on_the_fitting_rows_and_sign_toward_the_target():
    target = pd.Series(np.r_[np.zeros(100), np.ones(100)].astype(int), index=DAYS)
    fit_rows = np.arange(200) % 2 == 0
    noise = np.random.default_rng(0).normal(size=200)
    families = {"pca": pd.DataFrame({"pc0": noise, "pc1": -target + 0.1 * noise}, index=DAYS),
                "one": pd.DataFrame({"vol": noise}, index=DAYS)}
    chosen, names = chosen_components(families, target, fit_rows)
    assert names.to_dict() == {"pca": "pc1", "one": "vol"}
    assert roc_auc_score(target[~fit_rows], chosen["pca"][~fit_rows]) == 1
    assert chosen["pca"].corr(target) > 0.9
    leaked = target.where(fit_rows, 1 - target)  # the test rows' labels flipped: the choice cannot move
    assert chosen_components(families, leaked, fit_rows)[1].equals(names)


def test_interpretation_indicators_fall_back_to_realized_volatility():
    indicators = pd.DataFrame(
        {"vix": [np.nan] * 150 + [20.0] * 50, "realized_vol_21d": 15.0, "momentum_20d": 0.0,
         "mean_correlation_63d": 0.3, "credit_spread": 1.0},
        index=DAYS,
    )
    chosen = interpretation_indicators(indicators)
    assert list(chosen.columns) == [
        "realized_vol_21d", "realized_vol_21d 5-day change", "momentum_20d", "mean_correlation_63d", "credit_spread"
    ]


def test_factor_recovery_and_correlation():
    from helpers.analysis.factors import factor_recovery, max_abs_correlation

    rng = np.random.default_rng(4)
    factors = pd.DataFrame(rng.normal(size=(200, 2)), index=DAYS, columns=["a", "b"])
    rotated = pd.DataFrame(factors.to_numpy() @ np.array([[0.6, 0.8], [-0.8, 0.6]]), index=DAYS, columns=["z0", "z1"])
    scores = factor_recovery(rotated, factors, DAYS[:100], DAYS[100:])
    assert scores.to_dict() == pytest.approx({"a": 1.0, "b": 1.0})
    assert max_abs_correlation(rotated, factors["a"]) == pytest.approx(0.8, abs=0.1)


def test_active_units_and_purity():
    from helpers.analysis.factors import active_units, chance_purity, knn_purity

    assert active_units([0.5, 0.001, 0.02]) == 2
    points = np.r_[np.zeros((5, 2)), np.full((5, 2), 10.0)] + np.random.default_rng(0).normal(0, 0.1, (10, 2))
    labels = np.array(["x"] * 5 + ["y"] * 5)
    assert knn_purity(points, labels, k=3) == 1
    assert chance_purity(labels) == pytest.approx(4 / 9)


def test_decoder_jacobian_of_a_linear_decoder_is_its_weight():
    import torch

    from helpers.analysis.factors import decoder_jacobian
    from helpers.models.vae import VAE, VAEConfig

    torch.manual_seed(0)
    model = VAE(VAEConfig(n_inputs=5, latent_size=2, hidden_sizes=()))
    jacobian = decoder_jacobian(model, np.random.default_rng(0).normal(size=(7, 2)))
    np.testing.assert_allclose(jacobian, model.decoder[0].weight.detach().numpy(), rtol=1e-5)


def test_trend_volatility_label_is_causal():
    from helpers.analysis.factors import trend_volatility_label

    prices = pd.Series(100 * np.exp(np.random.default_rng(2).normal(0, 0.01, 200).cumsum()), index=DAYS)
    label = trend_volatility_label(prices, DAYS[:120], window=20)
    shocked = prices.copy()
    shocked.iloc[150:] *= 2
    assert label.iloc[:20].isna().all() and set(label.dropna().unique()) <= {0, 1, 2, 3}
    pd.testing.assert_series_equal(label.iloc[:150], trend_volatility_label(shocked, DAYS[:120], window=20).iloc[:150])
