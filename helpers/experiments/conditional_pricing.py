"""The conditional autoencoder chapter's pipeline: the autoencoder of Gu, Kelly and Xiu
against IPCA, PCA of returns, a characteristics-sorted factor model and, on a simulated
characteristics market, the oracle, on the same chronological months of one panel.

For every beta-network architecture, the conditional autoencoders of every number of factors
K and every seed train together as one ensemble through the one training loop, each member
stopping early on the validation months; the ensemble's fit is the mean of its
members' (as the paper averages its seeds). Every model is fitted on the training months
only and scored on the validation and test months; the architecture and K that a reader
should quote are chosen on validation months (`choose_on_validation`).

`price_panels` prices many panels of one shape at once, their networks of one architecture
trained as one ensemble: panels of simulated markets (with their truth, for the oracle),
of prices, or the reader's own (`helpers.data.panel`). `market_scores` gives each
market's numbers for a comparison repeated over markets.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from helpers.analysis.ipca import IPCA
from helpers.analysis.pricing import ReturnsPCA, SortedFactorModel, r2
from helpers.data import MarketSpec
from helpers.data.characteristics import CharacteristicPanel, characteristic_panel, monthly_returns
from helpers.data.market import MarketData
from helpers.data.truth import SyntheticTruth
from helpers.models.conditional_ae import ConditionalAEConfig, ConditionalAutoencoder
from helpers.models.ensemble import Ensemble
from helpers.train import History, TrainConfig, fit
from helpers.validate import InputError, as_count

SCORED = ("validation", "test")
# The sorted factors: long-short on these characteristics where the panel has them (prices),
# else on its first two (the simulated characteristics are not named for what they are).
SORTED_ON = ("momentum_12_2", "volatility_1")


@dataclass(frozen=True, kw_only=True)
class PricingConfig:
    """How a panel is priced: its splits, the models and their training."""
    train_end: float = 0.6
    validation_end: float = 0.8
    factor_counts: tuple[int, ...] = (1, 2, 3, 5)
    architectures: tuple[tuple[int, ...], ...] = ((), (32,), (32, 16))  # beta networks; () is linear
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=500, batch_size=128, learning_rate=1e-2, patience=20, description="conditional autoencoder"))

    def __post_init__(self) -> None:
        for name in ("factor_counts", "seeds"):
            values = tuple(as_count(value, name, 0 if name == "seeds" else 1) for value in getattr(self, name))
            if not values:
                raise InputError(f"{name} is empty; give at least one")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "architectures", tuple(tuple(sizes) for sizes in self.architectures))
        if not self.architectures:
            raise InputError("architectures is empty; give at least one, such as [] (linear) or [32]")


@dataclass(frozen=True)
class PricingStudy:
    """Every model's fit of the validation and test months, and what it was fitted on."""

    config: PricingConfig
    panel: CharacteristicPanel
    masks: dict[str, np.ndarray]  # train, validation, test: boolean over the panel's months
    scored: np.ndarray  # positions of the months that `fits` cover: the validation, then the test months
    fits: pd.DataFrame  # (model, K, fit) x scored month-asset: "total" and "predictive" fits
    members: pd.DataFrame  # each conditional autoencoder member's R2: architecture, K, seed, split, measure
    beta_match: pd.DataFrame | None  # model, K, seed: R2 of the true betas on the learned ones (test months)
    histories: dict[tuple[int, ...], History]  # architecture -> its ensemble's training record

    def returns(self, split: str) -> np.ndarray:
        return self.panel.returns[self.masks[split]]

    def fit_of(self, model: str, k: int, kind: str, split: str) -> np.ndarray:
        """A model's (months, assets) fit of one scored split: kind "total" or "predictive"."""
        if split not in SCORED:
            raise InputError(f"split={split!r}; expected one of {list(SCORED)}, the months models are scored on")
        fitted = self.fits.loc[(model, k, kind)].to_numpy().reshape(len(self.scored), -1)
        return fitted[self.masks[split][self.scored]]

    def scores(self, split: str = "test") -> pd.DataFrame:
        """Total and predictive R2 of every model at every K on one split: (model, K) x measure."""
        rows = {(model, k): {kind: r2(self.returns(split), self.fit_of(model, k, kind, split))
                             for kind in ("total", "predictive")}
                for model, k in self.fits.index.droplevel("fit").unique()}
        return pd.DataFrame(rows).T.rename_axis(["model", "K"])

    def choose_on_validation(self, prefix: str = "conditional AE") -> tuple[str, int]:
        """The conditional autoencoder's (architecture, K) with the best validation total R2."""
        validation = self.scores("validation")["total"]
        candidates = validation[validation.index.get_level_values("model").str.startswith(prefix)]
        return candidates.idxmax()


