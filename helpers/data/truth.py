"""What generates a simulated market: its parameters, the named variants, and the ground
truth that the synthetic source returns beside the prices, so methods can be scored on it.
The simulation itself is in `helpers.data.synthetic`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.validate import InputError, as_count

SECTORS = (
    "Technology",
    "Financials",
    "Energy",
    "Health Care",
    "Consumer",
    "Industrials",
    "Utilities",
    "Materials",
)
REGIMES = ("calm", "stress")
MARKET, RATES = 0, 1
# Named variants of the default market, selected by one parameter. "linear" keeps the
# factors, sectors, fat tails, anomalies and the mean-shift events but removes everything a
# constant linear factor model cannot represent: regimes change only the drift, volatility
# neither clusters nor bursts, and there is no interaction. "strongly_nonlinear" triples the
# nonlinearity: the interaction and the regime shift of the loadings. "event_rich" plants
# about seven times as many events of each type (same sizes), so that a test period holds
# enough of them to grade a method's recovery of each type. The "characteristics_" variants
# set each month's betas from the assets' characteristics (see BETA_MAPS).
VARIANTS = {
    "default": {},
    "linear": {
        "nonlinearity": 0.0,
        "stress_market_vol": 1.0,
        "stress_style_vol": 1.0,
        "stress_idio_vol": 1.0,
        "garch_alpha": 0.0,
        "garch_beta": 0.0,
        "n_volatility_bursts": 0,
    },
    "strongly_nonlinear": {"nonlinearity": 3.0},
    "event_rich": {"n_sector_shocks": 40, "n_volatility_bursts": 24, "n_momentum_crashes": 20, "n_rates_moves": 40},
    "characteristics_linear": {"beta_map": "linear", "nonlinearity": 0.0},
    "characteristics_nonlinear": {"beta_map": "nonlinear", "nonlinearity": 0.0},
}
# Where betas come from: "sectors" (the default: sector tilts, shifted by the regime) or a
# map of each asset's lagged monthly characteristics (helpers.data.characteristics), linear
# or not. The two "characteristics_" variants above use the maps with the regime shift and
# the interaction off, so that returns are the betas times the factors plus noise.
BETA_MAPS = ("sectors", "linear", "nonlinear")


MIN_DAYS = 100  # the shortest simulation that leaves every split days to train and test on


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    n_assets: int = 60
    n_days: int = 2520
    n_factors: int = 4
    n_sectors: int = 6
    start: str = "2012-01-02"
    stay_calm: float = 0.99
    stay_stress: float = 0.96
    market_vol: float = 0.009  # daily, calm regime
    style_vol: float = 0.007  # daily, calm regime
    stress_market_vol: float = 2.5  # multiplier in stress
    stress_style_vol: float = 1.5
    stress_beta: float = 1.3  # market loadings are multiplied by stress_beta**nonlinearity in stress
    stress_style_loading: float = 0.7  # style loadings by stress_style_loading**nonlinearity
    garch_alpha: float = 0.06
    garch_beta: float = 0.92
    interaction: float = 0.003  # times nonlinearity: daily scale of the market x rates interaction
    nonlinearity: float = 1.0  # 0: no interaction, loadings that do not move with the regime
    idio_vol_low: float = 0.006
    idio_vol_high: float = 0.012
    stress_idio_vol: float = 1.3
    tail_df: float = 4.0
    n_anomalies: int = 30
    anomaly_shock: float = 5.0  # idiosyncratic standard deviations
    anomaly_drift: float = -0.004  # daily log return during an episode
    anomaly_days: int = 20
    anomaly_vol: float = 2.0  # idiosyncratic volatility multiplier during an episode
    n_sector_shocks: int = 6
    sector_shock: float = 0.04  # return of every stock of the sector on the day, either sign
    n_volatility_bursts: int = 4
    burst_vol: float = 2.5  # market factor volatility multiplier during a burst
    n_momentum_crashes: int = 3
    momentum_crash: float = 0.08  # return past winners give back (and losers gain) over a crash
    n_rates_moves: int = 6
    rates_move: float = 4.0  # rates factor standard deviations, either sign
    variance_premium: float = 1.2  # implied over forecast variance in the VIX-like index
    vix_noise: float = 0.1  # standard deviation of the VIX-like index's log pricing noise
    beta_map: str = "sectors"  # or "linear", "nonlinear": betas from lagged monthly characteristics
    n_characteristics: int = 6  # used by the characteristics maps only
    characteristic_persistence: float = 0.9  # monthly AR(1) coefficient of each latent characteristic
    seed: int = 0

    def __post_init__(self) -> None:
        for name, minimum in (("n_assets", 1), ("n_days", MIN_DAYS), ("n_factors", 2), ("n_sectors", 1),
                              ("n_anomalies", 0), ("anomaly_days", 1), ("n_sector_shocks", 0),
                              ("n_volatility_bursts", 0), ("n_momentum_crashes", 0), ("n_rates_moves", 0),
                              ("n_characteristics", 1), ("seed", 0)):
            object.__setattr__(self, name, as_count(getattr(self, name), name, minimum))
        checks = {
            "n_sectors": (self.n_sectors <= len(SECTORS), f"an integer in [1, {len(SECTORS)}]"),
            "n_assets": (self.n_assets >= self.n_sectors,
                         f"an integer >= n_sectors={self.n_sectors}, at least one asset in each sector"),
            "stay_calm": (0 < self.stay_calm < 1, "a probability in (0, 1)"),
            "stay_stress": (0 < self.stay_stress < 1, "a probability in (0, 1)"),
            "tail_df": (self.tail_df > 2, "a number > 2 (finite variance)"),
            "garch_alpha": (
                self.garch_alpha >= 0 and self.garch_beta >= 0 and self.garch_alpha + self.garch_beta < 1,
                "non-negative with garch_alpha + garch_beta < 1",
            ),
            "anomaly_days": (self.anomaly_days < self.n_days, "an integer in [1, n_days)"),
            "nonlinearity": (np.isfinite(self.nonlinearity) and self.nonlinearity >= 0, "a finite number >= 0"),
            "burst_vol": (self.burst_vol > 0, "a number > 0 (a volatility multiplier)"),
            "variance_premium": (self.variance_premium > 0, "a number > 0 (a variance ratio)"),
            "vix_noise": (self.vix_noise >= 0, "a number >= 0"),
            "beta_map": (self.beta_map in BETA_MAPS, f"one of {list(BETA_MAPS)}"),
            "characteristic_persistence": (0 <= self.characteristic_persistence < 1, "a number in [0, 1)"),
        }
        for name, (ok, accepted) in checks.items():
            if not ok:
                raise InputError(f"{name}={getattr(self, name)!r}; expected {accepted}")


@dataclass(frozen=True)
class SyntheticTruth:
    """What generated the synthetic market; indexed by every price day."""

    config: SyntheticConfig
    regimes: pd.Series  # 0 calm, 1 stress
    factors: pd.DataFrame  # realized factor returns f_t
    factor_vol: pd.DataFrame  # h_t
    loadings: dict[str, pd.DataFrame]  # regime name -> (assets x factors)
    interaction_loadings: pd.Series  # gamma
    interaction_scale: pd.Series  # s_t^int
    idio_vol: pd.DataFrame  # days x assets
    anomalies: pd.DataFrame  # days x assets, True inside a planted episode
    anomaly_episodes: pd.DataFrame  # asset, start, end
    events: pd.DataFrame  # type, start, end, assets, size: see helpers.data.events
    transition: pd.DataFrame
    # The characteristics variants only (else None), indexed by (month, asset): each month-end's
    # characteristics, from the month before the first on, and the betas that hold during each
    # month, set by the previous month-end's characteristics.
    characteristics: pd.DataFrame | None = None
    betas: pd.DataFrame | None = None

    def day_loadings(self, days: pd.DatetimeIndex) -> np.ndarray:
        """The true loadings on each day: its regime's, or its month's characteristic betas (D, N, K)."""
        if self.betas is None:
            stacked = np.stack([self.loadings[name].to_numpy() for name in REGIMES])  # (R, N, K)
            return stacked[self.regimes.loc[days].to_numpy()]
        n_assets = self.idio_vol.shape[1]
        monthly = self.betas.to_numpy().reshape(-1, n_assets, self.betas.shape[1])  # (months, N, K)
        months = self.betas.index.get_level_values("month").unique()
        return monthly[months.get_indexer(pd.DatetimeIndex(days).to_period("M"))]

    def conditional_covariance(self, days: pd.DatetimeIndex | None = None) -> np.ndarray:
        """Covariance of each day's returns given its regime and volatilities: (days, N, N)."""
        days = self.regimes.index if days is None else pd.DatetimeIndex(days)
        unknown = days.difference(self.regimes.index)
        if len(unknown):
            raise InputError(f"days outside the simulation, e.g. {unknown[0].date()}")
        loadings = self.day_loadings(days)  # (D, N, K)
        scaled = loadings * self.factor_vol.loc[days].to_numpy()[:, None, :]  # (D, N, K)
        cov = np.einsum("dnk,dmk->dnm", scaled, scaled)
        gamma = self.interaction_loadings.to_numpy()
        cov += self.interaction_scale.loc[days].to_numpy()[:, None, None] ** 2 * np.outer(gamma, gamma)
        idio = self.idio_vol.loc[days].to_numpy() ** 2
        cov[:, np.arange(idio.shape[1]), np.arange(idio.shape[1])] += idio
        return cov

    def gls_factors(self, returns: pd.DataFrame) -> pd.DataFrame:
        """The oracle's reading of each day's factors from its returns: a GLS regression on
        everything the simulator knows about the assets (the true loadings of the day's
        regime and the interaction loadings gamma), weighted by the true idiosyncratic
        variances. Only the factors are returned; the interaction's coefficient is not one."""
        days = pd.DatetimeIndex(returns.index)
        unknown = days.difference(self.regimes.index)
        if len(unknown) or list(returns.columns) != list(self.idio_vol.columns):
            raise InputError("gls_factors needs returns of the simulated assets on simulated days; got "
                             f"{len(unknown)} unknown days and columns {list(returns.columns)[:3]}...")
        loadings = self.day_loadings(days)  # (D, N, K)
        gamma = self.interaction_loadings.to_numpy()
        gamma_columns = np.broadcast_to(gamma[None, :, None], (len(days), len(gamma), 1))  # (D, N, 1)
        design = np.concatenate([loadings, gamma_columns], axis=2)  # (D, N, K + 1)
        weights = 1.0 / self.idio_vol.loc[days].to_numpy() ** 2  # (D, N)
        gram = np.einsum("dnk,dn,dnj->dkj", design, weights, design)  # (D, K + 1, K + 1)
        moments = np.einsum("dnk,dn,dn->dk", design, weights, returns.to_numpy())  # (D, K + 1)
        coefficients = np.linalg.solve(gram, moments[..., None])[..., 0]
        return pd.DataFrame(coefficients[:, : loadings.shape[2]], index=days, columns=self.factors.columns)
