"""The reader's own characteristics panel, for the conditional autoencoder's chapter.

A long file, Parquet or CSV, with one row per month and asset:

- `month`: the month, such as 2015-03 or any date inside it;
- `asset`: the asset's identifier;
- `excess_return`: the asset's return over the risk-free rate in that month, as a decimal;
- one column per characteristic (every other column), observed at the end of that month.

`load_panel` pairs each month's returns with the characteristics of the month before, the
only ones an investor had when the month began, exactly as the chapter pairs the
characteristics it computes from prices; the first month's returns and the last month's
characteristics are therefore not used. Characteristics are ranked cross-sectionally to
[-1, 1] each month (`rank_scale`), as Gu, Kelly and Xiu and IPCA do, unless `ranked=True`
says the file holds them ranked already. The panel must be balanced: every asset has a
return and every characteristic in every month, since the models here read a full
cross-section each month. Anything else is an error that names what is wrong and where.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.characteristics import CharacteristicPanel, rank_scale
from helpers.validate import InputError

REQUIRED_COLUMNS = ("month", "asset", "excess_return")
READERS = {".parquet": pd.read_parquet, ".csv": pd.read_csv}


def load_panel(path: str | Path, *, ranked: bool = False) -> CharacteristicPanel:
    """The panel of the file at `path` (see the module docstring for its format)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"panel_path={str(path)!r} is not a file; give the path of a Parquet or CSV panel")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"panel_path={str(path)!r} ends in {path.suffix!r}; expected one of {sorted(READERS)}")
    return panel_from_frame(reader(path), origin=path.name, ranked=ranked)


def panel_from_frame(frame: pd.DataFrame, *, origin: str = "the panel", ranked: bool = False) -> CharacteristicPanel:
    """The panel of a long frame in the file format, with `origin` naming it in errors."""
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"{origin} lacks the columns {missing}; it has {list(frame.columns)} and needs "
                         f"{list(REQUIRED_COLUMNS)} and one column per characteristic")
    names = tuple(str(column) for column in frame.columns if column not in REQUIRED_COLUMNS)
    if not names:
        raise InputError(f"{origin} has no characteristic columns; every column but {list(REQUIRED_COLUMNS)} is one")
    frame = frame.assign(month=_months(frame["month"], origin), asset=frame["asset"].astype(str))
    for column in ("excess_return", *names):
        frame[column] = _numbers(frame[column], column, origin)
    duplicated = frame.duplicated(["month", "asset"], keep=False)
    if duplicated.any():
        first = frame.loc[duplicated, ["month", "asset"]].iloc[0]
        raise InputError(f"{origin} has {int(duplicated.sum())} rows that repeat a month and asset, such as "
                         f"{first['asset']!r} in {first['month']}; give one row per month and asset")
    wide = frame.set_index(["month", "asset"]).sort_index()
    months = _check_calendar(wide.index.get_level_values("month").unique(), origin)
    assets = wide.index.get_level_values("asset").unique()
    full = wide.reindex(pd.MultiIndex.from_product([months, assets], names=["month", "asset"]))
    _check_complete(full, origin)
    characteristics = full[list(names)].to_numpy(float).reshape(len(months), len(assets), len(names))
    _check_varies(characteristics, months, names, origin)
    if ranked:
        outside = np.abs(characteristics) > 1
        if outside.any():
            month, _, column = np.argwhere(outside)[0]
            raise InputError(f"{origin}: ranked=True but {names[column]!r} in {months[month]} lies outside "
                             "[-1, 1]; give ranked=False to rank the characteristics each month")
    else:
        characteristics = rank_scale(characteristics)
    returns = full["excess_return"].to_numpy(float).reshape(len(months), len(assets))
    # month m's returns beside month m-1's characteristics
    return CharacteristicPanel(months=months[1:], assets=pd.Index(assets, name="asset"), names=names,
                               characteristics=characteristics[:-1], returns=returns[1:], source="file")


def _months(values: pd.Series, origin: str) -> pd.Series:
    parsed = pd.to_datetime(values.astype(str), errors="coerce", format="mixed")
    if parsed.isna().any():
        raise InputError(f"{origin}: the month column holds {values[parsed.isna()].iloc[0]!r}, not a month; "
                         "give months such as 2015-03 or dates such as 2015-03-31")
    return parsed.dt.to_period("M")


def _numbers(values: pd.Series, column: str, origin: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    text = values.notna() & numbers.isna()
    if text.any():
        raise InputError(f"{origin}: column {column!r} holds {values[text].iloc[0]!r}; every column but month and "
                         "asset must hold numbers")
    return numbers.astype(float)


def _check_calendar(months: pd.PeriodIndex, origin: str) -> pd.PeriodIndex:
    """The file's months, which must run without a gap: a month without returns has nothing to pair."""
    calendar = pd.period_range(months.min(), months.max(), freq="M")
    gaps = calendar.difference(months)
    if len(gaps):
        raise InputError(f"{origin} has no rows in {len(gaps)} month(s) between {months.min()} and {months.max()}, "
                         f"such as {gaps[0]}; every month needs its returns")
    if len(calendar) < 3:
        raise InputError(f"{origin} spans {len(calendar)} month(s); expected at least 3, so that training, "
                         "validation and test each get one after the first month's characteristics")
    return calendar


def _check_complete(full: pd.DataFrame, origin: str) -> None:
    """Every asset-month has a row, a return and every characteristic: the models read whole cross-sections."""
    absent = full.isna().all(axis=1)
    if absent.any():
        month, asset = absent.index[absent][0]
        raise InputError(f"{origin} lacks {int(absent.sum())} asset-month(s), such as {asset!r} in {month}; the "
                         "panel must be balanced (keep the assets present in every month)")
    gaps = full.isna()
    if gaps.any().any():
        column = gaps.any().idxmax()
        month, asset = gaps.index[gaps[column]][0]
        what = "a return" if column == "excess_return" else f"the characteristic {column!r}"
        raise InputError(f"{origin} lacks {what} in {int(gaps[column].sum())} row(s), such as {asset!r} in "
                         f"{month}; fill it with a value you can defend, or drop the asset")


def _check_varies(characteristics: np.ndarray, months: pd.PeriodIndex, names: tuple[str, ...], origin: str) -> None:
    """A characteristic that is constant across assets in a month ranks nothing and prices nothing."""
    constant = np.ptp(characteristics, axis=1) == 0  # (months, characteristics)
    if constant.any():
        month, column = np.argwhere(constant)[0]
        raise InputError(f"{origin}: {names[column]!r} takes one value across every asset in {months[month]} "
                         f"({int(constant[:, column].sum())} such month(s)); a characteristic must vary across "
                         "assets each month")
