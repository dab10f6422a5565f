"""A simulated market whose ground truth is known, so every method can be scored against it.

Each day t has a regime s_t (a two-state Markov chain: calm, stress) and standard normal
factor shocks e_t. Asset returns are

    r_t = B[s_t] f_t + s_t^int * gamma * e_t^market * e_t^rates + eps_t + a_t + v_t,
    f_t = mu[s_t] + h_t * e_t + j_t,

where B[s] are regime-dependent loadings (in stress, market betas are multiplied by
stress_beta**nonlinearity and style loadings by stress_style_loading**nonlinearity; a
style loading is the stock's sector tilt plus its own deviation), h_t are factor
volatilities (a regime level times a GARCH(1,1) multiplier on the market factor, times the
planted volatility bursts), s_t^int = nonlinearity * interaction * h_t^market / market_vol
scales the product of the market and rates shocks, the nonlinear interaction that no linear
factor model can represent, eps_t is Student-t idiosyncratic noise, a_t the planted anomaly
episodes (a one-day idiosyncratic crash followed by a negative drift), and j_t and v_t the
planted events (rates moves in the factors; sector shocks and momentum crashes in the
returns; see `helpers.data.events`). One scalar, `nonlinearity`, turns everything that a
constant linear factor model misses up or down together, from 0 (none) through 1 (the
default). Given s_t and h_t, the conditional covariance of r_t is exactly
B h^2 B' + (s^int)^2 gamma gamma' + diag(idiosyncratic variance); the events and anomalies
shift means, not covariances.

The observable indicators never read the same day's regime: the VIX-like index is a
forecast of the index's variance from its past returns (exponentially weighted, as
RiskMetrics does), times a variance premium, priced with persistent noise; the
yield-slope-like series moves with the rates factor's shock and jumps (which do not depend
on the regime) and drifts towards a level set by the previous day's regime.
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from helpers.data.assemble import assemble_market
from helpers.data.calendar import TRADING_DAYS
from helpers.data.characteristics import simulate_characteristics
from helpers.data.events import add_return_events, burst_multiplier, draw_event_days, event_table, rates_jumps
from helpers.data.market import MarketData, describe_indicators
from helpers.data.truth import MARKET, RATES, REGIMES, SECTORS, SyntheticConfig, SyntheticTruth
from helpers.validate import InputError

RISKMETRICS_DECAY = 0.94  # weight of yesterday's variance forecast in the VIX-like index


def simulate(config: SyntheticConfig | None = None) -> MarketData:
    """Simulate the market described in the module docstring; deterministic in `config.seed`.

    The random draws do not depend on `nonlinearity` or on the events' sizes, so markets
    that differ only in those share their regimes, shocks, loadings and noise.
    """
    cfg = config or SyntheticConfig()
    rng = np.random.default_rng(cfg.seed)
    n, k, t = cfg.n_assets, cfg.n_factors, cfg.n_days
    days = pd.bdate_range(cfg.start, periods=t, name="date")

    transition = np.array([[cfg.stay_calm, 1 - cfg.stay_calm], [1 - cfg.stay_stress, cfg.stay_stress]])
    regimes = _markov_chain(transition, t, rng)
    stress = regimes == 1

    sectors = np.sort(np.arange(n) % cfg.n_sectors)
    sector_names = [SECTORS[s] for s in sectors]
    tickers = [f"{SECTORS[s][:3].upper()}{i:02d}" for i, s in enumerate(sectors)]
    factor_names = ["market", "rates"] + [f"style_{j}" for j in range(2, k)]

    calm_loadings = np.empty((n, k))
    calm_loadings[:, MARKET] = rng.uniform(0.7, 1.3, n)
    sector_centres = _sector_tilts(rng.normal(0.0, 1.0, (cfg.n_sectors, k - 1)))
    calm_loadings[:, 1:] = sector_centres[sectors] + rng.normal(0.0, 0.15, (n, k - 1))
    stress_loadings = calm_loadings.copy()
    stress_loadings[:, MARKET] *= cfg.stress_beta**cfg.nonlinearity
    stress_loadings[:, 1:] *= cfg.stress_style_loading**cfg.nonlinearity

    drawn_events = draw_event_days(cfg, rng)
    shocks = rng.standard_normal((t, k))
    regime_vol = np.full((t, k), cfg.style_vol)
    regime_vol[:, MARKET] = cfg.market_vol
    regime_vol[stress, MARKET] *= cfg.stress_market_vol
    regime_vol[stress, 1:] *= cfg.stress_style_vol
    garch = _garch_multiplier(shocks[:, MARKET], cfg.garch_alpha, cfg.garch_beta)
    factor_vol = regime_vol.copy()
    factor_vol[:, MARKET] *= garch * burst_multiplier(drawn_events, t)
    drift = np.where(stress, -0.0015, 0.0004)
    factors = factor_vol * shocks
    factors[:, MARKET] += drift
    rates_news = shocks[:, RATES] + rates_jumps(drawn_events, t)  # standard deviations; no regime in it
    factors[:, RATES] = factor_vol[:, RATES] * rates_news

    loadings = np.where(stress[:, None, None], stress_loadings, calm_loadings)  # (T, N, K)
    panel = None
    if cfg.beta_map != "sectors":  # its own random stream: the draws above stay those of the default
        months = days.to_period("M")
        month_index = pd.PeriodIndex(months.unique())
        characteristics, betas, _ = simulate_characteristics(
            len(month_index), n, cfg.n_characteristics, k, cfg.characteristic_persistence, cfg.beta_map,
            np.random.default_rng([cfg.seed, 1]))
        loadings = betas[month_index.get_indexer(months)]  # (T, N, K): each day its month's betas
        calm_loadings, stress_loadings = (loadings[regimes == r].mean(axis=0) for r in range(len(REGIMES)))
        panel = _panel_frames(characteristics, betas, month_index, tickers, factor_names)
    systematic = np.einsum("tnk,tk->tn", loadings, factors)
    gamma = rng.normal(0.0, 1.0, n)
    interaction_scale = cfg.nonlinearity * cfg.interaction * factor_vol[:, MARKET] / cfg.market_vol
    interaction = (interaction_scale * shocks[:, MARKET] * shocks[:, RATES])[:, None] * gamma

    idio_vol = np.broadcast_to(rng.uniform(cfg.idio_vol_low, cfg.idio_vol_high, n), (t, n)).copy()
    idio_vol[stress] *= cfg.stress_idio_vol
    anomalies, episodes, anomaly_returns = _plant_anomalies(cfg, idio_vol, rng)
    idio_vol[anomalies] *= cfg.anomaly_vol
    unit_t = rng.standard_t(cfg.tail_df, (t, n)) / np.sqrt(cfg.tail_df / (cfg.tail_df - 2))
    returns, crash_assets = add_return_events(
        drawn_events, systematic + interaction + idio_vol * unit_t + anomaly_returns, sectors
    )

    prices = pd.DataFrame(100 * np.exp(np.cumsum(returns, axis=0)), index=days, columns=tickers)
    simple = np.expm1(returns).mean(axis=1)
    benchmark = pd.Series(100 * np.cumprod(1 + simple), index=days, name="INDEX")

    observed, observed_info = _observable_indicators(
        cfg, regimes, np.log1p(simple), rates_news, days, rng
    )
    truth = SyntheticTruth(
        config=cfg,
        regimes=pd.Series(regimes, index=days, name="regime"),
        factors=pd.DataFrame(factors, index=days, columns=factor_names),
        factor_vol=pd.DataFrame(factor_vol, index=days, columns=factor_names),
        loadings={
            "calm": pd.DataFrame(calm_loadings, index=tickers, columns=factor_names),
            "stress": pd.DataFrame(stress_loadings, index=tickers, columns=factor_names),
        },
        interaction_loadings=pd.Series(gamma, index=tickers, name="gamma"),
        interaction_scale=pd.Series(interaction_scale, index=days, name="interaction_scale"),
        idio_vol=pd.DataFrame(idio_vol, index=days, columns=tickers),
        anomalies=pd.DataFrame(anomalies, index=days, columns=tickers),
        anomaly_episodes=pd.DataFrame(
            [(tickers[a], days[s], days[e - 1]) for a, s, e in episodes], columns=["asset", "start", "end"]
        ),
        events=event_table(drawn_events, sectors, crash_assets, days, tickers),
        transition=pd.DataFrame(transition, index=list(REGIMES), columns=list(REGIMES)),
        **(panel or {}),
    )
    return assemble_market(
        prices,
        benchmark,
        observed,
        observed_info,
        assets=pd.DataFrame({"asset_class": "equity", "sector": sector_names}, index=tickers),
        source="synthetic",
        notes=(f"simulated with {asdict(cfg)}",),
        truth=truth,
    )


def _panel_frames(characteristics, betas, months, tickers, factor_names) -> dict[str, pd.DataFrame]:
    """The characteristics (from the month before the first) and the betas as (month, asset) frames."""
    observed = pd.PeriodIndex([months[0] - 1, *months], name="month")

    def frame(values, index, columns):
        rows = pd.MultiIndex.from_product([index, tickers], names=["month", "asset"])
        return pd.DataFrame(values.reshape(-1, values.shape[-1]), index=rows, columns=columns)

    names = [f"char_{number + 1}" for number in range(characteristics.shape[-1])]
    return {"characteristics": frame(characteristics, observed, names),
            "betas": frame(betas, months.rename("month"), factor_names)}


def _sector_tilts(draws: np.ndarray) -> np.ndarray:
    """Sectors' mean style loadings: centred, with orthogonal unit-variance columns when
    there are enough sectors, so that every style factor can be told apart from the others
    in the cross-section (random tilts are often nearly collinear)."""
    n_sectors, n_styles = draws.shape
    if n_sectors <= n_styles:
        return draws
    orthonormal, _ = np.linalg.qr(draws - draws.mean(axis=0))
    return orthonormal * np.sqrt(n_sectors)


def _markov_chain(transition: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    leave_calm, leave_stress = transition[0, 1], transition[1, 0]
    uniforms = rng.random(length)
    states = np.empty(length, dtype=int)
    states[0] = int(uniforms[0] > leave_stress / (leave_calm + leave_stress))
    for day in range(1, length):
        states[day] = int(uniforms[day] > transition[states[day - 1], 0])
    return states


def _garch_multiplier(shocks: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """sqrt of a unit-mean GARCH(1,1) variance driven by the given shocks; known one day ahead."""
    variance = np.empty(len(shocks))
    variance[0] = 1.0
    for day in range(1, len(shocks)):
        previous = variance[day - 1]
        variance[day] = (1 - alpha - beta) + alpha * previous * shocks[day - 1] ** 2 + beta * previous
    return np.sqrt(variance)


def _plant_anomalies(cfg: SyntheticConfig, idio_vol: np.ndarray, rng: np.random.Generator):
    """Idiosyncratic crashes followed by a drift, never overlapping on one asset."""
    t, n = idio_vol.shape
    flags = np.zeros((t, n), dtype=bool)
    returns = np.zeros((t, n))
    episodes: list[tuple[int, int, int]] = []
    attempts = 0
    while len(episodes) < cfg.n_anomalies:
        attempts += 1
        if attempts > 100 * max(cfg.n_anomalies, 1):
            raise InputError(
                f"cannot place n_anomalies={cfg.n_anomalies} episodes of {cfg.anomaly_days} days "
                f"without overlap in {t} days x {n} assets; ask for fewer"
            )
        asset = int(rng.integers(n))
        start = int(rng.integers(0, t - cfg.anomaly_days))
        end = start + cfg.anomaly_days
        if flags[max(start - cfg.anomaly_days, 0) : end + cfg.anomaly_days, asset].any():
            continue
        flags[start:end, asset] = True
        returns[start, asset] = -cfg.anomaly_shock * idio_vol[start, asset]
        returns[start + 1 : end, asset] = cfg.anomaly_drift
        episodes.append((asset, start, end))
    return flags, sorted(episodes, key=lambda e: (e[1], e[0])), returns


def _observable_indicators(cfg, regimes, index_returns, rates_news, days, rng):
    """Indicators that use the past and independent noise only (see the module docstring).

    `index_returns` are the index's daily log returns, used from the next day on;
    `rates_news` the rates factor's shock and planted jumps in standard deviations, which
    do not depend on the regime; the slope's drift target is set by the previous day's regime.
    """
    pricing_noise = _ar1(0.9, len(days), rng)
    forecast = np.empty(len(days))
    forecast[0] = cfg.market_vol**2
    for day in range(1, len(days)):
        forecast[day] = RISKMETRICS_DECAY * forecast[day - 1] + (1 - RISKMETRICS_DECAY) * index_returns[day - 1] ** 2
    vix = 100 * np.sqrt(TRADING_DAYS * cfg.variance_premium * forecast) * np.exp(cfg.vix_noise * pricing_noise)
    slope = np.empty(len(days))
    slope[0] = 1.5
    target = np.where(regimes == 1, 0.3, 1.5)
    for day in range(1, len(days)):
        slope[day] = (
            slope[day - 1]
            + 0.01 * (target[day - 1] - slope[day - 1])
            + 0.04 * rates_news[day]
            + 0.01 * rng.standard_normal()
        )
    frame = pd.DataFrame({"vix_like": vix, "yield_slope_like": slope}, index=days)
    info = describe_indicators(
        {
            "vix_like": (
                "implied-volatility-like index, %: a forecast of the index's volatility from its past returns, "
                "with a variance premium and pricing noise",
                "simulated",
                "synthetic",
            ),
            "yield_slope_like": (
                "yield-curve-slope-like series, % points; moves with the rates factor",
                "simulated",
                "synthetic",
            ),
        }
    )
    return frame, info


def _ar1(persistence: float, length: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-variance AR(1) path."""
    path = np.empty(length)
    path[0] = rng.standard_normal()
    for day in range(1, length):
        path[day] = persistence * path[day - 1] + np.sqrt(1 - persistence**2) * rng.standard_normal()
    return path
