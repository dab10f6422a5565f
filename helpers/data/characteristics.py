"""Monthly asset characteristics and the betas they set, for the characteristics variants of
the synthetic market (the conditional autoencoder's setting: betas that move with what is
observed of each asset, as in Gu, Kelly and Xiu's model and Kelly, Pruitt and Su's IPCA).

Each asset's characteristics follow a persistent monthly AR(1), are observed at each month's
end as cross-sectional ranks scaled to [-1, 1], and set the asset's betas for the next
month: beta_{i,m} = beta_0 + Gamma' h(c_{i,m-1}). With the `linear` map h(c) = c, a linear
model of the characteristics (IPCA) can represent the betas exactly; the `nonlinear` map
replaces each characteristic by an interaction, a V shape or a threshold of them, with the
same cross-sectional variance, which it cannot.

On every other market the characteristics are computed from prices alone, each from its
month's end and earlier (`price_characteristics`), and `characteristic_panel` pairs each
month's returns with the characteristics of the month before, the only ones an investor
had when the month began.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from helpers.data.calendar import TRADING_DAYS
from helpers.data.market import MarketData
from helpers.data.truth import MARKET
from helpers.validate import InputError

logger = logging.getLogger(__name__)
# What prices alone tell at a month's end. Size (price times shares outstanding) is not
# among them: no source here publishes shares.
PRICE_CHARACTERISTICS = ("momentum_12_2", "momentum_6_2", "reversal_1", "volatility_1", "beta_12", "max_return_1")

MARKET_BETA_SCALE = 0.5  # the characteristics move market betas half as much as the others


def rank_scale(values: np.ndarray) -> np.ndarray:
    """Cross-sectional ranks of (months, assets, characteristics) scaled to [-1, 1]: the
    transform GKX and IPCA apply, so that no outlier drives a beta. Tied values share their
    mean rank, so that the order of the rows does not decide between them."""
    ranks = rankdata(values, axis=1) - 1  # 0 .. N-1 within each month
    return 2 * ranks / (values.shape[1] - 1) - 1


def beta_features(characteristics: np.ndarray, beta_map: str) -> np.ndarray:
    """h(c) of the module docstring: (..., L) -> (..., L), each column of variance about 1/3
    when c is uniform on [-1, 1], as the characteristics are."""
    if beta_map == "linear":
        return characteristics
    c = [characteristics[..., column] for column in range(characteristics.shape[-1])]
    following = c[1:] + c[:1]  # each characteristic's neighbour, for the interactions
    features = []
    for column, (own, other) in enumerate(zip(c, following, strict=True)):
        if column % 3 == 0:
            features.append(np.sqrt(3) * own * other)  # interaction: var(c c') = 1/9
        elif column % 3 == 1:
            features.append(2 * np.abs(own) - 1)  # V shape: |c| is uniform on [0, 1]
        else:
            features.append(np.sign(own) / np.sqrt(3))  # threshold at the median
    return np.stack(features, axis=-1)


def simulate_characteristics(n_months: int, n_assets: int, n_characteristics: int, n_factors: int,
                             persistence: float, beta_map: str, rng: np.random.Generator):
    """Characteristics observed at the end of each month, one month before the first, and
    the betas they set for each month.

    Returns (characteristics (months + 1, N, L), with row 0 the month before the sample;
    betas (months, N, K), where betas[m] comes from characteristics[m], the previous month's
    end; gamma (L, K))."""
    latent = np.empty((n_months + 1, n_assets, n_characteristics))
    latent[0] = rng.standard_normal((n_assets, n_characteristics))
    innovation = np.sqrt(1 - persistence**2)
    for month in range(1, n_months + 1):
        latent[month] = persistence * latent[month - 1] + innovation * rng.standard_normal(
            (n_assets, n_characteristics))
    characteristics = rank_scale(latent)
    gamma = rng.normal(0.0, 0.45, (n_characteristics, n_factors))
    gamma[:, MARKET] *= MARKET_BETA_SCALE
    base = np.zeros(n_factors)
    base[MARKET] = 1.0
    betas = base + beta_features(characteristics[:-1], beta_map) @ gamma  # (months, N, K)
    return characteristics, betas, gamma


def monthly_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """Each calendar month's log return of each asset, the sum of its daily log returns."""
    return returns.groupby(returns.index.to_period("M").rename("month")).sum(min_count=1)