def architecture_name(hidden_sizes: tuple[int, ...]) -> str:
    return "conditional AE, linear" if not hidden_sizes else f"conditional AE, {list(hidden_sizes)}"


def with_constant(characteristics: np.ndarray) -> np.ndarray:
    """The characteristics and a column of ones, as IPCA and the conditional autoencoder both take them."""
    return np.concatenate([characteristics, np.ones((*characteristics.shape[:2], 1))], axis=-1)


@dataclass(frozen=True, kw_only=True)
class PricingRun:
    """One market's pricing as a cached stage: the market, and how to price its panel."""
    market: MarketSpec = MarketSpec(source="synthetic", synthetic_variant="characteristics_nonlinear")
    pricing: PricingConfig = PricingConfig()


def run_pricing(run: PricingRun = PricingRun()) -> PricingStudy:
    return price_market(run.pricing, run.market.load())


def price_market(config: PricingConfig, market: MarketData) -> PricingStudy:
    """Every model of `config` on the panel of `market`, with its truth where it has one."""
    return price_markets(config, [market])[0]


def price_markets(config: PricingConfig, markets: Sequence[MarketData]) -> list[PricingStudy]:
    """`price_panels` on the markets' panels (`characteristic_panel`), with their truths."""
    return price_panels(config, [characteristic_panel(market) for market in markets],
                        [market.truth for market in markets])


def price_panels(config: PricingConfig, panels: Sequence[CharacteristicPanel],
                 truths: Sequence[SyntheticTruth | None] | None = None) -> list[PricingStudy]:
    """Every model of `config` on each panel, as it would be fitted alone; the oracle and the
    beta match where a panel's truth (a simulated market's) knows the true betas.

    A finding about a kind of market is measured over many markets of it; their networks of
    one architecture train as one ensemble (every market, K and seed a member), so that many
    markets cost little more than one. The panels must share their shape (assets, months).
    """
    if not panels:
        raise InputError("panels is empty; give at least one panel to price")
    truths = [None] * len(panels) if truths is None else list(truths)
    if len(truths) != len(panels):
        raise InputError(f"{len(truths)} truths for {len(panels)} panels; give one per panel (None where unknown)")
    panels = [_Panel.of(panel, config) for panel in panels]
    shapes = {(panel.panel.returns.shape, panel.panel.characteristics.shape[2]) for panel in panels}
    if len(shapes) > 1:
        raise InputError(f"the panels have shapes {sorted(shapes)}; panels priced together must share "
                         "their months, assets and characteristics (price the others one at a time)")
    for panel in panels:
        panel.fit_baselines(config)
    instruments = np.stack([panel.instruments for panel in panels])  # (markets, months, N, L)
    returns = np.stack([panel.returns for panel in panels])  # (markets, months, N)
    histories = {}
    for hidden in config.architectures:
        members, histories[hidden] = _train_members(instruments, returns, panels[0].masks, hidden, config)
        for number, panel in enumerate(panels):
            panel.record_network(architecture_name(hidden), {key[1:]: model for key, model in members.items()
                                                             if key[0] == number}, config)
    return [panel.study(config, truth, histories) for panel, truth in zip(panels, truths, strict=True)]


