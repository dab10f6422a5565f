"""Walk-forward evaluation of covariance estimators in minimum-variance portfolios.

At the close of each month's last trading day the estimators see the trailing `window`
days of returns, up to and including that day, and nothing later; the portfolios they
imply are traded at that close and held, drifting with prices, until the next month-end:
the holding rule of `helpers.analysis.backtest.run_backtest`, which simulates them. Each
month's covariance forecast is also scored against the month that follows it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from scipy.linalg import solve_triangular
from scipy.stats import multivariate_normal
from skfolio.metrics import portfolio_variance_calibration_ratio, portfolio_variance_qlike_loss
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from helpers.analysis.backtest import run_backtest
from helpers.analysis.bootstrap import bootstrap_intervals
from helpers.analysis.covariance import GivenCovariance, long_only_minimum_variance_weights, minimum_variance_weights
from helpers.analysis.metrics import annualized_volatility
from helpers.validate import InputError

PORTFOLIOS = ("minimum variance", "long-only minimum variance")
ORACLE = "oracle"
SCORES = ("log-likelihood", "QLIKE, equal weight", "calibration, minimum variance")


@dataclass(frozen=True)
class WalkForwardResult:
    returns: pd.DataFrame  # holding day x (portfolio, estimator): simple daily returns
    weights: dict[tuple[str, str], pd.DataFrame]  # (portfolio, estimator) -> rebalance date x target weight
    turnover: pd.DataFrame  # rebalance date x (portfolio, estimator): sum of |target - drifted holding|
    scores: pd.DataFrame  # last day of each holding month x (score, estimator); see `forecast_scores`
    rebalance_dates: pd.DatetimeIndex

    def validation_end(self, share: float) -> pd.Timestamp:
        """The close that ends the first `share` of the holding months: every choice is made on
        the days up to it (validation), every comparison on the days after it (test)."""
        if not 0 < share < 1:
            raise InputError(f"validation share={share!r}; expected a share of the months in (0, 1)")
        n_months = len(self.rebalance_dates)
        n_validation = int(round(share * n_months))
        if not 1 <= n_validation < n_months:
            raise InputError(f"validation share={share} of {n_months} months leaves no validation or no test "
                             "month; use more data or another share")
        return self.rebalance_dates[n_validation]

    def gross_exposure(self) -> pd.DataFrame:
        """Sum of absolute weights at each rebalance (1 for a long-only portfolio)."""
        return pd.DataFrame({key: frame.abs().sum(axis=1) for key, frame in self.weights.items()})


def rebalance_dates(days: pd.DatetimeIndex, window: int) -> pd.DatetimeIndex:
    """Each month's last trading day that has `window` days of history and a next day to hold."""
    days = pd.DatetimeIndex(days)
    if not isinstance(window, int) or window < 2:
        raise InputError(f"window={window!r}; expected an integer >= 2 (days of history)")
    month_ends = pd.Series(days, index=days).groupby(days.to_period("M")).max()
    positions = days.get_indexer(pd.DatetimeIndex(month_ends.to_numpy()))
    usable = positions[(positions >= window - 1) & (positions < len(days) - 1)]
    if len(usable) == 0:
        raise InputError(f"no month end has window={window} days of history and a day after it; "
                         f"the data span {len(days)} days")
    return days[usable]


def trailing_history(log_returns: pd.DataFrame, date, window: int) -> pd.DataFrame:
    """The `window` days of returns that end at `date`, included: all an estimator may see."""
    end = log_returns.index.get_loc(date)
    return log_returns.iloc[end - window + 1 : end + 1]


def _check_every_window_moves(log_returns: pd.DataFrame, dates: pd.DatetimeIndex, window: int) -> None:
    """A series that never moves in an estimation window makes the sample covariance singular
    and draws the minimum-variance weight into it; refuse such a window, naming the series."""
    flat = log_returns.rolling(window).std().reindex(dates) == 0
    if flat.any().any():
        date = flat.index[flat.any(axis=1)][0]
        raise InputError(
            f"{list(flat.columns[flat.loc[date]])} do not move in the {window} days to {date.date()}: a stale "
            "series has no variance, and minimum variance would put its weight there; drop it or move the dates"
        )


