"""A plain multilayer perceptron regressor: the supervised autoencoder's baseline of
similar size, with the same input normalization and output names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from helpers.models.layers import check_architecture, check_positive, mlp


@dataclass(frozen=True, kw_only=True)
class MLPConfig:
    n_inputs: int
    hidden_sizes: tuple[int, ...] = (64, 8, 64)
    dropout: float = 0.1
    activation: str = "gelu"

    def __post_init__(self) -> None:
        check_positive(self, "n_inputs")
        check_architecture(self)


class MLPOutput(NamedTuple):
    prediction: torch.Tensor  # (B,)
    loss: torch.Tensor
    losses: dict[str, torch.Tensor]


class MLPRegressor(nn.Module):
    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.config = config
        self.normalize = nn.BatchNorm1d(config.n_inputs)
        self.network = mlp((config.n_inputs, *config.hidden_sizes), 1, config.activation, config.dropout)

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None) -> MLPOutput:
        prediction = self.network(self.normalize(x)).squeeze(-1)  # (B,)
        main = ((prediction - target) ** 2).mean() if target is not None else prediction.new_zeros(())
        return MLPOutput(prediction, main, {"main": main})