@dataclass
class _Panel:
    """One market's panel while its models are fitted: the scaled returns and what each model gives."""

    panel: CharacteristicPanel
    masks: dict[str, np.ndarray]
    instruments: np.ndarray  # (months, N, L): the characteristics and a constant
    scale: float  # the training months' return volatility; networks train on returns of unit size
    returns: np.ndarray  # (months, N), divided by scale
    scored: np.ndarray
    fits: dict = field(default_factory=dict)
    betas: dict = field(default_factory=dict)
    member_rows: list = field(default_factory=list)

    @classmethod
    def of(cls, panel: CharacteristicPanel, config: PricingConfig) -> _Panel:
        masks = panel.split(config.train_end, config.validation_end)
        if min(mask.sum() for mask in masks.values()) < 2:
            raise InputError(f"{len(panel.months)} months leave fewer than two in a split; give a longer market")
        instruments = with_constant(panel.characteristics)
        for k in config.factor_counts:
            if k + 1 > instruments.shape[2]:
                raise InputError(f"factor_counts has K={k}; expected at most {instruments.shape[2] - 1}, the "
                                 "characteristics of the panel")
            if k >= len(panel.assets):
                raise InputError(f"factor_counts has K={k} but the panel has {len(panel.assets)} assets; expected "
                                 "fewer factors than assets, or a panel of more assets")
        scale = float(panel.returns[masks["train"]].std())
        scored = np.concatenate([np.flatnonzero(masks[name]) for name in SCORED])
        return cls(panel, masks, instruments, scale, panel.returns / scale, scored)

    def record(self, name: str, k: int, total: np.ndarray, predictive: np.ndarray) -> None:
        self.fits[(name, k, "total")] = self.scale * total[self.scored].reshape(-1)
        self.fits[(name, k, "predictive")] = self.scale * predictive[self.scored].reshape(-1)

    def fit_baselines(self, config: PricingConfig) -> None:
        """The sorted-factor model, and IPCA and PCA at every K, on the training months."""
        panel, train, returns = self.panel, self.masks["train"], self.returns
        sorted_columns = tuple(panel.names.index(name) for name in SORTED_ON) if set(SORTED_ON) <= set(panel.names) \
            else (0, 1)
        sorted_model = SortedFactorModel(sorted_columns).fit(panel.characteristics[train], returns[train])
        self.record("sorted factors", len(sorted_columns) + 1, sorted_model.fitted(panel.characteristics, returns),
                    sorted_model.predicted(panel.characteristics))
        for k in config.factor_counts:
            for name, model in (("IPCA", IPCA(k)), ("PCA", ReturnsPCA(k))):
                model.fit(self.instruments[train], returns[train])
                self.record(name, k, model.fitted(self.instruments, returns), model.predicted(self.instruments))
                if name == "IPCA":
                    self.betas[(name, k, 0)] = model.betas(self.instruments)

    def record_network(self, name: str, members: dict, config: PricingConfig) -> None:
        """One architecture's members of this market, (K, seed) -> model: the seeds' mean fit, each seed's R2."""
        train = self.masks["train"]
        for k in config.factor_counts:
            outputs = [_member_fits(members[(k, seed)], self.instruments, self.returns, train, k)
                       for seed in config.seeds]
            self.record(name, k, np.mean([o["total"] for o in outputs], axis=0),
                        np.mean([o["predictive"] for o in outputs], axis=0))
            for seed, output in zip(config.seeds, outputs, strict=True):
                self.betas[(name, k, seed)] = output["betas"]
                self.member_rows += [{"model": name, "K": k, "seed": seed, "split": split, "measure": kind,
                                      "R2": r2(self.returns[self.masks[split]], output[kind][self.masks[split]])}
                                     for split in SCORED for kind in ("total", "predictive")]

    def study(self, config: PricingConfig, truth, histories: dict) -> PricingStudy:
        """The oracle and the beta match where the market has a truth, then the study."""
        beta_match = None
        if truth is not None and truth.betas is not None:
            true_betas, true_factors = true_panel(truth, self.panel)
            self.record("oracle", true_betas.shape[2],
                        np.einsum("mnk,mk->mn", true_betas, true_factors) / self.scale,
                        true_betas @ true_factors[self.masks["train"]].mean(axis=0) / self.scale)
            beta_match = _beta_match(self.betas, true_betas, self.masks["test"])
        index = pd.MultiIndex.from_tuples(list(self.fits), names=["model", "K", "fit"])
        return PricingStudy(config, self.panel, self.masks, self.scored,
                            pd.DataFrame(list(self.fits.values()), index=index), pd.DataFrame(self.member_rows),
                            beta_match, histories)


