"""Anomaly helpers on tiny data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.anomaly import (
    anomaly_score,
    detection_scores,
    market_betas,
    pca_errors,
    residual_drawdowns,
    window_detection_auroc,
)

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


def test_residual_drawdown_removes_the_market():
    rng = np.random.default_rng(0)
    market = pd.Series(rng.normal(-0.002, 0.01, len(DAYS)), index=DAYS)
    idio = rng.normal(0, 0.001, len(DAYS))
    returns = pd.DataFrame({"beta_two": 2 * market + idio, "beta_one": market + idio}, index=DAYS)
    betas = market_betas(returns, market, DAYS)
    assert betas["beta_two"] == pytest.approx(2, abs=0.05)
    residual = residual_drawdowns(returns, market, DAYS, DAYS)
    assert residual["beta_two"] == pytest.approx(residual["beta_one"], abs=0.02) and residual.min() > -0.1


def test_pca_errors_vanish_for_data_of_that_rank():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(len(DAYS), 2)) @ rng.normal(size=(2, 5)), index=DAYS)
    assert pca_errors(data, DAYS[:60], 2).to_numpy().max() < 1e-20
    assert pca_errors(data, DAYS[:60], 1).to_numpy().max() > 1e-3
