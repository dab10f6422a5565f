"""The reader's characteristics panel: read as documented (lagged, ranked), or refused naming what is wrong."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.characteristics import rank_scale
from helpers.data.panel import load_panel, panel_from_frame
from helpers.validate import InputError

N_MONTHS, N_ASSETS, NAMES = 14, 30, ("size", "value", "momentum")


def long_panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2015-01", periods=N_MONTHS, freq="M").astype(str)
    index = pd.MultiIndex.from_product([months, [f"A{number:03d}" for number in range(N_ASSETS)]],
                                       names=["month", "asset"])
    frame = pd.DataFrame(rng.standard_normal((len(index), len(NAMES))), index=index, columns=list(NAMES))
    frame["excess_return"] = 0.05 * rng.standard_normal(len(index))
    return frame.reset_index()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_is_read_with_each_months_returns_beside_last_months_ranked_characteristics(tmp_path, suffix):
    frame = long_panel().sample(frac=1.0, random_state=0)  # row order must not matter
    path = tmp_path / f"panel{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    panel = load_panel(path)
    assert panel.source == "file" and panel.names == NAMES
    assert panel.characteristics.shape == (N_MONTHS - 1, N_ASSETS, len(NAMES))
    assert str(panel.months[0]) == "2015-02" and len(panel.months) == N_MONTHS - 1
    ordered = frame.sort_values(["month", "asset"])
    by_month = {month: rows for month, rows in ordered.groupby("month")}
    np.testing.assert_allclose(panel.returns[0], by_month["2015-02"]["excess_return"])
    january = by_month["2015-01"][list(NAMES)].to_numpy()
    np.testing.assert_allclose(panel.characteristics[0], rank_scale(january[None])[0])
    assert panel.characteristics.min() == -1 and panel.characteristics.max() == 1


def test_ranked_characteristics_are_kept_and_checked():
    frame = long_panel()
    frame[list(NAMES)] = np.tanh(frame[list(NAMES)])
    panel = panel_from_frame(frame, ranked=True)
    first = frame.query("month == '2015-01'").sort_values("asset")[list(NAMES)].to_numpy()
    np.testing.assert_allclose(panel.characteristics[0], first)
    frame.loc[5, "value"] = 1.5
    with pytest.raises(InputError, match="ranked=True but 'value' in 2015-01 lies outside"):
        panel_from_frame(frame, ranked=True)


def test_tied_values_share_their_mean_rank():
    np.testing.assert_allclose(rank_scale(np.array([[[1.0], [1.0], [2.0]]]))[0, :, 0], [-0.5, -0.5, 1.0])


def without(frame: pd.DataFrame, **where) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        keep &= (frame[column] == value).to_numpy()
    return frame[~keep]


@pytest.mark.parametrize(("make", "message"), [
    (lambda f: f.drop(columns="excess_return"), r"lacks the columns \['excess_return'\]"),
    (lambda f: f[["month", "asset", "excess_return"]], "has no characteristic columns"),
    (lambda f: pd.concat([f, f.iloc[[3]]]), "repeat a month and asset, such as 'A003' in 2015-01"),
    (lambda f: f[f["month"] != "2015-05"], r"no rows in 1 month\(s\) between 2015-01 and 2016-02, such as 2015-05"),
    (lambda f: without(f, month="2015-03", asset="A007"), "lacks 1 asset-month.*'A007' in 2015-03.*balanced"),
    (lambda f: f.assign(excess_return=f["excess_return"].mask(f.index == 40)), "lacks a return in 1 row"),
    (lambda f: f.assign(value=f["value"].mask(f["month"] == "2015-02", 0.3)),
     "'value' takes one value across every asset in 2015-02"),
    (lambda f: f.assign(size=f["size"].astype(object).mask(f.index == 2, "big")), "column 'size' holds 'big'"),
    (lambda f: f.assign(month=f["month"].mask(f.index == 0, "someday")), "month column holds 'someday'"),
    (lambda f: f[f["month"].isin(["2015-01", "2015-02"])], r"spans 2 month\(s\); expected at least 3"),
])
def test_a_bad_panel_is_refused_with_what_is_wrong_and_where(make, message):
    with pytest.raises(InputError, match=message):
        panel_from_frame(make(long_panel()))


def test_a_path_that_is_not_a_panel_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="is not a file"):
        load_panel(tmp_path / "missing.csv")
    (tmp_path / "panel.xlsx").write_text("")
    with pytest.raises(InputError, match=r"ends in '.xlsx'; expected one of \['.csv', '.parquet'\]"):
        load_panel(tmp_path / "panel.xlsx")
