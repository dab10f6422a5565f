"""The conditional autoencoder of Gu, Kelly and Xiu ("Autoencoder asset pricing models",
2021): a beta network maps each asset's lagged characteristics to its K factor loadings, a
factor network maps the month's characteristic-managed portfolio returns to K factors, and
each return is reconstructed as beta times factor:

    r_{i,t} = beta(z_{i,t-1})' f_t + e_{i,t},   f_t = W x_t,   x_t = (Z' Z)^{-1} Z' r_t.

x_t regresses the month's returns on the characteristics (with a constant): the return of
one portfolio per characteristic. With no hidden layer the beta network is linear and the
model is IPCA's (helpers.analysis.ipca); hidden layers let betas bend with interactions and
thresholds of the characteristics.

`active_factors` lets models with different K share one shape, so that they train as one
ensemble: the networks are `n_factors` wide and only the first `active_factors` factors
enter the reconstruction, which is exactly a model with that many factors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from helpers.models.layers import check_architecture, check_positive, mlp
from helpers.validate import InputError, as_count


@dataclass(frozen=True, kw_only=True)
class ConditionalAEConfig:
    n_characteristics: int  # including the constant, if the data carry one
    n_factors: int = 3
    active_factors: int | None = None  # the K that counts, at most n_factors; None: all of them
    hidden_sizes: tuple[int, ...] = (32,)  # of the beta network; () is the linear (IPCA) case
    activation: str = "relu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        check_positive(self, "n_characteristics", "n_factors")
        check_architecture(self)
        active = self.n_factors if self.active_factors is None else as_count(self.active_factors, "active_factors")
        if active > self.n_factors:
            raise InputError(f"active_factors={active}; expected at most n_factors={self.n_factors}")
        object.__setattr__(self, "active_factors", active)


class ConditionalAEOutput(NamedTuple):
    betas: torch.Tensor  # (B, N, K); past active_factors they load on nothing
    factors: torch.Tensor  # (B, K); zero past active_factors
    reconstruction: torch.Tensor  # (B, N)
    loss: torch.Tensor
    losses: dict[str, torch.Tensor]


RIDGE = 1e-6  # relative to the Gram matrix's mean diagonal


def managed_portfolios(characteristics: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """Each month's cross-sectional regression of returns on characteristics: (B, N, L), (B, N) -> (B, L).
    A ridge too small to move a well-posed regression keeps it defined when a month's
    characteristics are collinear, as ranks of a few assets can be."""
    gram = characteristics.transpose(1, 2) @ characteristics  # (B, L, L)
    moments = characteristics.transpose(1, 2) @ returns.unsqueeze(-1)  # (B, L, 1)
    scale = RIDGE * gram.diagonal(dim1=-2, dim2=-1).mean(-1)[..., None, None]  # (B, 1, 1)
    return torch.linalg.solve(gram + scale * torch.eye(gram.shape[-1], device=gram.device), moments).squeeze(-1)


class ConditionalAutoencoder(nn.Module):
    def __init__(self, config: ConditionalAEConfig) -> None:
        super().__init__()
        self.config = config
        self.beta_network = mlp((config.n_characteristics, *config.hidden_sizes), config.n_factors,
                                config.activation, config.dropout)
        self.factor_network = nn.Linear(config.n_characteristics, config.n_factors, bias=False)
        self.register_buffer("active", (torch.arange(config.n_factors) < config.active_factors).float())

    def forward(self, characteristics: torch.Tensor, returns: torch.Tensor) -> ConditionalAEOutput:
        if characteristics.shape[-1] != self.config.n_characteristics:
            raise InputError(f"{characteristics.shape[-1]} characteristics; the model was built for "
                             f"n_characteristics={self.config.n_characteristics}")
        betas = self.beta_network(characteristics)  # (B, N, K)
        factors = self.factor_network(managed_portfolios(characteristics, returns)) * self.active  # (B, K)
        reconstruction = (betas @ factors.unsqueeze(-1)).squeeze(-1)  # (B, N)
        loss = ((reconstruction - returns) ** 2).mean()
        return ConditionalAEOutput(betas, factors, reconstruction, loss, {"reconstruction": loss})
