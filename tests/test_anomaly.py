"""Anomaly helpers on tiny data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.anomaly import (
    anomaly_score,
    detection_scores,
    pca_errors,
    residual_drawdowns,
    window_detection_auroc,
    window_precision,
)
from helpers.analysis.replications import replication_interval
from helpers.analysis.residuals import factor_exposures, factor_residuals

DAYS = pd.bdate_range("2021-01-01", periods=120)


def test_anomaly_score_is_one_for_a_normal_stock_and_rises_in_an_episode():
    errors = pd.DataFrame(1.0, index=DAYS, columns=list("ABCD"))
    errors["B"] = 3.0  # a noisier stock is normal at its own level
    errors.iloc[80:100, 0] = 10.0  # stock A's episode
    score = anomaly_score(errors, DAYS[:60], window=5)
    assert score.iloc[:4].isna().all().all()  # no full 5-day window yet
    np.testing.assert_allclose(score.iloc[10:80].to_numpy(), 1.0)
    assert score["A"].iloc[90] == pytest.approx(10.0)
    assert score[["B", "C", "D"]].iloc[90].tolist() == pytest.approx([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="window=0"):
        anomaly_score(errors, DAYS[:60], window=0)


def test_anomaly_score_reads_no_later_day_and_scales_by_the_reference_days_only():
    errors = pd.DataFrame(np.random.default_rng(3).gamma(1.0, size=(len(DAYS), 4)), index=DAYS, columns=list("ABCD"))
    score = anomaly_score(errors, DAYS[:60], window=5)
    later = errors.copy()
    later.iloc[90:, 1] *= 50.0  # a later episode, outside the reference days
    np.testing.assert_allclose(anomaly_score(later, DAYS[:60], window=5).iloc[:90], score.iloc[:90])


def test_a_market_wide_rise_flags_no_one():
    errors = pd.DataFrame(1.0, index=DAYS, columns=list("ABC"))
    errors.iloc[80:] *= 5.0
    np.testing.assert_allclose(anomaly_score(errors, DAYS[:60], window=5).dropna().to_numpy(), 1.0)


def test_detection_scores_of_a_perfect_and_a_reversed_score():
    counts = pd.Series([0, 0, 0, 20, 40], index=list("ABCDE"))
    perfect = detection_scores(counts + np.arange(5) * 1e-3, counts)  # no ties, in the counts' order
    assert perfect["auroc"] == 1.0 and perfect["anomalous_stocks"] == 2
    assert perfect["spearman"] == pytest.approx(perfect["spearman_ceiling"])
    assert perfect["spearman_ceiling"] < 1
    reversed_ = detection_scores(-counts.astype(float), counts)
    assert reversed_["auroc"] == 0.0
    with pytest.raises(ValueError, match="same number"):
        detection_scores(counts, pd.Series(0, index=counts.index))


def test_window_detection_auroc_on_a_clean_episode():
    anomalies = pd.DataFrame(False, index=DAYS, columns=list("AB"))
    anomalies.iloc[42:63, 0] = True  # exactly the third 21-day window of A
    scores = anomalies.astype(float) + 1.0
    assert window_detection_auroc(scores, anomalies, window=21) == 1.0


def test_residual_drawdown_removes_every_factor():
    rng = np.random.default_rng(0)
    factors = pd.DataFrame(rng.normal(-0.002, 0.01, (len(DAYS), 2)), index=DAYS, columns=["market", "rates"])
    idio = rng.normal(0, 0.001, len(DAYS))
    returns = pd.DataFrame({"exposed": 2 * factors["market"] - 3 * factors["rates"] + idio,
                            "market_only": factors["market"] + idio}, index=DAYS)
    exposures = factor_exposures(returns, factors, DAYS)
    assert exposures["exposed"].tolist() == pytest.approx([2, -3], abs=0.05)
    residual = residual_drawdowns(returns, factors, DAYS, DAYS)
    assert residual["exposed"] == pytest.approx(residual["market_only"], abs=0.02) and residual.min() > -0.1
    market_only = residual_drawdowns(returns, factors[["market"]], DAYS, DAYS)
    assert market_only["exposed"] < residual["exposed"] - 0.1  # the rates exposure left in draws it down


def test_factor_residuals_use_exposures_from_the_fitting_days_only():
    rng = np.random.default_rng(2)
    factors = pd.DataFrame({"market": rng.normal(0, 0.01, len(DAYS))}, index=DAYS)
    returns = pd.DataFrame({"A": factors["market"] + rng.normal(0, 0.001, len(DAYS))}, index=DAYS)
    later = DAYS[60:]
    rigged = returns.copy()
    rigged.loc[later, "A"] = 5 * factors.loc[later, "market"]  # a later change of exposure
    assert factor_residuals(rigged, factors, DAYS[:60], later)["A"].abs().mean() > 0.01
    fitted = factor_exposures(returns, factors, DAYS[:60])
    np.testing.assert_allclose(factor_exposures(rigged, factors, DAYS[:60]), fitted)


def test_window_precision_counts_the_planted_pairs_among_the_top_scores():
    anomalies = pd.DataFrame(False, index=DAYS, columns=list("ABCD"))
    anomalies.iloc[42:63, 0] = True
    anomalies.iloc[84:105, 1] = True
    scores = anomalies.astype(float) + 1.0
    assert window_precision(scores, anomalies, window=21) == 1.0
    scores.iloc[83:105, 1] = 0.0  # the second episode now scores lowest; a clean pair is ranked second
    assert window_precision(scores, anomalies, window=21) == 0.5
    assert window_detection_auroc(scores, anomalies, window=21) < 1.0


def test_replication_interval_holds_the_mean_and_widens_with_spread():
    narrow = replication_interval([1.0, 1.1, 0.9, 1.0, 1.05])
    wide = replication_interval([1.0, 2.0, 0.0, 1.5, 0.5])
    assert narrow["estimate"] == pytest.approx(1.01)
    assert narrow["low"] < narrow["estimate"] < narrow["high"]
    assert wide["high"] - wide["low"] > 5 * (narrow["high"] - narrow["low"])
    with pytest.raises(ValueError, match="at least two finite"):
        replication_interval([1.0])
    with pytest.raises(ValueError, match="at least two finite"):
        replication_interval([1.0, float("nan")])


def test_pca_errors_vanish_for_data_of_that_rank():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(len(DAYS), 2)) @ rng.normal(size=(2, 5)), index=DAYS)
    assert pca_errors(data, DAYS[:60], 2).to_numpy().max() < 1e-20
    assert pca_errors(data, DAYS[:60], 1).to_numpy().max() > 1e-3
