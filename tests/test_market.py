from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data import clean_prices, load, log_returns
from helpers.data.indicators import mean_pairwise_correlation, monthly_to_daily
from helpers.data.market import align_to_calendar, stale_runs


def test_log_returns_drop_the_first_day(random_prices):
    returns = log_returns(random_prices)
    assert returns.index.equals(random_prices.index[1:])
    np.testing.assert_allclose(returns.iloc[0], np.log(random_prices.iloc[1] / random_prices.iloc[0]))


def test_clean_prices_fills_small_gaps_and_logs_it(random_prices, caplog):
    holey = random_prices.copy()
    holey.iloc[10, 1] = np.nan
    cleaned = clean_prices(holey, max_missing=0.01)
    assert cleaned.iloc[10, 1] == cleaned.iloc[9, 1]
    assert "forward-filled" in caplog.text and "'B': 1" in caplog.text


def test_clean_prices_drops_days_without_any_price_and_logs_it(random_prices, caplog):
    holey = random_prices.copy()
    holey.iloc[5] = np.nan
    assert len(clean_prices(holey)) == len(random_prices) - 1
    assert "dropped 1 days" in caplog.text


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.assign(B=np.where(np.arange(len(p)) % 5 == 1, np.nan, p["B"])), "miss more than"),
        (lambda p: p.assign(C=-p["C"]), "non-positive prices in \\{'C': '2020-01-01'\\}"),
        (lambda p: p.assign(D=np.nan), "no prices at all for \\['D'\\]"),
        (lambda p: p.assign(B=p["B"].astype(str)), "do not hold numbers"),
        (lambda p: p.reset_index(drop=True), "DatetimeIndex"),
        (lambda p: pd.concat([p, p.iloc[:1]]), "duplicate dates"),
        (lambda p: p.iloc[:0], "empty"),
    ],
)
def test_clean_prices_rejects_bad_panels(random_prices, mutate, message):
    with pytest.raises(ValueError, match=message):
        clean_prices(mutate(random_prices))


def test_a_late_starter_moves_the_start_and_says_so(random_prices, caplog):
    late = random_prices.assign(A=np.where(np.arange(len(random_prices)) < 3, np.nan, random_prices["A"]))
    cleaned = clean_prices(late)
    assert cleaned.index[0] == random_prices.index[3] and not cleaned.isna().any().any()
    assert "moved the start" in caplog.text and "'A'" in caplog.text


def test_a_stale_run_is_kept_with_a_warning(random_prices, caplog):
    stale = random_prices.copy()
    stale.iloc[100:130, 1] = stale.iloc[100, 1]
    pd.testing.assert_frame_equal(clean_prices(stale), stale)
    assert "unchanged for more than max_stale_days=5" in caplog.text
    assert "'B': '1 runs, the longest 30 days" in caplog.text


def test_stale_runs_lists_each_stretch_at_one_price(random_prices):
    stale = random_prices.copy()
    stale.iloc[10:17, 0] = stale.iloc[10, 0]  # 7 days at one price: listed
    stale.iloc[50:55, 0] = stale.iloc[50, 0]  # 5 days: 4 unchanged, within the limit
    stale.iloc[200:300, 3] = stale.iloc[200, 3]
    runs = stale_runs(stale, max_stale_days=5)
    assert list(runs["ticker"]) == ["A", "D"] and list(runs["days"]) == [7, 100]
    assert runs["first"].iloc[0] == stale.index[10] and runs["last"].iloc[0] == stale.index[16]
    none = stale_runs(random_prices)
    assert none.empty and pd.api.types.is_datetime64_any_dtype(none["first"]), "an empty table keeps its types"


def test_align_to_calendar_never_extends_a_series_past_its_coverage(caplog):
    days = pd.bdate_range("2021-01-01", periods=10)
    series = pd.Series([1.0, 2.0, 3.0], index=days[[2, 4, 6]], name="x")
    aligned = align_to_calendar(series, days)
    assert aligned.iloc[:2].isna().all() and aligned.iloc[7:].isna().all()
    assert list(aligned.iloc[2:7]) == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert "2 calendar days" in caplog.text


def test_monthly_values_are_used_only_after_their_month():
    monthly = pd.Series([1.0, 2.0], index=pd.to_datetime(["2020-01-01", "2020-02-01"]))
    days = pd.bdate_range("2020-01-15", "2020-04-15")
    daily = monthly_to_daily(monthly, days)
    assert daily[:"2020-01-31"].isna().all()
    assert (daily["2020-02-01":"2020-02-29"] == 1.0).all()
    assert (daily["2020-03-01":"2020-03-31"] == 2.0).all()
    assert daily["2020-04-01":].isna().all()


def test_mean_pairwise_correlation_matches_numpy():
    rng = np.random.default_rng(1)
    common = rng.normal(size=(100, 1))
    frame = pd.DataFrame(common + rng.normal(size=(100, 3)), index=pd.bdate_range("2020-01-01", periods=100))
    rolling = mean_pairwise_correlation(frame, window=30)
    expected = np.corrcoef(frame.iloc[-30:].to_numpy().T)[np.triu_indices(3, 1)].mean()
    assert rolling.iloc[:29].isna().all()
    assert rolling.iloc[-1] == pytest.approx(expected)


def test_unknown_source_names_the_accepted_ones():
    accepted = r"\['bundled', 'synthetic', 'yfinance', 'csv'\]"
    with pytest.raises(ValueError, match=rf"source='yahoo'; expected one of {accepted}"):
        load("yahoo")


def test_unknown_synthetic_option_is_a_clear_error():
    with pytest.raises(ValueError, match="n_stocks"):
        load("synthetic", n_stocks=10)


def test_stress_reference_is_the_truth_when_simulated_and_the_named_episodes_otherwise(small_synthetic, random_prices):
    from types import SimpleNamespace

    from helpers.data.episodes import stress_reference

    days = small_synthetic.returns.index
    stress, name = stress_reference(small_synthetic, days)
    pd.testing.assert_series_equal(stress, (small_synthetic.truth.regimes.reindex(days) == 1).rename("stress"))
    assert "true stress regime" in name
    real = SimpleNamespace(truth=None)
    covid = pd.bdate_range("2019-06-01", "2020-12-31")
    stress, name = stress_reference(real, covid)
    assert stress["2020-03-16"] and not stress["2019-06-03"] and name == "the named stress episodes"
    with pytest.raises(ValueError, match=r"2016-01-01\.\.2016-12-30 are all inside or all outside the named"):
        stress_reference(real, pd.bdate_range("2016-01-01", "2016-12-31"))
