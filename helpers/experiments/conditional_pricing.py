"""The conditional autoencoder chapter's pipeline: the autoencoder of Gu, Kelly and Xiu
against IPCA, PCA of returns, a characteristics-sorted factor model and, on a simulated
characteristics market, the oracle, on the same chronological months of one panel.

For every beta-network architecture, the conditional autoencoders of every number of factors
K and every seed train together as one ensemble through the one training loop, each member
stopping early on the validation months; the ensemble's fit is the mean of its
members' (as the paper averages its seeds). Every model is fitted on the training months
only and scored on the validation and test months; the architecture and K that a reader
should quote are chosen on validation months (`choose_on_validation`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from helpers.analysis.ipca import IPCA
from helpers.analysis.pricing import ReturnsPCA, SortedFactorModel, r2
from helpers.data import MarketSpec
from helpers.data.characteristics import CharacteristicPanel, characteristic_panel, monthly_returns
from helpers.data.market import MarketData
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
    market: MarketSpec = MarketSpec(source="synthetic", synthetic_variant="characteristics_nonlinear")
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


def run_pricing(config: PricingConfig = PricingConfig()) -> PricingStudy:
    return price_panel(config, config.market.load())


def price_panel(config: PricingConfig, market: MarketData) -> PricingStudy:
    """Every model of `config` on the panel of `market` (which `config.market` names in the book)."""
    panel = characteristic_panel(market)
    masks = panel.split(config.train_end, config.validation_end)
    if min(mask.sum() for mask in masks.values()) < 2:
        raise InputError(f"{len(panel.months)} months leave fewer than two in a split; give a longer market")
    instruments = with_constant(panel.characteristics)
    scale = float(panel.returns[masks["train"]].std())  # networks train on returns of unit size
    returns = panel.returns / scale
    scored = np.concatenate([np.flatnonzero(masks[name]) for name in SCORED])
    fits, member_rows, histories, betas = {}, [], {}, {}

    def record(name: str, k: int, total: np.ndarray, predictive: np.ndarray) -> None:
        fits[(name, k, "total")] = scale * total[scored].reshape(-1)
        fits[(name, k, "predictive")] = scale * predictive[scored].reshape(-1)

    train = masks["train"]
    sorted_columns = tuple(panel.names.index(name) for name in SORTED_ON) if set(SORTED_ON) <= set(panel.names) \
        else (0, 1)
    sorted_model = SortedFactorModel(sorted_columns).fit(panel.characteristics[train], returns[train])
    record("sorted factors", len(sorted_columns) + 1, sorted_model.fitted(panel.characteristics, returns),
           sorted_model.predicted(panel.characteristics))
    for k in config.factor_counts:
        if k + 1 > instruments.shape[2]:
            raise InputError(f"factor_counts has K={k}; expected at most {instruments.shape[2] - 1}, the "
                             "characteristics of the panel")
        for name, model in (("IPCA", IPCA(k)), ("PCA", ReturnsPCA(k))):
            model.fit(instruments[train], returns[train])
            record(name, k, model.fitted(instruments, returns), model.predicted(instruments))
            if name == "IPCA":
                betas[(name, k, 0)] = model.betas(instruments)
    for hidden in config.architectures:
        name = architecture_name(hidden)
        members, histories[hidden] = _train_members(instruments, returns, masks, hidden, config)
        for k in config.factor_counts:
            outputs = [_member_fits(members[(k, seed)], instruments, returns, train, k) for seed in config.seeds]
            record(name, k, np.mean([o["total"] for o in outputs], axis=0),
                   np.mean([o["predictive"] for o in outputs], axis=0))
            for seed, output in zip(config.seeds, outputs, strict=True):
                betas[(name, k, seed)] = output["betas"]
                member_rows += [{"model": name, "K": k, "seed": seed, "split": split, "measure": kind,
                                 "R2": r2(returns[masks[split]], output[kind][masks[split]])}
                                for split in SCORED for kind in ("total", "predictive")]
    truth = market.truth
    beta_match = None
    if truth is not None and truth.betas is not None:
        true_betas, true_factors = true_panel(truth, panel)
        record("oracle", true_betas.shape[2], np.einsum("mnk,mk->mn", true_betas, true_factors) / scale,
               true_betas @ true_factors[train].mean(axis=0) / scale)
        beta_match = _beta_match(betas, true_betas, masks["test"])
    index = pd.MultiIndex.from_tuples(list(fits), names=["model", "K", "fit"])
    return PricingStudy(config, panel, masks, scored, pd.DataFrame(list(fits.values()), index=index),
                        pd.DataFrame(member_rows), beta_match, histories)


def _train_members(instruments, returns, masks, hidden, config: PricingConfig):
    """Every K and seed of one architecture as one ensemble: each member is as wide as the
    largest K and reconstructs with its own K factors, so all share one shape."""
    widest, members = max(config.factor_counts), {}
    for k in config.factor_counts:
        for seed in config.seeds:
            torch.manual_seed(seed)
            members[(k, seed)] = ConditionalAutoencoder(ConditionalAEConfig(
                n_characteristics=instruments.shape[2], n_factors=widest, active_factors=k, hidden_sizes=hidden))
    ensemble = Ensemble(list(members.values()))

    def stacked(split):  # (months, members, ...): every member sees the same months
        return [np.repeat(values[masks[split]][:, None], len(members), axis=1) for values in (instruments, returns)]

    history = fit(ensemble, stacked("train"), stacked("validation"), config.train)
    ensemble.cpu()
    return {key: ensemble.member(number) for number, key in enumerate(members)}, history


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
