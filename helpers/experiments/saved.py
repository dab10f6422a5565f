"""A trained model as the stage cache stores it: its class, config and CPU weights."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SavedModel:
    """A trained model's class, config and weights, on the CPU, so the cache can hold it."""
    model_class: type
    config: object
    state_dict: dict

    @classmethod
    def of(cls, model: torch.nn.Module) -> SavedModel:
        weights = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
        return cls(type(model), model.config, weights)

    def load(self) -> torch.nn.Module:
        model = self.model_class(self.config)
        model.load_state_dict(self.state_dict)
        return model.eval()
