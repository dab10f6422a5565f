"""The plain metrics every chapter uses, on paths with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.metrics import (
    annualized_return,
    annualized_volatility,
    calmar_ratio,
    drawdown_curve,
    sharpe_ratio,
    worst_drawdown,
)


def test_metrics_on_known_paths():
    up_down = np.array([[0.1], [-0.5], [1.0]])
    assert worst_drawdown(up_down)[0] == pytest.approx(-50)
    doubling = np.full((252, 1), 2 ** (1 / 252) - 1)
    assert annualized_return(doubling)[0] == pytest.approx(100)
    with_fall = np.r_[doubling, [[-0.2]]]
    assert calmar_ratio(with_fall)[0] == pytest.approx(annualized_return(with_fall)[0] / 20)
    noise = np.random.default_rng(0).normal(0.001, 0.01, (1000, 1))
    assert sharpe_ratio(noise)[0] == pytest.approx(np.sqrt(252) * noise.mean() / noise.std(ddof=1))
    curve = drawdown_curve(pd.DataFrame({"x": [0.1, -0.5, 1.0]}))
    np.testing.assert_allclose(curve["x"], [0, -50, 0])


def test_a_fall_from_the_first_day_is_a_drawdown_and_columns_are_separate():
    paths = np.array([[-0.2, 0.1], [0.25, -0.1]])
    np.testing.assert_allclose(worst_drawdown(paths), [-20, -10])


def test_volatility_is_annualized_with_the_trading_calendar():
    alternating = np.tile([[0.01], [-0.01]], (126, 1))
    expected = 100 * np.sqrt(252) * alternating.std(ddof=1)
    assert annualized_volatility(alternating)[0] == pytest.approx(expected)


def test_rank_auroc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    from helpers.analysis.metrics import rank_auroc

    rng = np.random.default_rng(2)
    labels = rng.random(300) < 0.3
    scores = np.column_stack([labels + rng.normal(0, 1, 300), np.round(rng.normal(0, 1, 300), 1)])
    expected = [roc_auc_score(labels, column) for column in scores.T]
    np.testing.assert_allclose(rank_auroc(scores, labels), expected)
    assert np.isnan(rank_auroc(scores, np.zeros(300, dtype=bool))).all()


def test_auroc_differences_are_paired_and_name_a_bad_reference():
    from helpers.analysis.bootstrap import auroc_differences

    rng = np.random.default_rng(4)
    days = pd.bdate_range("2020-01-01", periods=400)
    labels = pd.Series(np.repeat(rng.random(20) < 0.4, 20), index=days)
    scores = pd.DataFrame({"good": labels + rng.normal(0, 0.5, 400), "noise": rng.normal(0, 1, 400)}, index=days)
    table = auroc_differences(scores, labels, "noise", block=10, n_boot=200)
    assert table.loc["noise", ["estimate", "low", "high"]].abs().max() == 0 and table.loc["good", "low"] > 0
    assert table["resamples"].iloc[0] == 200
    with pytest.raises(ValueError, match="reference='bad'"):
        auroc_differences(scores, labels, "bad")
