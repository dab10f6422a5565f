"""The reader's own closes, from a CSV file or a DataFrame, through the same cleaning and
checks as every other source.

The file holds one row per date and one column per series, dates in the first column.
Columns named by `indicators` (by default `vix` and `yield_slope`, where present) are read
as indicators, the column named by `benchmark` (by default a column called `benchmark`,
where present) as the benchmark; every other column is an asset's close. Without a
benchmark column the benchmark is the equal-weight index of the assets, labelled as derived.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.assemble import assemble_market
from helpers.data.market import (
    ASSET_COLUMNS,
    MarketData,
    align_to_calendar,
    clean_prices,
    date_range,
    describe_indicators,
)
from helpers.validate import InputError, as_tickers

DEFAULT_BENCHMARK = "benchmark"
DEFAULT_INDICATORS = {
    "vix": "volatility index, % (your file)",
    "yield_slope": "long minus short yield, % points (your file)",
}


def read_price_file(path: str | Path) -> pd.DataFrame:
    """A CSV of closes as a float frame on a date index, or a clear error saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"prices_path={str(path)!r} is not a file; give the path of a CSV of closes")
    frame = pd.read_csv(path, index_col=0)
    return _as_price_frame(frame, f"{path.name}")


def _as_price_frame(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    if frame.empty:
        raise InputError(f"{origin} holds no rows of prices")
    dates = pd.to_datetime(pd.Index(frame.index).astype(str), errors="coerce", format="mixed")
    if dates.isna().any():
        bad = [str(value) for value in frame.index[dates.isna()][:3]]
        raise InputError(
            f"{origin}: the first column must hold dates such as 2020-01-31, found {bad}; "
            "put the dates in the first column"
        )
    frame = frame.set_axis(pd.DatetimeIndex(dates, name="date"), axis=0)
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        text = frame[column].notna() & numbers.isna()
        if text.any():
            raise InputError(
                f"{origin}: column {column!r} holds text such as {frame[column][text].iloc[0]!r} "
                f"on {frame.index[text][0].date()}; every column but the dates must hold numbers"
            )
        frame[column] = numbers.astype(float)
    return frame


def load_csv(
    path: str | Path | None = None,
    prices: pd.DataFrame | None = None,
    tickers: list[str] | tuple[str, ...] | None = None,
    start: str | None = None,
    end: str | None = None,
    benchmark: str | None = DEFAULT_BENCHMARK,
    indicators: tuple[str, ...] = tuple(DEFAULT_INDICATORS),
    assets_path: str | Path | None = None,
    max_missing: float = 0.02,
) -> MarketData:
    """Your closes (a file at `path`, or a `prices` frame), optional benchmark and indicators.

    `assets_path` is an optional CSV with a ticker column and `asset_class` and `sector`
    columns; without it both are "unknown". A `benchmark` or indicator named explicitly
    must be in the file; the defaults are used only where such a column exists.
    """
    if (path is None) == (prices is None):
        raise InputError("give either path (a CSV of closes) or prices (a DataFrame of closes), not both or neither")
    frame = read_price_file(path) if path is not None else _as_price_frame(prices.copy(), "prices")
    origin = Path(path).name if path is not None else "prices"
    frame = date_range(frame.sort_index(), start, end, origin)

    benchmark_column = _column(frame, benchmark, benchmark != DEFAULT_BENCHMARK, "benchmark", origin)
    indicator_columns = [
        name for name in indicators if _column(frame, name, name not in DEFAULT_INDICATORS, "indicators", origin)
    ]
    asset_columns = [c for c in frame.columns if c != benchmark_column and c not in indicator_columns]
    if tickers is not None:
        tickers = list(as_tickers(tickers))
        absent = [t for t in tickers if t not in asset_columns]
        if absent:
            raise InputError(f"tickers {absent} are not columns of {origin}; its price columns are {asset_columns}")
        asset_columns = tickers
    if not asset_columns:
        raise InputError(f"{origin} has no asset columns besides the benchmark and indicators")

    closes = clean_prices(frame[asset_columns], max_missing=max_missing)
    days = closes.index
    if benchmark_column:
        index = clean_prices(frame[[benchmark_column]].loc[days], max_missing=max_missing)[benchmark_column]
        benchmark_origin = f"column {benchmark_column!r} of {origin}"
    else:
        index = (100 * (1 + closes.pct_change().fillna(0.0).mean(axis=1)).cumprod()).rename("equal_weight")
        benchmark_origin = "the equal-weight index of the assets (derived: the file has no benchmark column)"
    observed = pd.DataFrame({name: align_to_calendar(frame[name], days) for name in indicator_columns}, index=days)
    observed_info = describe_indicators(
        {name: (DEFAULT_INDICATORS.get(name, f"{name} (your file)"), "observed", origin) for name in indicator_columns}
    )
    return assemble_market(
        closes,
        index.reindex(days),
        observed,
        observed_info,
        _asset_metadata(assets_path, asset_columns),
        source="csv",
        notes=(f"your closes from {origin}; benchmark: {benchmark_origin}",),
    )


def _column(frame: pd.DataFrame, name: str | None, required: bool, parameter: str, origin: str) -> str | None:
    """`name` if it is a column; None if it is not and was only a default; else a clear error."""
    if name is None or name in frame.columns:
        return name
    if not required:
        return None
    raise InputError(f"{parameter}: {name!r} is not a column of {origin}; its columns are {list(frame.columns)}")


def _asset_metadata(assets_path: str | Path | None, tickers: list[str]) -> pd.DataFrame:
    if assets_path is None:
        return pd.DataFrame("unknown", index=tickers, columns=list(ASSET_COLUMNS))
    metadata = pd.read_csv(assets_path, index_col=0)
    missing_columns = set(ASSET_COLUMNS) - set(metadata.columns)
    if missing_columns:
        raise InputError(
            f"assets_path {assets_path}: needs columns {list(ASSET_COLUMNS)}, lacks {sorted(missing_columns)}"
        )
    missing = [t for t in tickers if t not in metadata.index]
    if missing:
        raise InputError(f"assets_path {assets_path} has no row for {missing}")
    return metadata.loc[tickers, list(ASSET_COLUMNS)]