def _train_members(instruments, returns, masks, hidden, config: PricingConfig):
    """Every market's K and seed of one architecture as one ensemble: each member is as wide
    as the largest K and reconstructs with its own K factors, so all share one shape, and
    each reads its own market's months. `instruments` and `returns` put the market first:
    (markets, months, N, L) and (markets, months, N). Returns (market, K, seed) -> model."""
    widest, members = max(config.factor_counts), {}
    for market in range(len(instruments)):
        for k in config.factor_counts:
            for seed in config.seeds:
                torch.manual_seed(seed)
                members[(market, k, seed)] = ConditionalAutoencoder(ConditionalAEConfig(
                    n_characteristics=instruments.shape[3], n_factors=widest, active_factors=k, hidden_sizes=hidden))
    ensemble = Ensemble(list(members.values()))
    markets = [market for market, _, _ in members]

    def stacked(split):  # (months, members, ...): each member sees its own market's months
        return [np.stack([values[market][masks[split]] for market in markets], axis=1)
                for values in (instruments, returns)]

    history = fit(ensemble, stacked("train"), stacked("validation"), config.train)
    ensemble.cpu()
    return {key: ensemble.member(number) for number, key in enumerate(members)}, history


def market_scores(study: PricingStudy, model: str, k: int) -> pd.Series:
    """One market's test numbers for a comparison repeated over markets: the total and
    predictive R2 of `model` at K (the mean of its seeds' fits, and the mean of its single
    seeds' R2), of the linear autoencoder and IPCA at the same K and of the oracle; and, where
    the market has a truth, how much of the true betas `model` (mean over seeds) and IPCA span."""
    scores = study.scores("test")
    linear = architecture_name(())
    members = study.members.query("split == 'test'")
    oracle = [key for key in scores.index if key[0] == "oracle"]
    row = {}
    for kind in ("total", "predictive"):
        row[f"{kind} R2, {model}"] = scores.loc[(model, k), kind]
        for name in dict.fromkeys((model, linear)):
            if (name, k) in scores.index:
                single = members.query("model == @name and K == @k and measure == @kind")["R2"]
                row[f"{kind} R2, {name}, single seeds"] = single.mean()
        if (linear, k) in scores.index:
            row[f"{kind} R2, {linear}"] = scores.loc[(linear, k), kind]
        row[f"{kind} R2, IPCA"] = scores.loc[("IPCA", k), kind]
        row[f"{kind} R2, oracle"] = scores.loc[oracle[0], kind] if oracle else np.nan
    if study.beta_match is not None:
        spans = study.beta_match.query("K == @k").groupby("model")["beta R2"].mean()
        row |= {f"beta R2, {model}": spans[model], "beta R2, IPCA": spans["IPCA"]}
    return pd.Series(row, dtype=float)


@torch.no_grad()
def _member_fits(model: ConditionalAutoencoder, instruments, returns, train, k: int) -> dict[str, np.ndarray]:
    output = model(torch.as_tensor(instruments, dtype=torch.float32), torch.as_tensor(returns, dtype=torch.float32))
    betas = output.betas.numpy().astype(float)[..., :k]  # the factors past K are zero
    factors = output.factors.numpy().astype(float)[:, :k]
    return {"betas": betas, "total": output.reconstruction.numpy().astype(float),
            "predictive": betas @ factors[train].mean(axis=0)}


def true_panel(truth, panel: CharacteristicPanel) -> tuple[np.ndarray, np.ndarray]:
    """The true betas (months, N, K) and monthly factors (months, K) of the panel's months."""
    n_factors = truth.betas.shape[1]
    betas = truth.betas.loc[list(panel.months)].to_numpy().reshape(len(panel.months), -1, n_factors)
    factors = monthly_returns(truth.factors.iloc[1:]).reindex(panel.months).to_numpy()  # the days that have returns
    return betas, factors


def _beta_match(learned: dict, true_betas: np.ndarray, test: np.ndarray) -> pd.DataFrame:
    """How much of the true betas' variation over test month-assets each model's betas span:
    the R2 of regressing each true beta on the learned ones (with a constant), averaged."""
    target = true_betas[test].reshape(-1, true_betas.shape[2])
    rows = []
    for (model, k, seed), values in learned.items():
        design = np.column_stack([np.ones(len(target)), values[test].reshape(len(target), -1)])
        residual = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
        explained = 1 - (residual**2).sum(axis=0) / ((target - target.mean(axis=0)) ** 2).sum(axis=0)
        rows.append({"model": model, "K": k, "seed": seed, "beta R2": float(explained.mean())})
    return pd.DataFrame(rows)
