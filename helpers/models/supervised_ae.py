"""A supervised autoencoder: the reconstruction task regularizes the representation that
the predictive heads use.

Inputs are batch-normalized, and Gaussian noise is added to them in training. The encoder
maps them to a bottleneck; the decoder reconstructs the (normalized, clean) input; an
auxiliary head predicts the target from the decoded input, and the main head from the
input concatenated with the encoding. The loss is

    loss = reconstruction + alpha * main + aux_weight * auxiliary,

all mean squared errors. With `use_decoder=False` the decoder, its loss and the auxiliary
head are gone: the same network without its reconstruction task, for the ablation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn

from helpers.models.layers import check_architecture, check_positive, mlp
from helpers.validate import InputError, as_number


@dataclass(frozen=True, kw_only=True)
class SupervisedAEConfig:
    n_inputs: int
    latent_size: int = 8
    hidden_sizes: tuple[int, ...] = (64,)
    head_sizes: tuple[int, ...] = (64,)
    noise_std: float = 0.1  # Gaussian noise on the normalized input, in training
    dropout: float = 0.1
    alpha: float = 1.0  # weight of the main loss
    aux_weight: float = 0.5  # weight of the auxiliary loss
    use_decoder: bool = True
    activation: str = "gelu"

    def __post_init__(self) -> None:
        check_positive(self, "n_inputs", "latent_size")
        check_architecture(self, "hidden_sizes", "head_sizes")
        for name in ("noise_std", "alpha", "aux_weight"):
            object.__setattr__(self, name, as_number(getattr(self, name), name, 0))


class SupervisedAEOutput(NamedTuple):
    prediction: torch.Tensor  # (B,) the main head's signal
    auxiliary: torch.Tensor  # (B,) the auxiliary head's, from the decoded input (zeros without a decoder)
    embedding: torch.Tensor  # (B, latent_size)
    reconstruction: torch.Tensor | None  # (B, n_inputs), of the normalized input
    loss: torch.Tensor
    losses: dict[str, torch.Tensor]


class SupervisedAutoencoder(nn.Module):
    def __init__(self, config: SupervisedAEConfig) -> None:
        super().__init__()
        self.config = config
        layers = (config.activation, config.dropout)
        self.normalize = nn.BatchNorm1d(config.n_inputs)
        self.encoder = mlp((config.n_inputs, *config.hidden_sizes), config.latent_size, *layers)
        self.main_head = mlp((config.n_inputs + config.latent_size, *config.head_sizes), 1, *layers)
        if config.use_decoder:
            self.decoder = mlp((config.latent_size, *reversed(config.hidden_sizes)), config.n_inputs, *layers)
            self.aux_head = mlp((config.n_inputs, *config.head_sizes), 1, *layers)

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None) -> SupervisedAEOutput:
        if x.shape[-1] != self.config.n_inputs:
            raise InputError(f"input width {x.shape[-1]} does not match n_inputs={self.config.n_inputs}")
        clean = self.normalize(x)  # (B, N)
        noisy = clean + self.config.noise_std * torch.randn_like(clean) if self.training else clean
        embedding = self.encoder(noisy)  # (B, L)
        prediction = self.main_head(torch.cat([noisy, embedding], dim=-1)).squeeze(-1)  # (B,)
        zero = prediction.new_zeros(())
        reconstruction, auxiliary, recon, aux = None, torch.zeros_like(prediction), zero, zero
        if self.config.use_decoder:
            reconstruction = self.decoder(embedding)  # (B, N)
            auxiliary = self.aux_head(reconstruction).squeeze(-1)  # (B,)
            recon = ((reconstruction - clean) ** 2).mean()
        main = zero
        if target is not None:
            main = ((prediction - target) ** 2).mean()
            if self.config.use_decoder:
                aux = ((auxiliary - target) ** 2).mean()
        loss = recon + self.config.alpha * main + self.config.aux_weight * aux
        return SupervisedAEOutput(
            prediction, auxiliary, embedding, reconstruction, loss, {"recon": recon, "main": main, "aux": aux}
        )


@dataclass(frozen=True)
class SignalTable:
    """Signals by date and asset, and the checkpoint (training epoch) that produced them."""

    values: pd.DataFrame  # date x asset
    checkpoint: int


@torch.no_grad()
def predict(model: nn.Module, features: pd.DataFrame, checkpoint: int, weights: dict | None = None) -> SignalTable:
    """The main head's signal for each (date, asset) row of `features`, as a date x asset
    table. Each row is predicted from its own features only (the network is in eval mode:
    no noise, no dropout, batch-norm statistics from training)."""
    if not isinstance(features.index, pd.MultiIndex) or features.index.nlevels != 2:
        raise InputError("features must be indexed by (date, asset)")
    if weights is not None:
        model.load_state_dict(weights)
    model.cpu().eval()
    values = torch.from_numpy(features.to_numpy(dtype=np.float32, copy=True))
    signal = pd.Series(model(values).prediction.numpy(), index=features.index)
    return SignalTable(signal.unstack(), checkpoint)
