"""A battery of bad inputs, as a reader rerunning chapters with their own parameters makes
them: each must raise `InputError` with a message that names the parameter and the value,
or behave in a sensible way that the case pins. `python -m tests.test_bad_inputs` counts
the cases by group."""
from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.backtest import long_short_targets, performance_table, run_backtest, timing_targets
from helpers.analysis.bootstrap import block_bootstrap_indices, bootstrap_intervals
from helpers.analysis.covariance import PCAFactorCovariance, VAECovariance, minimum_variance_weights
from helpers.analysis.metrics import sharpe_ratio
from helpers.analysis.regimes import (
    GaussianHMMRegimes,
    JumpModelRegimes,
    StressDetector,
    mean_durations,
    transition_matrix,
)
from helpers.analysis.walkforward import walk_forward
from helpers.data import CrossSectionSpec, MarketSpec, WindowSpec, chronological_split, load, make_windows
from helpers.models.dense_ae import DenseAEConfig, DenseAutoencoder
from helpers.models.sparse_ae import SparseAEConfig
from helpers.models.vae import VAEConfig
from helpers.train import TrainConfig, fit
from helpers.validate import InputError, as_annotated, check_parameters


class Case(NamedTuple):
    group: str
    name: str
    call: Callable[[], object]
    names: tuple[str, ...]  # what the message must name: the parameter, and the value where it has one


@functools.cache
def days() -> pd.DatetimeIndex:
    return pd.bdate_range("2020-01-01", periods=200, name="date")


@functools.cache
def returns() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(0, 0.01, (200, 5)), index=days(), columns=list("ABCDE"))


def with_stale_asset() -> pd.DataFrame:
    frame = returns().copy()
    frame["C"] = 0.0
    return frame


def with_value(value: float, row: int = 10, column: str = "B") -> pd.DataFrame:
    frame = returns().copy()
    frame.iloc[row, frame.columns.get_loc(column)] = value
    return frame


def shuffled_days() -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.random.default_rng(1).permutation(days()))


def prices(frame: pd.DataFrame) -> pd.DataFrame:
    return 100 * np.exp(frame.cumsum())


def with_text_price() -> pd.DataFrame:
    frame = prices(returns()).astype(object)
    frame.iloc[3, 1] = "n/a"
    return frame


def simple_returns() -> pd.DataFrame:
    return np.expm1(returns())


def targets(index) -> pd.DataFrame:
    return pd.DataFrame({"A": 0.5, "B": 0.5}, index=pd.DatetimeIndex(index))


def fit_dense(train: np.ndarray, validation: np.ndarray):
    model = DenseAutoencoder(DenseAEConfig(n_inputs=train.shape[1], latent_size=2, hidden_sizes=(4,)))
    return fit(model, train, validation, TrainConfig(epochs=2, progress=False))


def finite_inputs() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)


def poisoned(value: float) -> np.ndarray:
    inputs = finite_inputs()
    inputs[3, 2] = value
    return inputs


def labels(values) -> pd.Series:
    return pd.Series(values, index=days()[: len(values)])


