"""Which market and which windows, as small frozen values: chapters pass them around and
the stage cache hashes them."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.preprocessing import StandardScaler

from helpers.data.market import MarketData
from helpers.data.windows import Splits, WindowedReturns, chronological_split, fit_standardizer, make_windows


@dataclass(frozen=True)
class MarketSpec:
    source: str = "bundled"
    tickers: tuple[str, ...] | None = None  # None: the source's default universe
    start: str | None = None
    end: str | None = None
    synthetic_assets: int = 60  # used by source="synthetic" only
    synthetic_days: int = 2520
    synthetic_variant: str = "regimes"  # or "linear": see helpers.data.synthetic.VARIANTS
    seed: int = 0

    def load(self) -> MarketData:
        from helpers.data import load

        if self.source == "synthetic":
            requested = {
                "n_assets": self.synthetic_assets,
                "n_days": self.synthetic_days,
                "seed": self.seed,
                "variant": self.synthetic_variant,
            }
            requested |= {"start": self.start} if self.start else {}
            if self.tickers or self.end:
                raise ValueError(
                    "the synthetic source takes no tickers or end; set synthetic_assets and synthetic_days"
                )
            return load("synthetic", **requested)
        requested = {"tickers": list(self.tickers) if self.tickers else None, "start": self.start, "end": self.end}
        return load(self.source, **{name: value for name, value in requested.items() if value is not None})


@dataclass(frozen=True)
class WindowSpec:
    market: MarketSpec = MarketSpec()
    window: int = 20
    train_end: str | float = 0.6
    validation_end: str | float = 0.8

    def build(self) -> tuple[MarketData, Splits, WindowedReturns]:
        market = self.market.load()
        splits = chronological_split(market.returns.index, self.train_end, self.validation_end)
        return market, splits, make_windows(market.returns, self.window, splits)


@dataclass(frozen=True)
class CrossSectionSpec:
    """Each day's cross-section of returns, standardized per asset with training statistics."""

    market: MarketSpec = MarketSpec()
    train_end: str | float = 0.6
    validation_end: str | float = 0.8

    def build(self) -> tuple[MarketData, Splits, pd.DataFrame, StandardScaler]:
        market = self.market.load()
        splits = chronological_split(market.returns.index, self.train_end, self.validation_end)
        scaler = fit_standardizer(market.returns, splits.train)
        return market, splits, scaler.transform(market.returns), scaler
