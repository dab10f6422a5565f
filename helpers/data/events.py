"""Sparse events planted in the synthetic market, each recorded with its dates and assets so
that a method's reading of an event can be checked against what happened.

Four types, placed at random days independently of the regime chain:

- ``sector_shock``: every stock of one sector jumps by the same return on one day;
- ``volatility_burst``: the market factor's volatility is multiplied for a few days,
  whatever the regime (so volatility alone does not reveal the regime);
- ``momentum_crash``: over a few days the past winners (top fifth by trailing return up to
  the day before) give back and the past losers (bottom fifth) gain the same amount;
- ``rates_move``: the rates factor moves by several of its standard deviations in one day.

Sector shocks and momentum crashes shift the mean of returns; volatility bursts scale the
factor volatility that the conditional covariance uses; rates moves enter the rates factor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.truth import SyntheticConfig
from helpers.validate import InputError

EVENT_DAYS = {"sector_shock": 1, "volatility_burst": 10, "momentum_crash": 5, "rates_move": 1}
EVENT_SIZE_UNITS = {
    "sector_shock": "log return of each stock of the sector",
    "volatility_burst": "multiplier of the market factor's volatility",
    "momentum_crash": "log return the winners give back and the losers gain",
    "rates_move": "standard deviations of the rates factor",
}
MOMENTUM_LOOKBACK = 60  # days of trailing return that rank winners and losers
EVENT_COLUMNS = ["type", "start", "end", "assets", "size"]


def draw_event_days(cfg: SyntheticConfig, rng: np.random.Generator) -> dict[str, list[tuple[int, float]]]:
    """(first day, signed size) of each planted event, by type; drawn before the returns so
    that the draws, and therefore the rest of the market, do not depend on the sizes."""
    counts = {
        "sector_shock": cfg.n_sector_shocks,
        "volatility_burst": cfg.n_volatility_bursts,
        "momentum_crash": cfg.n_momentum_crashes,
        "rates_move": cfg.n_rates_moves,
    }
    sizes = {
        "sector_shock": cfg.sector_shock,
        "volatility_burst": cfg.burst_vol,
        "momentum_crash": cfg.momentum_crash,
        "rates_move": cfg.rates_move,
    }
    first_allowed = {"momentum_crash": MOMENTUM_LOOKBACK}
    drawn = {}
    for kind, count in counts.items():
        low, high = first_allowed.get(kind, 1), cfg.n_days - EVENT_DAYS[kind]
        if count and high <= low:
            raise InputError(f"n_days={cfg.n_days} is too short to plant a {kind}; "
                             f"it needs more than {low + EVENT_DAYS[kind]} days")
        starts = np.sort(rng.integers(low, max(high, low + 1), count))
        signs = rng.choice([-1.0, 1.0], count) if kind in ("sector_shock", "rates_move") else np.ones(count)
        drawn[kind] = [(int(start), float(sign * sizes[kind])) for start, sign in zip(starts, signs, strict=True)]
    return drawn


def burst_multiplier(drawn: dict, n_days: int) -> np.ndarray:
    """The market factor's volatility multiplier of each day: above one inside a burst."""
    multiplier = np.ones(n_days)
    for start, size in drawn["volatility_burst"]:
        multiplier[start : start + EVENT_DAYS["volatility_burst"]] = size
    return multiplier


def rates_jumps(drawn: dict, n_days: int) -> np.ndarray:
    """Each day's planted move of the rates factor, in standard deviations of that day."""
    jumps = np.zeros(n_days)
    for start, size in drawn["rates_move"]:
        jumps[start] += size
    return jumps


def add_return_events(drawn: dict, returns: np.ndarray, sectors: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Returns with the sector shocks and momentum crashes added, and the assets of each crash.

    Crashes are added in time order, each ranking winners on returns that include every
    earlier event, as a reader of the prices would rank them.
    """
    shifted = returns.copy()
    for (start, size), sector in zip(drawn["sector_shock"], shocked_sectors(drawn, sectors), strict=True):
        shifted[start, sectors == sector] += size
    crash_assets = []
    for start, size in drawn["momentum_crash"]:
        winners, losers = momentum_fifths(shifted, start)
        days = slice(start, start + EVENT_DAYS["momentum_crash"])
        shifted[days, winners] -= size / EVENT_DAYS["momentum_crash"]
        shifted[days, losers] += size / EVENT_DAYS["momentum_crash"]
        crash_assets.append(np.concatenate([winners, losers]))
    return shifted, crash_assets


def momentum_fifths(returns: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the top and bottom fifth of assets by trailing return before `start`."""
    trailing = returns[start - MOMENTUM_LOOKBACK : start].sum(axis=0)
    order = np.argsort(trailing, kind="stable")
    fifth = max(len(order) // 5, 1)
    return np.sort(order[-fifth:]), np.sort(order[:fifth])


def shocked_sectors(drawn: dict, sectors: np.ndarray) -> list[int]:
    """Sector hit by each shock: the shocks take the sectors in turn, so that with as many
    shocks as sectors every sector is hit once (no extra random draw)."""
    present = np.unique(sectors)
    return [int(present[number % len(present)]) for number in range(len(drawn["sector_shock"]))]


def event_table(drawn: dict, sectors: np.ndarray, crash_assets: list[np.ndarray], days: pd.DatetimeIndex,
                tickers: list[str]) -> pd.DataFrame:
    """One row per planted event: its type, first and last day, the assets it touches and its size."""
    names = np.asarray(tickers)
    everyone = tuple(tickers)
    rows = [("sector_shock", start, tuple(names[sectors == sector]), size)
            for (start, size), sector in zip(drawn["sector_shock"], shocked_sectors(drawn, sectors), strict=True)]
    rows += [("volatility_burst", start, everyone, size) for start, size in drawn["volatility_burst"]]
    rows += [("momentum_crash", start, tuple(names[assets]), size)
             for (start, size), assets in zip(drawn["momentum_crash"], crash_assets, strict=True)]
    rows += [("rates_move", start, everyone, size) for start, size in drawn["rates_move"]]
    table = pd.DataFrame(
        [(kind, days[start], days[start + EVENT_DAYS[kind] - 1], assets, size) for kind, start, assets, size in rows],
        columns=EVENT_COLUMNS,
    )
    return table.sort_values(["start", "type"], kind="stable").reset_index(drop=True)
