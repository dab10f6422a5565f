"""Which market and which windows, as small frozen values: chapters pass them around and
the stage cache hashes them. Fields are keyword-only, so a new field can never shift the
meaning of an old call."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sklearn.preprocessing import StandardScaler

from helpers.cache import INPUT_FILE
from helpers.data.market import MarketData
from helpers.data.sources import SOURCES, load
from helpers.data.truth import MIN_DAYS, VARIANTS, SyntheticConfig
from helpers.data.windows import Splits, WindowedReturns, chronological_split, fit_standardizer, make_windows
from helpers.validate import InputError, as_choice, as_count, as_date_range, as_period_end, as_tickers


@dataclass(frozen=True, kw_only=True)
class MarketSpec:
    """The data-source parameters every chapter takes, validated where the reader sets them."""

    source: str = "bundled"
    tickers: tuple[str, ...] | None = None  # None: the source's default universe
    start: str | None = None
    end: str | None = None
    prices_path: str | None = field(default=None, metadata=INPUT_FILE)  # source="csv" only: the reader's closes
    synthetic_assets: int = 60  # used by source="synthetic" only
    synthetic_days: int = 2520
    synthetic_variant: str = "default"  # or another name in helpers.data.truth.VARIANTS
    seed: int = 0

    def __post_init__(self) -> None:
        as_choice(self.source, "source", SOURCES)
        as_choice(self.synthetic_variant, "synthetic_variant", VARIANTS)
        if self.tickers is not None:
            object.__setattr__(self, "tickers", as_tickers(self.tickers))
        start, end = as_date_range(self.start, self.end)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name, minimum in (("synthetic_assets", SyntheticConfig.n_sectors), ("synthetic_days", MIN_DAYS),
                              ("seed", 0)):
            object.__setattr__(self, name, as_count(getattr(self, name), name, minimum))
        if self.source == "csv" and not self.prices_path:
            raise InputError("source='csv' needs prices_path, the path of a CSV file of closes (dates x tickers)")
        if self.source == "synthetic" and (self.tickers or self.end):
            raise InputError(f"the synthetic source takes no tickers or end (got tickers={self.tickers!r}, "
                             f"end={self.end!r}); set synthetic_assets and synthetic_days")

    def load(self) -> MarketData:
        if self.source == "synthetic":
            requested = {
                "n_assets": self.synthetic_assets,
                "n_days": self.synthetic_days,
                "seed": self.seed,
                "variant": self.synthetic_variant,
            }
            requested |= {"start": self.start} if self.start else {}
            return load("synthetic", **requested)
        requested = {"tickers": list(self.tickers) if self.tickers else None, "start": self.start, "end": self.end}
        if self.source == "csv":
            requested["path"] = self.prices_path
        return load(self.source, **{name: value for name, value in requested.items() if value is not None})


@dataclass(frozen=True, kw_only=True)
class WindowSpec:
    market: MarketSpec = MarketSpec()
    window: int = 20
    train_end: str | float = 0.6
    validation_end: str | float = 0.8

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", as_count(self.window, "window"))
        check_period_ends(self)

    def build(self) -> tuple[MarketData, Splits, WindowedReturns]:
        market = self.market.load()
        splits = chronological_split(market.returns.index, self.train_end, self.validation_end)
        return market, splits, make_windows(market.returns, self.window, splits)


@dataclass(frozen=True, kw_only=True)
class CrossSectionSpec:
    """Each day's cross-section of returns, standardized per asset with training statistics."""

    market: MarketSpec = MarketSpec()
    train_end: str | float = 0.6
    validation_end: str | float = 0.8

    def __post_init__(self) -> None:
        check_period_ends(self)

    def build(self) -> tuple[MarketData, Splits, pd.DataFrame, StandardScaler]:
        market = self.market.load()
        splits = chronological_split(market.returns.index, self.train_end, self.validation_end)
        scaler = fit_standardizer(market.returns, splits.train)
        return market, splits, scaler.transform(market.returns), scaler


def check_period_ends(spec: WindowSpec | CrossSectionSpec) -> None:
    """Fail where the reader set a split end, not later inside a chapter's first stage."""
    for name in ("train_end", "validation_end"):
        as_period_end(getattr(spec, name), name)