def price_characteristics(returns: pd.DataFrame, benchmark_returns: pd.Series) -> pd.DataFrame:
    """At each month's end, from that month's returns and earlier only, raw (not ranked):
    momentum over months m-11..m-1 and m-5..m-1 (skipping month m, the short-term reversal),
    month m's return, the volatility and the largest daily return of its days, and the
    beta on the benchmark over the last year of days. (month, asset) x PRICE_CHARACTERISTICS;
    NaN where the history is too short."""
    months = returns.index.to_period("M").rename("month")
    monthly = monthly_returns(returns)
    beta = returns.rolling(TRADING_DAYS).cov(benchmark_returns).div(benchmark_returns.rolling(TRADING_DAYS).var(),
                                                                    axis=0)
    frames = {
        "momentum_12_2": monthly.shift(1).rolling(11).sum(),
        "momentum_6_2": monthly.shift(1).rolling(5).sum(),
        "reversal_1": monthly,
        "volatility_1": returns.groupby(months).std() * np.sqrt(TRADING_DAYS),
        "beta_12": beta.groupby(months).last(),
        "max_return_1": returns.groupby(months).max(),
    }
    return pd.concat({name: frame.stack(future_stack=True) for name, frame in frames.items()}, axis=1).rename_axis(
        ["month", "asset"])


@dataclass(frozen=True)
class CharacteristicPanel:
    """Each month's returns beside the characteristics known when it began.

    `characteristics[m]` were observed at the end of the month before `months[m]`, as
    cross-sectional ranks in [-1, 1]; `returns[m]` are the log returns of `months[m]`."""

    months: pd.PeriodIndex
    assets: pd.Index
    names: tuple[str, ...]
    characteristics: np.ndarray  # (months, assets, characteristics)
    returns: np.ndarray  # (months, assets)
    source: str  # "simulated", "prices" or "file" (helpers.data.panel): where the characteristics come from

    def split(self, train_end: float, validation_end: float) -> dict[str, np.ndarray]:
        """Chronological training, validation and test months, as boolean masks over `months`."""
        if not 0 < train_end < validation_end < 1:
            raise InputError(f"train_end={train_end!r}, validation_end={validation_end!r}; expected "
                             "0 < train_end < validation_end < 1, shares of the months")
        position = np.arange(len(self.months)) / len(self.months)
        return {"train": position < train_end, "validation": (position >= train_end) & (position < validation_end),
                "test": position >= validation_end}


def characteristic_panel(market: MarketData) -> CharacteristicPanel:
    """The panel of `market`: the simulated characteristics of a characteristics variant,
    else those of prices, each paired with the next month's returns. Months where an asset
    lacks a characteristic (too little history) or a return are left out, and counted in
    the log."""
    truth = market.truth
    simulated = truth is not None and truth.characteristics is not None
    if simulated:
        observed = truth.characteristics
    else:
        raw = price_characteristics(market.returns, market.benchmark_returns)
        observed = raw.groupby(level="month", group_keys=False).apply(
            lambda month: pd.DataFrame(rank_scale(month.to_numpy()[None])[0], index=month.index,
                                       columns=month.columns) if month.notna().all().all() else month * np.nan)
    returns = monthly_returns(market.returns)
    names = tuple(observed.columns)
    assets = market.returns.columns
    cube = observed.reindex(pd.MultiIndex.from_product([returns.index - 1, assets])).to_numpy()
    cube = cube.reshape(len(returns), len(assets), len(names))  # (months, assets, characteristics), lagged
    complete = np.isfinite(cube).all(axis=(1, 2)) & returns.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise InputError(f"no month of {market.source} has every asset's characteristics and return; "
                         "price characteristics need 13 months of history")
    if (~complete).sum():
        logger.info("characteristic panel: %d of %d months left out, for lack of history or of a return",
                    (~complete).sum(), len(complete))
    return CharacteristicPanel(months=returns.index[complete], assets=assets, names=names,
                               characteristics=cube[complete], returns=returns.to_numpy()[complete],
                               source="simulated" if simulated else "prices")
