"""A dense (MLP) autoencoder: flattened return windows to a small embedding and back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from helpers.models.layers import check_architecture, check_positive, mlp
from helpers.validate import InputError


@dataclass(frozen=True, kw_only=True)
class DenseAEConfig:
    n_inputs: int  # window length x number of assets
    latent_size: int = 32
    hidden_sizes: tuple[int, ...] = (256, 128)
    activation: str = "gelu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        check_positive(self, "n_inputs", "latent_size")
        check_architecture(self)


class DenseAEOutput(NamedTuple):
    embedding: torch.Tensor  # (B, latent_size)
    reconstruction: torch.Tensor  # (B, n_inputs)
    loss: torch.Tensor  # scalar: mean squared reconstruction error
    losses: dict[str, torch.Tensor]


class DenseAutoencoder(nn.Module):
    def __init__(self, config: DenseAEConfig) -> None:
        super().__init__()
        self.config = config
        layers = (config.activation, config.dropout)
        self.encoder = mlp((config.n_inputs, *config.hidden_sizes), config.latent_size, *layers)
        self.decoder = mlp((config.latent_size, *reversed(config.hidden_sizes)), config.n_inputs, *layers)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, n_inputs) -> (B, latent_size)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, latent_size) -> (B, n_inputs)

    def forward(self, x: torch.Tensor) -> DenseAEOutput:
        if x.shape[-1] != self.config.n_inputs:
            raise InputError(f"input width {x.shape[-1]} does not match n_inputs={self.config.n_inputs}")
        embedding = self.encode(x)
        reconstruction = self.decode(embedding)
        recon = torch.mean((reconstruction - x) ** 2)
        return DenseAEOutput(embedding, reconstruction, recon, {"recon": recon})