def walk_forward(
    log_returns: pd.DataFrame,
    estimators: dict,
    window: int = 504,
    truth=None,
    also: dict[str, tuple[str, str]] | None = None,
    long_only: bool = True,
    n_jobs: int = -1,
    given: dict[str, list[np.ndarray]] | None = None,
    as_arrays: bool = False,
) -> WalkForwardResult:
    """Rebalance monthly on each estimator's covariance of the trailing `window` days.

    `estimators` maps names to scikit-learn-style covariance estimators; each is cloned
    once and refit every month (so a stateful estimator keeps its state across months);
    the estimators, and then the portfolio rules on their covariances, run in parallel
    processes. `also` maps extra names to (estimator name,
    fitted attribute) for a second matrix an estimator computes on the way (say the VAE's
    covariance without its residual diagonal). With `truth` (a SyntheticTruth) an oracle
    is added: the mean true conditional covariance over the holding month, the floor no
    estimator can beat in expectation. `given` maps further names to covariances estimated
    elsewhere, one per rebalance date (`rebalance_dates(log_returns.index, window)`), each
    from the trailing window up to its date: they join the race as estimators do (Chapter
    6 trains many markets' VAEs together, then races each market's covariances here).
    With `as_arrays` the estimators see each window as an array, not a frame: the same
    numbers a third faster for estimators that do not read the dates (scikit-learn checks a
    frame's column names at every fit), for races of many markets.
    """
    if log_returns.isna().any().any():
        raise InputError("log_returns has missing values; the walk-forward needs a complete panel")
    given = given or {}
    if ORACLE in estimators or ORACLE in given:
        raise InputError(f"{ORACLE!r} is reserved for the oracle that `truth` adds")
    also = also or {}
    taken = (set(estimators) | set(also)) & set(given)
    if taken:
        raise InputError(f"given covariances {sorted(taken)} share a name with an estimator; name them apart")
    for name, (source, _) in also.items():
        if source not in estimators:
            raise InputError(f"also[{name!r}] refers to {source!r}; expected one of {list(estimators)}")
    days = log_returns.index
    dates = rebalance_dates(days, window)
    _check_every_window_moves(log_returns, dates, window)
    ends = list(dates[1:]) + [days[-1]]
    holdings = [days[(days > start) & (days <= end)] for start, end in zip(dates, ends, strict=True)]
    attributes = {name: ["covariance_"] + [a for n, (s, a) in also.items() if s == name] for name in estimators}
    runs = Parallel(n_jobs=n_jobs)(
        delayed(_estimate_every_month)(clone(estimator), log_returns, dates, window, attributes[name], as_arrays)
        for name, estimator in estimators.items()
    )
    covariances = {name: run["covariance_"] for name, run in zip(estimators, runs, strict=True)}
    for name, matrices in given.items():
        if len(matrices) != len(dates):
            raise InputError(f"given[{name!r}] holds {len(matrices)} covariances; expected one per rebalance date "
                             f"({len(dates)})")
        covariances[name] = list(matrices)
    for name, (source, attribute) in also.items():
        covariances[name] = runs[list(estimators).index(source)][attribute]
    if truth is not None:
        covariances[ORACLE] = [truth.conditional_covariance(holding).mean(axis=0) for holding in holdings]
    optimizers = {PORTFOLIOS[0]: minimum_variance_weights}
    if long_only:
        optimizers[PORTFOLIOS[1]] = long_only_minimum_variance_weights
    simple = np.expm1(log_returns)
    jobs = [(portfolio, name) for portfolio in optimizers for name in covariances]
    solved = Parallel(n_jobs=n_jobs)(
        delayed(_optimize_every_month)(optimizers[portfolio], covariances[name]) for portfolio, name in jobs
    )
    weights = {key: pd.DataFrame(rows, index=dates, columns=log_returns.columns)
               for key, rows in zip(jobs, solved, strict=True)}
    backtests = {key: run_backtest(frame, simple, cost_bps=0.0) for key, frame in weights.items()}
    columns = pd.MultiIndex.from_tuples(jobs, names=["portfolio", "estimator"])
    returns = pd.DataFrame({key: run.gross_returns for key, run in backtests.items()})
    turnover = pd.DataFrame({key: run.turnover for key, run in backtests.items()})
    returns.columns = turnover.columns = columns
    minimum_variance = {name: weights[(PORTFOLIOS[0], name)] for name in covariances}
    scores = forecast_scores(covariances, minimum_variance, log_returns, holdings)
    return WalkForwardResult(returns, weights, turnover, scores, dates)


