"""A (conditional) variational autoencoder of the daily cross-section of returns.

The encoder maps a day's returns x (and, for a conditional VAE, a one-hot condition c) to
a Gaussian q(z | x, c) = N(mean, diag(exp(log_var))); z is drawn with the
reparameterization trick and the decoder maps (z, c) back to returns. The loss is the
negative evidence lower bound with a beta weight on the KL term:

    loss = sum_i (x_i - x_hat_i)^2 + beta * KL(q(z | x, c) || N(0, I)),

both averaged over the batch. The posterior means are the day's latent factors and the
decoder's sensitivities to them the loadings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from helpers.models.layers import check_architecture, check_positive, mlp
from helpers.validate import InputError, as_count, as_number


@dataclass(frozen=True, kw_only=True)
class VAEConfig:
    n_inputs: int  # assets in the cross-section
    latent_size: int = 4
    hidden_sizes: tuple[int, ...] = (64,)
    beta: float = 1.0
    condition_size: int = 0  # width of the one-hot condition; 0 for a plain VAE
    activation: str = "gelu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        check_positive(self, "n_inputs", "latent_size")
        object.__setattr__(self, "beta", as_number(self.beta, "beta", 0))
        object.__setattr__(self, "condition_size", as_count(self.condition_size, "condition_size", 0))
        check_architecture(self)


class VAEOutput(NamedTuple):
    mean: torch.Tensor  # (B, latent_size)
    log_var: torch.Tensor  # (B, latent_size)
    z: torch.Tensor  # (B, latent_size), a draw from q(z | x, c) in training, the mean in eval
    reconstruction: torch.Tensor  # (B, n_inputs)
    loss: torch.Tensor  # recon + beta * kl
    losses: dict[str, torch.Tensor]


class VAE(nn.Module):
    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        layers = (config.activation, config.dropout)
        encoder_in = config.n_inputs + config.condition_size
        decoder_in = config.latent_size + config.condition_size
        self.encoder = mlp((encoder_in, *config.hidden_sizes), 2 * config.latent_size, *layers)
        self.decoder = mlp((decoder_in, *reversed(config.hidden_sizes)), config.n_inputs, *layers)

    def encode(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[-1] != self.config.n_inputs:
            raise InputError(f"input width {x.shape[-1]} does not match n_inputs={self.config.n_inputs}")
        mean, log_var = self.encoder(self._with_condition(x, condition)).chunk(2, dim=-1)  # (B, L) each
        return mean, log_var

    def reparameterize(self, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        return mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)

    def decode(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self._with_condition(z, condition))  # (B, n_inputs)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> VAEOutput:
        mean, log_var = self.encode(x, condition)
        z = self.reparameterize(mean, log_var) if self.training else mean
        reconstruction = self.decode(z, condition)
        recon = ((reconstruction - x) ** 2).sum(dim=1).mean()
        kl = gaussian_kl(mean, log_var).sum(dim=1).mean()
        loss = recon + self.config.beta * kl
        return VAEOutput(mean, log_var, z, reconstruction, loss, {"recon": recon, "kl": kl})

    @torch.no_grad()
    def sample(self, n: int, condition: torch.Tensor | None = None, generator=None) -> torch.Tensor:
        """Draw n cross-sections from the prior (for one condition row, or one per row)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.config.latent_size, generator=generator).to(device)
        if condition is not None and condition.dim() == 1:
            condition = condition.expand(n, -1)
        return self.decode(z, condition)  # (n, n_inputs)

    def _with_condition(self, tensor: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        size = self.config.condition_size
        if size == 0:
            if condition is not None:
                raise InputError("a condition was given to a VAE with condition_size=0; set condition_size")
            return tensor
        if condition is None:
            raise InputError(f"this conditional VAE needs a condition of width {size}")
        if condition.shape[-1] != size:
            raise InputError(f"condition width {condition.shape[-1]} does not match condition_size={size}")
        return torch.cat([tensor, condition.to(tensor.dtype)], dim=-1)


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, 1)) per dimension, in closed form."""
    return 0.5 * (mean**2 + log_var.exp() - log_var - 1)
