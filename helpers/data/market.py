"""The one container every source returns, and the price checks every source passes."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.data.truth import SyntheticTruth
from helpers.validate import InputError, as_date_range

logger = logging.getLogger(__name__)

ASSET_COLUMNS = ("asset_class", "sector")
INDICATOR_COLUMNS = ("description", "origin", "source")
INDICATOR_ORIGINS = ("observed", "derived", "simulated")


@dataclass(frozen=True)
class MarketData:
    """Prices, indicators and metadata of one market, aligned on one trading calendar.

    `returns` are daily log returns, so the first price day has none. `indicator_info`
    says where each indicator comes from; `origin` is "observed" for a published series,
    "derived" where the book computes it from prices or other series, and "simulated" on
    the synthetic market. `truth` is set only by the synthetic source. `cash_yield` is the
    annual yield of cash in percent known at each close (a T-bill rate), where the source
    publishes one; without it cash earns nothing unless a chapter says otherwise.
    """

    prices: pd.DataFrame
    benchmark: pd.Series
    indicators: pd.DataFrame
    assets: pd.DataFrame
    indicator_info: pd.DataFrame
    source: str
    truth: SyntheticTruth | None = None
    notes: tuple[str, ...] = field(default=())
    cash_yield: pd.Series | None = None

    def __post_init__(self) -> None:
        if not self.prices.index.equals(self.benchmark.index):
            raise InputError("benchmark must share the price calendar")
        if self.benchmark.isna().any():
            first = self.benchmark.index[self.benchmark.isna()][0]
            raise InputError(f"benchmark {self.benchmark.name!r} has no value on {first.date()}")
        if not self.prices.index.equals(self.indicators.index):
            raise InputError("indicators must share the price calendar")
        if self.cash_yield is not None and not self.prices.index.equals(self.cash_yield.index):
            raise InputError("cash_yield must share the price calendar")
        if list(self.assets.index) != list(self.prices.columns):
            raise InputError(
                f"asset metadata lists {list(self.assets.index)}, prices have {list(self.prices.columns)}"
            )
        missing = set(ASSET_COLUMNS) - set(self.assets.columns)
        if missing:
            raise InputError(f"asset metadata lacks columns {sorted(missing)}; needs {list(ASSET_COLUMNS)}")
        if list(self.indicator_info.index) != list(self.indicators.columns):
            raise InputError("indicator_info must describe exactly the indicator columns, in order")
        bad_origin = set(self.indicator_info["origin"]) - set(INDICATOR_ORIGINS)
        if bad_origin:
            raise InputError(f"indicator origins {sorted(bad_origin)} are not among {list(INDICATOR_ORIGINS)}")

    @property
    def returns(self) -> pd.DataFrame:
        return log_returns(self.prices)

    @property
    def benchmark_returns(self) -> pd.Series:
        return log_returns(self.benchmark.to_frame()).iloc[:, 0]

    @property
    def tickers(self) -> list[str]:
        return list(self.prices.columns)

    def coverage(self) -> pd.DataFrame:
        """First and last valid date, valid days and origin of every series."""
        rows = []
        for name, series, origin in self._series():
            valid = series.dropna()
            rows.append(
                {
                    "series": name,
                    "origin": origin,
                    "first": valid.index.min().date() if len(valid) else None,
                    "last": valid.index.max().date() if len(valid) else None,
                    "days": len(valid),
                }
            )
        return pd.DataFrame(rows).set_index("series")

    def _series(self):
        for ticker in self.prices.columns:
            yield ticker, self.prices[ticker], f"price ({self.assets.loc[ticker, 'asset_class']})"
        yield f"{self.benchmark.name} (benchmark)", self.benchmark, "price (benchmark)"
        for name in self.indicators.columns:
            yield name, self.indicators[name], self.indicator_info.loc[name, "origin"]


def date_range(frame: pd.DataFrame, start: str | None, end: str | None, origin: str) -> pd.DataFrame:
    """The rows of a sorted frame from `start` to `end`, both included; at least two days, since
    the first return needs a previous close."""
    start, end = as_date_range(start, end)
    sliced = frame.loc[start:end]
    if len(sliced) < 2:
        raise InputError(
            f"{origin} has {len(sliced)} day(s) between start={start!r} and end={end!r}; a market needs at least "
            f"two days of prices, and {origin} covers {frame.index[0].date()}..{frame.index[-1].date()}"
        )
    return sliced


def log_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily log returns; the first day, which has no previous close, is left out."""
    return np.log(prices).diff().iloc[1:]


MAX_STALE_DAYS = 5


