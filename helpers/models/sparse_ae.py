"""A TopK sparse autoencoder: an overcomplete dictionary of which exactly k features fire.

x -> f = TopK(W_enc (x - b_pre) + b_enc) -> x_hat = W_dec f + b_pre. The decoder's columns
(the dictionary atoms) are kept at unit norm, so a feature's activation is its size in
input units: before each optimizer step the gradient component parallel to each column
is removed, and after it the columns are renormalized. The encoder starts as the
decoder's transpose, and the pre-encoder bias as the data mean. Features that have not
fired for `dead_after` samples are "dead"; an auxiliary loss asks the top `aux_k` of them
to reconstruct what the live features missed, which brings them back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from helpers.models.layers import check_positive
from helpers.validate import InputError, as_number


@dataclass(frozen=True, kw_only=True)
class SparseAEConfig:
    n_inputs: int  # width of the dense embeddings
    n_features: int = 128
    k: int = 8
    aux_k: int = 16  # dead features asked to explain the residual
    aux_coefficient: float = 1 / 32
    dead_after: int = 5000  # samples without firing; set it to about one epoch of your data

    def __post_init__(self) -> None:
        check_positive(self, "n_inputs", "n_features")
        check_positive(self, "k", "aux_k", "dead_after")
        for name in ("k", "aux_k"):
            value = getattr(self, name)
            if value > self.n_features:
                raise InputError(f"{name}={value!r}; expected 1 <= {name} <= n_features={self.n_features}")
        object.__setattr__(self, "aux_coefficient", as_number(self.aux_coefficient, "aux_coefficient", 0))


class SparseAEOutput(NamedTuple):
    features: torch.Tensor  # (B, n_features), exactly k non-zero per row
    reconstruction: torch.Tensor  # (B, n_inputs)
    loss: torch.Tensor  # recon + aux_coefficient * aux
    losses: dict[str, torch.Tensor]


class SparseAutoencoder(nn.Module):
    def __init__(self, config: SparseAEConfig) -> None:
        super().__init__()
        self.config = config
        decoder = torch.randn(config.n_inputs, config.n_features)
        decoder /= decoder.norm(dim=0, keepdim=True)
        self.decoder = nn.Parameter(decoder)  # (n_inputs, n_features), unit-norm columns
        self.encoder = nn.Parameter(decoder.T.clone())  # (n_features, n_inputs)
        self.encoder_bias = nn.Parameter(torch.zeros(config.n_features))
        self.pre_bias = nn.Parameter(torch.zeros(config.n_inputs))
        self.register_buffer("samples_since_fired", torch.zeros(config.n_features, dtype=torch.long))

    @torch.no_grad()
    def init_pre_bias(self, x: torch.Tensor) -> None:
        """Centre the encoder's input on the data: b_pre starts at the mean of x."""
        self.pre_bias.copy_(torch.as_tensor(x, dtype=self.pre_bias.dtype).mean(dim=0))

    def pre_activations(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.config.n_inputs:
            raise InputError(f"input width {x.shape[-1]} does not match n_inputs={self.config.n_inputs}")
        return (x - self.pre_bias) @ self.encoder.T + self.encoder_bias  # (B, n_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return _top_k(self.pre_activations(x), self.config.k)  # (B, n_features)

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.decoder.T + self.pre_bias  # (B, n_inputs)

    def forward(self, x: torch.Tensor) -> SparseAEOutput:
        pre = self.pre_activations(x)
        features = _top_k(pre, self.config.k)
        reconstruction = self.decode(features)
        recon = ((reconstruction - x) ** 2).sum(dim=1).mean()
        aux = self._aux_loss(x - reconstruction.detach(), pre)  # dead as of before this batch
        if self.training:
            self._count_firing(features)
        loss = recon + self.config.aux_coefficient * aux
        return SparseAEOutput(features, reconstruction, loss, {"recon": recon, "aux": aux})

    def dead_features(self) -> torch.Tensor:
        return self.samples_since_fired >= self.config.dead_after  # (n_features,) bool

    @torch.no_grad()
    def _count_firing(self, features: torch.Tensor) -> None:
        fired = (features > 0).any(dim=0)
        self.samples_since_fired += len(features)
        self.samples_since_fired[fired] = 0

    def _aux_loss(self, residual: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        """How well the top aux_k dead features explain the residual, relative to its variance."""
        dead = self.dead_features()
        if not self.training or not dead.any():
            return pre.new_zeros(())
        masked = pre.masked_fill(~dead, float("-inf"))
        aux_features = _top_k(masked, min(self.config.aux_k, int(dead.sum())))
        explained = aux_features @ self.decoder.T  # (B, n_inputs)
        scale = ((residual - residual.mean(dim=0)) ** 2).sum(dim=1).mean().clamp_min(1e-12)
        return ((explained - residual) ** 2).sum(dim=1).mean() / scale

    @torch.no_grad()
    def before_step(self) -> None:
        """Remove the part of each decoder column's gradient that would change its norm."""
        if self.decoder.grad is not None:
            parallel = (self.decoder.grad * self.decoder).sum(dim=0, keepdim=True)
            self.decoder.grad -= parallel * self.decoder

    @torch.no_grad()
    def after_step(self) -> None:
        self.decoder /= self.decoder.norm(dim=0, keepdim=True).clamp_min(1e-12)


def _top_k(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest entries of each row (ReLU'd), zero the rest."""
    values, indices = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter(-1, indices, torch.relu(values))