CASES = [
    # -- data sources: load and MarketSpec, with values as papermill and Jupyter pass them
    Case("sources", "unknown source", lambda: load("nasdaq"), ("source", "'nasdaq'")),
    Case("sources", "unknown source in a spec", lambda: MarketSpec(source="nasdaq"), ("source", "'nasdaq'")),
    Case("sources", "count as a fraction", lambda: MarketSpec(synthetic_assets=12.5), ("synthetic_assets", "12.5")),
    Case("sources", "count as words", lambda: MarketSpec(synthetic_assets="twelve"), ("synthetic_assets", "twelve")),
    Case("sources", "too few assets", lambda: MarketSpec(synthetic_assets=1), ("synthetic_assets", "1")),
    Case("sources", "too few assets for the sectors", lambda: MarketSpec(synthetic_assets=4).load(),
         ("synthetic_assets", "4")),
    Case("sources", "too few assets, load", lambda: load("synthetic", n_assets=4), ("n_assets", "4")),
    Case("sources", "too few days", lambda: MarketSpec(synthetic_days=1), ("synthetic_days", "1")),
    Case("sources", "negative seed", lambda: MarketSpec(seed=-1), ("seed", "-1")),
    Case("sources", "seed as a fraction", lambda: MarketSpec(seed=0.5), ("seed", "0.5")),
    Case("sources", "boolean count", lambda: MarketSpec(synthetic_days=True), ("synthetic_days", "True")),
    Case("sources", "empty ticker list", lambda: MarketSpec(tickers=[]), ("tickers", "[]")),
    Case("sources", "a ticker that is not text", lambda: MarketSpec(tickers=["SPY", 7]), ("tickers", "7")),
    Case("sources", "a ticker twice", lambda: MarketSpec(tickers=["SPY", "SPY"]), ("tickers", "SPY")),
    Case("sources", "malformed start", lambda: MarketSpec(start="2020-13-45"), ("start", "2020-13-45")),
    Case("sources", "start after end", lambda: MarketSpec(start="2021-01-01", end="2020-01-01"),
         ("start", "end", "2021-01-01")),
    Case("sources", "csv without a file", lambda: MarketSpec(source="csv"), ("prices_path",)),
    Case("sources", "csv file that is missing", lambda: load("csv", path="/nonexistent/closes.csv"),
         ("path", "/nonexistent/closes.csv")),
    Case("sources", "tickers for the synthetic market", lambda: MarketSpec(source="synthetic", tickers=["SPY"]),
         ("tickers",)),
    Case("sources", "unknown synthetic variant", lambda: MarketSpec(synthetic_variant="chaos"),
         ("synthetic_variant", "chaos")),
    Case("sources", "unknown synthetic option", lambda: load("synthetic", n_stocks=10), ("n_stocks",)),
    Case("sources", "a date range with no days", lambda: load("bundled", start="2020-01-04", end="2020-01-05"),
         ("start", "end", "2020-01-04")),
    Case("sources", "a date range of one day", lambda: load("bundled", start="2020-01-06", end="2020-01-06"),
         ("start", "end", "2020-01-06")),
    Case("sources", "a ticker that is not bundled", lambda: load("bundled", tickers=["NOPE"]), ("tickers", "NOPE")),
    Case("sources", "max_missing above one", lambda: load("bundled", max_missing=2), ("max_missing", "2")),
    Case("sources", "prices that are not numbers", lambda: load("csv", prices=with_text_price()), ("prices", "n/a")),
    Case("sources", "duplicate price dates",
         lambda: load("csv", prices=pd.concat([prices(returns()).iloc[:5], prices(returns())])), ("prices", "dup")),
    Case("sources", "a negative price", lambda: load("csv", prices=prices(returns()) - 200), ("prices",)),
    Case("sources", "yfinance dates in the wrong order", lambda: load("yfinance", start="2021-01-01", end="2020-01-01"),
         ("start", "end", "2021-01-01")),
    # -- a chapter's own parameters, read by their annotations after papermill injects them
    Case("parameters", "a count as words", lambda: as_annotated("twelve", int, "n_boot"), ("n_boot", "twelve")),
    Case("parameters", "a negative count", lambda: as_annotated(-1, int, "seed"), ("seed", "-1")),
    Case("parameters", "a count as a fraction", lambda: as_annotated(3.5, int, "max_epochs"), ("max_epochs", "3.5")),
    Case("parameters", "a number as words", lambda: as_annotated("fast", float, "beta"), ("beta", "fast")),
    Case("parameters", "a number that is not one", lambda: as_annotated(float("nan"), float, "beta"), ("beta", "nan")),
    Case("parameters", "text given a list", lambda: as_annotated(["bundled"], str, "source"), ("source", "bundled")),
    Case("parameters", "a list given a mapping", lambda: as_annotated({"a": 1}, list, "seeds"), ("seeds", "'a'")),
    Case("parameters", "a date or fraction given a list", lambda: as_annotated([1], str | float, "train_end"),
         ("train_end", "[1]")),
    Case("parameters", "a bad value in a namespace",
         lambda: check_parameters({"__annotations__": {"window": int}, "window": "twenty"}), ("window", "twenty")),
    # -- chronological splits, windows and the specs that build them
    Case("splits", "unsorted days", lambda: chronological_split(shuffled_days()), ("days", "sorted")),
    Case("splits", "duplicate days", lambda: chronological_split(days().append(days()[:3])), ("days", "2020-01-01")),
    Case("splits", "fraction above one", lambda: chronological_split(days(), train_end=1.5), ("train_end", "1.5")),
    Case("splits", "fraction of zero", lambda: chronological_split(days(), train_end=0.0), ("train_end", "0.0")),
    Case("splits", "malformed date", lambda: chronological_split(days(), train_end="June"), ("train_end", "June")),
    Case("splits", "a date before the data", lambda: chronological_split(days(), train_end="1999-01-01"),
         ("train_end", "1999-01-01")),
    Case("splits", "a boolean end", lambda: chronological_split(days(), validation_end=True),
         ("validation_end", "True")),
    Case("splits", "validation before training", lambda: chronological_split(days(), 0.8, 0.6),
         ("validation_end", "0.6")),
    Case("splits", "a negative gap", lambda: chronological_split(days(), gap=-1), ("gap", "-1")),
    Case("splits", "a gap as a fraction", lambda: chronological_split(days(), gap=1.5), ("gap", "1.5")),
    Case("splits", "an empty test set", lambda: chronological_split(days(), 0.6, 0.999), ("test", "validation_end")),
    Case("splits", "window of zero", lambda: make_windows(returns(), 0, chronological_split(days())), ("window", "0")),
    Case("splits", "window longer than training",
         lambda: make_windows(returns(), 500, chronological_split(days())), ("window", "500")),
    Case("splits", "missing returns in the windows",
         lambda: make_windows(with_value(np.nan), 5, chronological_split(days())), ("returns", "B")),
    Case("splits", "window spec with a negative window", lambda: WindowSpec(window=-3), ("window", "-3")),
    Case("splits", "cross-section spec with a bad fraction", lambda: CrossSectionSpec(train_end=2.0),
         ("train_end", "2.0")),
    Case("splits", "window spec with a malformed date", lambda: WindowSpec(validation_end="later"),
         ("validation_end", "later")),
    # -- model configs and the training loop
    Case("training", "zero epochs", lambda: TrainConfig(epochs=0), ("epochs", "0")),
    Case("training", "epochs as a fraction", lambda: TrainConfig(epochs=2.5), ("epochs", "2.5")),
    Case("training", "negative learning rate", lambda: TrainConfig(learning_rate=-1e-3), ("learning_rate", "-0.001")),
    Case("training", "learning rate as text", lambda: TrainConfig(learning_rate="fast"), ("learning_rate", "fast")),
    Case("training", "min_delta not a number", lambda: TrainConfig(min_delta=float("nan")), ("min_delta", "nan")),
    Case("training", "infinite min_delta", lambda: TrainConfig(min_delta=float("inf")), ("min_delta", "inf")),
    Case("training", "negative weight decay", lambda: TrainConfig(weight_decay=-1.0), ("weight_decay", "-1.0")),
    Case("training", "unknown device", lambda: TrainConfig(device="tpu"), ("device", "tpu")),
    Case("training", "batch size as a fraction", lambda: TrainConfig(batch_size=0.5), ("batch_size", "0.5")),
    Case("training", "negative seed", lambda: TrainConfig(seed=-2), ("seed", "-2")),
    Case("training", "checkpoint past the last epoch", lambda: TrainConfig(epochs=5, checkpoint_epochs=(9,)),
         ("checkpoint_epochs", "9")),
    Case("training", "zero latent size", lambda: DenseAEConfig(n_inputs=10, latent_size=0), ("latent_size", "0")),
    Case("training", "hidden size of zero", lambda: DenseAEConfig(n_inputs=10, hidden_sizes=(0,)),
         ("hidden_sizes", "0")),
    Case("training", "unknown activation", lambda: DenseAEConfig(n_inputs=10, activation="swish2"),
         ("activation", "swish2")),
    Case("training", "dropout of one", lambda: DenseAEConfig(n_inputs=10, dropout=1.0), ("dropout", "1.0")),
    Case("training", "k above the features", lambda: SparseAEConfig(n_inputs=10, n_features=8, k=9), ("k", "9")),
    Case("training", "negative beta", lambda: VAEConfig(n_inputs=10, beta=-1.0), ("beta", "-1.0")),
    Case("training", "NaN in the training inputs", lambda: fit_dense(poisoned(np.nan), finite_inputs()),
         ("train", "1 ")),
    Case("training", "inf in the validation inputs", lambda: fit_dense(finite_inputs(), poisoned(np.inf)),
         ("validation", "1 ")),
    Case("training", "inputs of two widths", lambda: fit_dense(finite_inputs(), finite_inputs()[:, :4]),
         ("validation", "4")),
    # -- covariance estimators and the minimum-variance portfolio
    Case("covariance", "no factors", lambda: PCAFactorCovariance(0).fit(returns()), ("n_factors", "0")),
    Case("covariance", "more factors than assets", lambda: PCAFactorCovariance(9).fit(returns()), ("n_factors", "9")),
    Case("covariance", "a stale asset, PCA", lambda: PCAFactorCovariance(2).fit(with_stale_asset()), ("returns", "C")),
    Case("covariance", "missing returns, PCA", lambda: PCAFactorCovariance(2).fit(with_value(np.nan)),
         ("returns", "B")),
    Case("covariance", "a stale asset, VAE",
         lambda: VAECovariance(latent_size=2, hidden_sizes=(4,), train=TrainConfig(epochs=2, progress=False)).fit(
             with_stale_asset()), ("returns", "C")),
    Case("covariance", "infinite returns, VAE",
         lambda: VAECovariance(latent_size=2, hidden_sizes=(4,)).fit(with_value(np.inf)), ("returns", "B")),
    Case("covariance", "a singular matrix", lambda: minimum_variance_weights(np.ones((3, 3))), ("covariance",)),
    Case("covariance", "a matrix that is not symmetric",
         lambda: minimum_variance_weights(np.array([[1.0, 0.5], [0.0, 1.0]])), ("covariance", "symmetric")),
    Case("covariance", "a matrix with NaN", lambda: minimum_variance_weights(np.array([[1.0, np.nan], [np.nan, 1.0]])),
         ("covariance", "nan")),
    Case("covariance", "walk-forward over a stale asset",
         lambda: walk_forward(with_stale_asset(), {"PCA": PCAFactorCovariance(2)}, 60, n_jobs=1), ("C",)),
    Case("covariance", "walk-forward over missing returns",
         lambda: walk_forward(with_value(np.nan), {"PCA": PCAFactorCovariance(2)}, 60, n_jobs=1), ("log_returns",)),
    Case("covariance", "walk-forward window longer than the data",
         lambda: walk_forward(returns(), {"PCA": PCAFactorCovariance(2)}, 900, n_jobs=1), ("window", "900")),
    # -- regimes
    Case("regimes", "one state", lambda: GaussianHMMRegimes(n_states=1).fit(returns()[["A"]]), ("n_states", "1")),
    Case("regimes", "states as text", lambda: GaussianHMMRegimes(n_states="2").fit(returns()[["A"]]),
         ("n_states", "'2'")),
    Case("regimes", "no restarts", lambda: GaussianHMMRegimes(n_restarts=0).fit(returns()[["A"]]), ("n_restarts", "0")),
    Case("regimes", "NaN in the HMM's returns", lambda: GaussianHMMRegimes().fit(with_value(np.nan, column="A")[["A"]]),
         ("x", "A")),
    Case("regimes", "negative jump penalty",
         lambda: JumpModelRegimes(jump_penalty=-1.0).fit(returns()[["A", "B"]], returns()["A"]),
         ("jump_penalty", "-1.0")),
    Case("regimes", "stress quantile above one",
         lambda: StressDetector(quantile=1.5).fit(returns().abs(), returns()["A"].abs()), ("quantile", "1.5")),
    Case("regimes", "a label outside the states", lambda: transition_matrix(labels([0, 1, 5, 1]), 2), ("labels", "5")),
    Case("regimes", "a negative label", lambda: mean_durations(labels([0, -1, 1]), 2), ("labels", "-1")),
    # -- the backtest and its statistics
    Case("backtest", "duplicate decision dates",
         lambda: run_backtest(targets([days()[5], days()[5]]), simple_returns()), ("targets", "2020-01-08")),
    Case("backtest", "unsorted decision dates",
         lambda: run_backtest(targets([days()[9], days()[5]]), simple_returns()), ("targets", "sorted")),
    Case("backtest", "negative cost", lambda: run_backtest(targets([days()[5]]), simple_returns(), -5.0),
         ("cost_bps", "-5.0")),
    Case("backtest", "a decision date off the calendar",
         lambda: run_backtest(targets(["2020-01-04"]), simple_returns()), ("2020-01-04",)),
    Case("backtest", "an asset the returns lack",
         lambda: run_backtest(targets([days()[5]]).rename(columns={"A": "Z"}), simple_returns()), ("Z",)),
    Case("backtest", "a timing signal that is not a bool",
         lambda: timing_targets(pd.Series([0.3, 0.7], index=days()[:2]), targets([days()[0]])), ("risk_on", "float")),
    Case("backtest", "a long-short quantile above one half", lambda: long_short_targets(returns(), quantile=0.7),
         ("quantile", "0.7")),
    Case("backtest", "a missing day in the performance table", lambda: performance_table(with_value(np.nan), n_boot=10),
         ("returns", "B")),
    Case("backtest", "bootstrap blocks of zero days", lambda: block_bootstrap_indices(100, block=0), ("block", "0")),
    Case("backtest", "no bootstrap draws", lambda: block_bootstrap_indices(100, n_boot=0), ("n_boot", "0")),
    Case("backtest", "a confidence level of one",
         lambda: bootstrap_intervals(returns(), sharpe_ratio, level=1.0, n_boot=10), ("level", "1.0")),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{case.group}: {case.name}" for case in CASES])
def test_bad_input_gets_a_clear_error(case):
    with pytest.raises(InputError) as raised:
        case.call()
    message = str(raised.value)
    for name in case.names:
        assert name.lower() in message.lower(), f"the message does not name {name!r}: {message}"


# -- values that papermill, a YAML file or a hurried reader pass, read the one way they can mean


def test_counts_given_as_text_or_whole_floats_are_read_as_counts():
    spec = MarketSpec(synthetic_assets="12", synthetic_days=300.0, seed="7")
    assert (spec.synthetic_assets, spec.synthetic_days, spec.seed) == (12, 300, 7)
    assert TrainConfig(epochs="10", batch_size=64.0).epochs == 10
    assert WindowSpec(window="20").window == 20


def test_price_files_newest_first_are_read_oldest_first():
    newest_first = load("csv", prices=prices(returns()).iloc[::-1])
    pd.testing.assert_frame_equal(newest_first.returns, load("csv", prices=prices(returns())).returns)


def test_chapter_parameters_are_read_as_their_annotations_say():
    namespace = {
        "__annotations__": {"n_boot": int, "beta": float, "seeds": list, "hidden_sizes": list, "tickers": list | None,
                            "start": str | None, "train_end": str | float, "source": str},
        "n_boot": "200", "beta": 1, "seeds": "[0, 1]", "hidden_sizes": 64, "tickers": "SPY, TLT",
        "start": 2005, "train_end": 0.7, "source": "synthetic", "unannotated": "left alone",
    }
    check_parameters(namespace)
    assert {name: value for name, value in namespace.items() if name != "__annotations__"} == {
        "n_boot": 200, "beta": 1.0, "seeds": [0, 1], "hidden_sizes": [64], "tickers": ["SPY", "TLT"],
        "start": "2005", "train_end": 0.7, "source": "synthetic", "unannotated": "left alone",
    }


def test_one_ticker_given_as_text_is_a_list_of_one():
    assert MarketSpec(tickers="MSFT").tickers == ("MSFT",)
    assert MarketSpec(tickers="SPY, TLT").tickers == ("SPY", "TLT")


def test_a_year_as_the_market_end_means_the_last_day_of_that_year():
    spec = MarketSpec(start=2015, end="2019")
    assert (spec.start, spec.end) == ("2015-01-01", "2019-12-31")


def test_a_year_as_a_split_end_means_the_last_day_of_that_year():
    year_days = pd.bdate_range("2018-01-01", "2021-12-31")
    by_number = chronological_split(year_days, 2019, 2020)
    by_text = chronological_split(year_days, "2019", "2020")
    assert by_number.train[-1] == by_text.train[-1] == pd.Timestamp("2019-12-31")
    assert by_number.validation[-1] == pd.Timestamp("2020-12-31")


def test_one_hidden_size_given_as_a_number_is_one_layer():
    assert DenseAEConfig(n_inputs=10, hidden_sizes=64).hidden_sizes == (64,)
    assert VAEConfig(n_inputs=10, hidden_sizes=[32, 16]).hidden_sizes == (32, 16)


def test_clean_inputs_still_train_and_fit():
    history = fit_dense(finite_inputs(), finite_inputs())
    assert np.isfinite(history.epochs["validation_loss"]).all()
    assert np.isfinite(PCAFactorCovariance(2).fit(returns()).covariance_).all()
    assert np.isfinite(minimum_variance_weights(np.eye(3))).all()


def counts() -> dict[str, int]:
    return dict(collections.Counter(case.group for case in CASES))


if __name__ == "__main__":
    for group, count in counts().items():
        print(f"{group:12s} {count:3d} bad inputs")
    print(f"{'total':12s} {len(CASES):3d}")