def forecast_scores(
    covariances: dict[str, list[np.ndarray]],
    weights: dict[str, pd.DataFrame],
    log_returns: pd.DataFrame,
    holdings: list[pd.DatetimeIndex],
) -> pd.DataFrame:
    """How well each month's covariance forecasts the month it is held over.

    - log-likelihood: the mean Gaussian log density of the month's daily returns (zero mean),
      a proper score of the whole matrix (higher is better);
    - QLIKE, equal weight: skfolio's QLIKE loss of the equal-weight portfolio's variance, the
      same target for every estimator (lower is better);
    - calibration, minimum variance: realized over predicted variance of the estimator's own
      minimum-variance portfolio (skfolio's ratio; 1 is calibrated, above 1 means the risk of
      what it holds was under-predicted).
    Rows are indexed by each holding month's last day, so a month is scored when it is over.
    """
    months = [log_returns.loc[holding].to_numpy() for holding in holdings]
    equal = np.full(log_returns.shape[1], 1 / log_returns.shape[1])
    rows = {}
    for name, matrices in covariances.items():
        targets = weights[name].to_numpy()
        for matrix, month, holding, target in zip(matrices, months, holdings, targets, strict=True):
            forecast = GivenCovariance(matrix).fit(month)
            rows[(holding[-1], name)] = {
                SCORES[0]: gaussian_log_likelihood(matrix, month),
                SCORES[1]: portfolio_variance_qlike_loss(forecast, month, portfolio_weights=equal),
                SCORES[2]: portfolio_variance_calibration_ratio(forecast, month, portfolio_weights=target),
            }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["month end", "estimator"])
    return table.unstack("estimator").reorder_levels([0, 1], axis=1)


def gaussian_log_likelihood(covariance: np.ndarray, days: np.ndarray) -> float:
    """The mean log density of `days` (days x assets) under a zero-mean Gaussian with this
    covariance: scipy's multivariate normal, through a Cholesky factor where the covariance
    is well inside the invertible ones (a race scores thousands of matrices, and scipy's
    eigendecomposition was most of the scores' time); a singular or nearly singular one,
    such as a factor model without its residual, gets scipy's pseudo-inverse density, minus
    infinity off its support. A test holds the two paths equal where both apply."""
    try:
        factor = np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        factor = None
    pivots = None if factor is None else np.diag(factor) ** 2
    if pivots is None or pivots.min() <= NEARLY_SINGULAR * pivots.max():
        return float(multivariate_normal(cov=covariance, allow_singular=True).logpdf(days).mean())
    whitened = solve_triangular(factor, np.asarray(days, dtype=float).T, lower=True)  # (assets, days)
    log_determinant = 2.0 * np.log(np.diag(factor)).sum()
    return float(np.mean(-0.5 * (len(covariance) * np.log(2 * np.pi) + log_determinant + (whitened**2).sum(axis=0))))


NEARLY_SINGULAR = 1e-9  # a smallest Cholesky pivot below this share of the largest goes to scipy


def _optimize_every_month(optimizer, matrices: list[np.ndarray]) -> list[np.ndarray]:
    """One portfolio rule over every month's covariance; the long-only solves dominate a race's
    time, so the rules of all estimators run in parallel, each on one thread."""
    with threadpool_limits(limits=1):
        return [optimizer(matrix) for matrix in matrices]


def _estimate_every_month(estimator, log_returns, dates, window, attributes, as_arrays=False
                          ) -> dict[str, list[np.ndarray]]:
    """One estimator over every month, on one thread: a threaded BLAS or torch sums in an order
    that depends on the threads it gets, and the race's numbers should not."""
    recorded = {attribute: [] for attribute in attributes}
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            for date in dates:
                history = trailing_history(log_returns, date, window)
                estimator.fit(history.to_numpy() if as_arrays else history)
                for attribute in attributes:
                    recorded[attribute].append(np.array(getattr(estimator, attribute)))
    finally:
        torch.set_num_threads(torch_threads)
    return recorded


def lowest_risk_on_validation(returns: pd.DataFrame, candidates, validation_end: pd.Timestamp) -> str:
    """The candidate whose portfolio was least volatile over the holding days up to
    `validation_end`: a choice made before the test period, which it never sees."""
    candidates = list(candidates)
    missing = [name for name in candidates if name not in returns.columns]
    if missing or not candidates:
        raise InputError(f"candidates {missing or candidates}; expected some of {list(returns.columns)}")
    validation = returns.loc[returns.index <= validation_end, candidates]
    if len(validation) < 2:
        raise InputError(f"{len(validation)} holding day(s) up to {validation_end!r}; a choice needs a "
                         "validation period")
    return str(validation.apply(annualized_volatility).idxmin())


def volatility_table(
    returns: pd.DataFrame, block: int | None = None, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Realized annualized volatility (%) of each column with a block-bootstrap interval,
    and its gap to the oracle (%, relative) if present; `block=None` lets the data choose the block."""
    table = bootstrap_intervals(returns, annualized_volatility, block, n_boot, level, seed)
    table.columns = ["volatility (%)", "low", "high"]
    if ORACLE in table.index:
        table["gap to oracle (%)"] = 100 * (table["volatility (%)"] / table.loc[ORACLE, "volatility (%)"] - 1)
    return table
