"""Sparse autoencoders of one config as one model, each member over its own inputs."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from helpers.models.sparse_ae import SparseAutoencoder, _top_k
from helpers.validate import InputError


class SparseEnsembleOutput(NamedTuple):
    features: torch.Tensor  # (M, B, n_features)
    reconstruction: torch.Tensor  # (M, B, n_inputs)
    member_losses: torch.Tensor  # (M,)
    loss: torch.Tensor  # scalar: the sum of the members' losses
    losses: dict[str, torch.Tensor]  # each term's mean over members


class SparseEnsemble(nn.Module):
    """Sparse autoencoders of one config, each over its own market's embeddings, as one model.

    `helpers.models.ensemble.Ensemble` cannot hold them: a sparse autoencoder edits its
    weights around each optimizer step and counts in a buffer how long each feature has not
    fired, neither of which passes through `torch.func.vmap`. Here the members' weights are
    stacked on a first axis and each step of `SparseAutoencoder` (TopK encoding, the
    auxiliary loss of dead features, the firing count, unit-norm decoder columns) runs on
    every member at once, each on its own data. The loss is the sum of the members' and Adam
    is elementwise, so each member trains as it would alone, and the training loop stops
    each on its own validation loss. Inputs are (rows, members, n_inputs).
    """

    def __init__(self, members: list[SparseAutoencoder]) -> None:
        super().__init__()
        if not members:
            raise InputError("a sparse ensemble needs at least one member")
        configs = {member.config for member in members}
        if len(configs) != 1:
            raise InputError(f"sparse ensemble members must share one config, got {len(configs)} different ones")
        self.config = configs.pop()
        self.n_members = len(members)
        for name in ("decoder", "encoder", "encoder_bias", "pre_bias"):
            self.register_parameter(name, nn.Parameter(torch.stack([getattr(m, name).detach() for m in members])))
        self.register_buffer("samples_since_fired", torch.stack([m.samples_since_fired for m in members]))

    def forward(self, x: torch.Tensor) -> SparseEnsembleOutput:
        if x.ndim != 3 or x.shape[1] != self.n_members or x.shape[2] != self.config.n_inputs:
            raise InputError(f"sparse ensemble inputs are (rows, members={self.n_members}, "
                             f"n_inputs={self.config.n_inputs}); got shape {tuple(x.shape)}")
        x = x.transpose(0, 1)  # (M, B, n_inputs)
        pre = torch.baddbmm(self.encoder_bias[:, None, :], x - self.pre_bias[:, None, :],
                            self.encoder.transpose(1, 2))  # (M, B, n_features)
        features = _top_k(pre, self.config.k)
        reconstruction = torch.bmm(features, self.decoder.transpose(1, 2)) + self.pre_bias[:, None, :]
        recon = ((reconstruction - x) ** 2).sum(dim=2).mean(dim=1)  # (M,)
        aux = self._aux_loss(x - reconstruction.detach(), pre)  # dead as of before this batch
        if self.training:
            self._count_firing(features)
        member_losses = recon + self.config.aux_coefficient * aux
        return SparseEnsembleOutput(features, reconstruction, member_losses, member_losses.sum(),
                                    {"recon": recon.mean(), "aux": aux.mean()})

    def _aux_loss(self, residual: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        """Each member's auxiliary loss, as `SparseAutoencoder` computes it: zero for a member
        without dead features; where a member has fewer dead features than the top-k asks for,
        the live ones it picks sit at minus infinity and add nothing."""
        dead = self.samples_since_fired >= self.config.dead_after  # (M, n_features)
        if not self.training or not dead.any():
            return pre.new_zeros(self.n_members)
        masked = pre.masked_fill(~dead[:, None, :], float("-inf"))
        aux_features = _top_k(masked, min(self.config.aux_k, int(dead.sum(dim=1).max())))
        explained = torch.bmm(aux_features, self.decoder.transpose(1, 2))  # (M, B, n_inputs)
        scale = ((residual - residual.mean(dim=1, keepdim=True)) ** 2).sum(dim=2).mean(dim=1).clamp_min(1e-12)
        return ((explained - residual) ** 2).sum(dim=2).mean(dim=1) / scale * dead.any(dim=1)

    @torch.no_grad()
    def _count_firing(self, features: torch.Tensor) -> None:
        self.samples_since_fired += features.shape[1]
        self.samples_since_fired.masked_fill_((features > 0).any(dim=1), 0)

    @torch.no_grad()
    def before_step(self) -> None:
        """Remove the part of each decoder column's gradient that would change its norm."""
        if self.decoder.grad is not None:
            parallel = (self.decoder.grad * self.decoder).sum(dim=1, keepdim=True)
            self.decoder.grad -= parallel * self.decoder

    @torch.no_grad()
    def after_step(self) -> None:
        self.decoder /= self.decoder.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def member(self, number: int) -> SparseAutoencoder:
        """Member `number` as a plain sparse autoencoder with its own (copied) weights."""
        model = SparseAutoencoder(self.config)
        model.load_state_dict({name: tensor[number].detach().clone() for name, tensor in self.state_dict().items()})
        return model.eval()
