"""The simplest regime call, the one every learned method must beat: stress when the
index's trailing realized volatility is above a quantile of its training days.

Its window and quantile are chosen on training days only, for the task the rule is used
for: to classify days, by the balanced accuracy of the call against a training target (the
true regime on the synthetic market, the named stress episodes on real data); to time the
market, by an objective of the call such as a timing strategy's Sharpe ratio after costs.
With neither there is nothing to choose by, and one window and one quantile must be given.
The threshold is that quantile of the training days' volatility, and the call on day t
uses returns up to t.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from helpers.analysis.regimes import balanced_accuracy
from helpers.validate import InputError, check_count


def trailing_volatility(returns: pd.Series, window: int) -> pd.Series:
    """Standard deviation of the last `window` daily returns up to and including each day;
    NaN until a full window has passed."""
    check_count(window, "window", minimum=2)
    return returns.rolling(window, min_periods=window).std().rename(f"{window}-day volatility")


def _returns(returns) -> pd.Series:
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise InputError(f"returns is a {type(returns).__name__}; expected a pandas Series of daily returns on dates")
    if not np.isfinite(returns.to_numpy(dtype=float)).all():
        raise InputError(f"returns hold {int((~np.isfinite(returns.to_numpy(dtype=float))).sum())} missing or "
                         "infinite values; expected finite daily returns")
    return returns


class VolatilityThresholdRegimes(BaseEstimator):
    """Two states, 0 calm and 1 stress: stress when the trailing volatility over `window_`
    days is above `threshold_`, the `quantile_` of the training days' volatility.

    `fit(returns, stress)` takes the returns up to the end of training and the training
    target; every (window, quantile) pair is scored by the balanced accuracy of its call on
    the training days the target covers (`training_scores_`), and the best is kept (ties go
    to the first listed). `fit(returns, objective=f)` scores each pair by `f(risk_on)`
    instead, where `risk_on` is the pair's call (True: calm) on the training days from the
    first one every window covers, so that all pairs are scored on the same days. With
    neither, the single given pair is used on every day passed."""

    def __init__(self, windows: tuple[int, ...] = (5, 10, 21),
                 quantiles: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.9)) -> None:
        self.windows = windows
        self.quantiles = quantiles

    def fit(self, returns: pd.Series, stress: pd.Series | None = None,
            objective: Callable[[pd.Series], float] | None = None) -> VolatilityThresholdRegimes:
        returns = _returns(returns)
        if not len(self.windows) or not len(self.quantiles):
            raise InputError(f"windows={self.windows!r}, quantiles={self.quantiles!r}; expected at least one of each")
        outside = [q for q in self.quantiles if not 0 < q < 1]
        if outside:
            raise InputError(f"quantiles hold {outside}; expected shares in (0, 1)")
        if stress is not None and objective is not None:
            raise InputError("fit was given both a stress target and an objective; expected one task to choose by")
        if objective is not None:
            return self._fit_objective(returns, objective)
        if stress is None:
            return self._fit_given(returns)
        stress = pd.Series(stress).astype(bool)
        missing = stress.index.difference(returns.index)
        if len(missing):
            raise InputError(f"the stress target covers {len(missing)} days without returns (first {missing[0]!r}); "
                             "expected training days of the returns")
        scores = {}
        for window in self.windows:
            volatility = trailing_volatility(returns, window).reindex(stress.index)
            known = volatility.notna()
            if known.sum() < 2 or stress[known].nunique() < 2:
                raise InputError(f"window={window}: the training days with a full window need both calm and stress "
                                 "days in the target")
            for quantile in self.quantiles:
                threshold = float(np.quantile(volatility[known], quantile))
                scores[(window, quantile)] = (balanced_accuracy(volatility[known] > threshold, stress[known]),
                                              threshold)
        (self.window_, self.quantile_), (self.training_accuracy_, self.threshold_) = max(
            scores.items(), key=lambda item: item[1][0])
        self.training_scores_ = pd.Series({pair: score for pair, (score, _) in scores.items()},
                                          name="training balanced accuracy").rename_axis(["window", "quantile"])
        return self

    def _fit_objective(self, returns: pd.Series, objective: Callable[[pd.Series], float]) -> VolatilityThresholdRegimes:
        """Each pair's call on the same training days, scored by `objective`; the best is kept."""
        longest = max(self.windows)
        if len(returns) <= longest:
            raise InputError(f"returns has {len(returns)} days; expected more than the longest window, {longest}")
        scores, thresholds = {}, {}
        for window in self.windows:
            volatility = trailing_volatility(returns, window).iloc[longest - 1:]
            for quantile in self.quantiles:
                thresholds[(window, quantile)] = float(np.quantile(volatility, quantile))
                scores[(window, quantile)] = float(objective(volatility <= thresholds[(window, quantile)]))
        self.training_scores_ = pd.Series(scores, name="training objective").rename_axis(["window", "quantile"])
        self.window_, self.quantile_ = self.training_scores_.idxmax()
        self.threshold_ = thresholds[(self.window_, self.quantile_)]
        self.training_accuracy_ = float("nan")
        return self

    def _fit_given(self, returns: pd.Series) -> VolatilityThresholdRegimes:
        """No target: nothing to choose by, so exactly one window and one quantile."""
        if len(self.windows) * len(self.quantiles) > 1:
            raise InputError(f"windows={self.windows!r}, quantiles={self.quantiles!r} with no stress target: "
                             "there is nothing to choose by; give one window and one quantile, or a target")
        (self.window_,), (self.quantile_,) = self.windows, self.quantiles
        volatility = trailing_volatility(returns, self.window_).dropna()
        if len(volatility) < 2:
            raise InputError(f"window={self.window_}: fewer than two training days have a full window")
        self.threshold_ = float(np.quantile(volatility, self.quantile_))
        self.training_accuracy_ = float("nan")
        self.training_scores_ = pd.Series(dtype=float, name="training balanced accuracy")
        return self

    def stress_score(self, returns: pd.Series) -> pd.Series:
        """The trailing volatility the call compares with the threshold, on days with a full window."""
        check_is_fitted(self)
        return trailing_volatility(_returns(returns), self.window_).dropna()

    def predict(self, returns: pd.Series) -> pd.Series:
        """1 (stress) or 0 (calm) on each day with a full window of returns up to it."""
        return (self.stress_score(returns) > self.threshold_).astype(int).rename("state")


def fit_volatility_rule(returns: pd.Series, last_train, target: pd.Series | None) -> VolatilityThresholdRegimes:
    """The rule fit on the returns up to `last_train`: window and quantile chosen on the
    training target, or 21 days and the 80th percentile when there is no target to choose by."""
    rule = VolatilityThresholdRegimes() if target is not None else VolatilityThresholdRegimes((21,), (0.8,))
    return rule.fit(returns.loc[:last_train], target)