def clean_prices(prices: pd.DataFrame, max_missing: float = 0.02, max_stale_days: int = MAX_STALE_DAYS) -> pd.DataFrame:
    """Apply the book's one missing-value rule to a price panel, and say what it changed.

    Days on which no asset traded are dropped. A series that starts later than the others
    (a ticker listed after the start date) moves the start of the whole panel to its first
    quote, with a warning naming it. A column may then miss at most `max_missing` of its
    days; those gaps are forward-filled (a stale price, the standard convention for a day
    without a trade). A column that misses more raises, as do columns with no data and
    non-positive prices. A price that stands still for more than `max_stale_days` days in
    a row is kept with a warning: real panels have such quotes (skfolio's RRC in
    1990-1992); the models refuse a window in which a series does not move at all.
    """
    if not 0 <= max_missing < 1:
        raise InputError(f"max_missing={max_missing!r}; expected a fraction in [0, 1)")
    if prices.empty or prices.shape[1] == 0:
        raise InputError("the price panel is empty: no dates or no tickers")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise InputError(f"prices need a DatetimeIndex of days, got {type(prices.index).__name__}")
    if prices.index.has_duplicates:
        dupes = prices.index[prices.index.duplicated()].unique()[:5]
        raise InputError(f"duplicate dates in prices, e.g. {[str(d.date()) for d in dupes]}")
    not_numeric = [c for c in prices.columns if not pd.api.types.is_numeric_dtype(prices[c])]
    if not_numeric:
        raise InputError(f"price columns {not_numeric} do not hold numbers; every price column must be numeric")
    prices = prices.sort_index().astype(float)
    non_positive = (prices <= 0).any()
    if non_positive.any():
        first = {c: str(prices.index[prices[c] <= 0][0].date()) for c in non_positive[non_positive].index}
        raise InputError(f"non-positive prices in {first} (first such day); prices must be > 0 to take log returns")
    empty_days = prices.isna().all(axis=1)
    if empty_days.any():
        logger.warning("dropped %d days on which no asset has a price", int(empty_days.sum()))
        prices = prices.loc[~empty_days]
    empty_columns = [c for c in prices.columns if prices[c].isna().all()]
    if empty_columns:
        raise InputError(f"no prices at all for {empty_columns}")
    firsts = {c: prices[c].first_valid_index() for c in prices.columns}
    latest = max(firsts.values())
    if latest > prices.index[0]:
        late = {c: str(day.date()) for c, day in firsts.items() if day > prices.index[0]}
        logger.warning("moved the start from %s to %s, the first quote of the latest starter: %s",
                       prices.index[0].date(), latest.date(), late)
        prices = prices.loc[latest:]
    missing_share = prices.isna().mean()
    too_sparse = missing_share[missing_share > max_missing]
    if len(too_sparse):
        shares = {c: f"{s:.1%}" for c, s in too_sparse.items()}
        raise InputError(
            f"columns miss more than max_missing={max_missing:.1%} of days: {shares}; "
            "drop them, shorten the date range or raise max_missing"
        )
    gaps = prices.isna().sum()
    if gaps.any():
        logger.warning(
            "forward-filled missing prices (a stale price on a day without a quote): %s",
            {c: int(n) for c, n in gaps[gaps > 0].items()},
        )
        prices = prices.ffill()
    _warn_stale(prices, max_stale_days)
    return prices


def stale_runs(prices: pd.DataFrame, max_stale_days: int = MAX_STALE_DAYS) -> pd.DataFrame:
    """Every stretch in which a price is unchanged on more than `max_stale_days` days in a row.

    One row per stretch: the ticker, its first and last day at that price, and `days`,
    the number of days at that price (the unchanged days and the day the price was set).
    """
    rows = []
    unchanged = prices.diff().eq(0)
    for column in prices.columns:
        run_id = (~unchanged[column]).cumsum()
        lengths = unchanged[column].groupby(run_id).sum()
        for run, length in lengths[lengths > max_stale_days].items():
            days = prices.index[run_id == run]
            rows.append({"ticker": column, "first": days[0], "last": days[-1], "days": int(length) + 1})
    columns = {"ticker": str, "first": "datetime64[ns]", "last": "datetime64[ns]", "days": int}
    return pd.DataFrame(rows, columns=list(columns)).astype(columns)


def _warn_stale(prices: pd.DataFrame, max_stale_days: int) -> None:
    """Log each series whose price stands still for longer than `max_stale_days` in a row."""
    runs = stale_runs(prices, max_stale_days)
    stale = {}
    for ticker, group in runs.groupby("ticker", sort=False):
        longest = group.loc[group["days"].idxmax()]
        stale[ticker] = f"{len(group)} runs, the longest {longest['days']} days to {longest['last'].date()}"
    if stale:
        logger.warning(
            "prices unchanged for more than max_stale_days=%d days in a row (stale quotes; kept, but a model "
            "that needs variance in a window will refuse a window in which a series never moves): %s",
            max_stale_days, stale,
        )


def describe_indicators(rows: dict[str, tuple[str, str, str]]) -> pd.DataFrame:
    """Indicator metadata from {name: (description, origin, source)}."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(INDICATOR_COLUMNS))


def align_to_calendar(series: pd.Series, days: pd.DatetimeIndex) -> pd.Series:
    """Put an indicator on the price calendar without inventing values outside its coverage.

    Inside the series' own first..last valid date, a calendar day it lacks takes the last
    published value (logged); outside that span it stays missing, as the coverage table shows.
    """
    valid = series.dropna().sort_index()
    if valid.empty:
        raise InputError(f"indicator {series.name!r} has no values")
    inside = (days >= valid.index[0]) & (days <= valid.index[-1])
    aligned = valid.reindex(valid.index.union(days)).ffill().reindex(days)
    aligned[~inside] = np.nan
    filled = int(inside.sum() - days[inside].isin(valid.index).sum())
    if filled:
        logger.warning("%s: carried the last value forward on %d calendar days it lacks", series.name, filled)
    return aligned.rename(series.name)
