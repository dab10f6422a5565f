"""Many small models of one architecture trained as one: their weights are stacked and a
vectorized call (torch.func) runs every member on its own data in a single pass.

The book's dial trains the same networks on many simulated markets; one at a time, the
Python overhead of a small model dominates, so stacking them is what makes the experiment
fit its time budget. Members stay independent: the ensemble's loss is the sum of the
members' losses, so each member's gradient is that of its own loss, and Adam, which is
elementwise, updates each member as if it were trained alone. The training loop stops each
member on its own validation loss (`member_losses`), drops a stopped member from the
stacked weights so that it costs nothing more, and puts every member's best weights back
at the end.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from helpers.validate import InputError


class EnsembleOutput(NamedTuple):
    outputs: NamedTuple  # the members' outputs, each field with the member first: (M, ...)
    member_losses: torch.Tensor  # (M,)
    loss: torch.Tensor  # scalar: the sum of the members' losses
    losses: dict[str, torch.Tensor]  # each term's mean over members


class Ensemble(nn.Module):
    """Members of one architecture, each fed its own slice of the data.

    Inputs carry the member on their second axis, (B, M, ...), so that the training loop
    draws mini-batches along the first axis as it does for one model; each member sees the
    same rows of its own data.
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise InputError("an ensemble needs at least one member")
        kinds = {type(member).__name__ for member in members}
        if len(kinds) != 1:
            raise InputError(f"ensemble members must share one architecture, got {sorted(kinds)}")
        hooked = [name for name in ("before_step", "after_step") if hasattr(members[0], name)]
        if hooked:
            raise InputError(f"{kinds.pop()} edits its weights in {hooked}; train it alone, not in an ensemble")
        weights, buffers = stack_module_state(members)
        self.names = list(weights)
        self.stacked = nn.ParameterList([nn.Parameter(weights[name]) for name in self.names])
        self.buffer_names = list(buffers)
        for number, name in enumerate(self.buffer_names):
            self.register_buffer(f"buffer_{number}", buffers[name])
        object.__setattr__(self, "template", copy.deepcopy(members[0]).to("meta"))  # shapes only, not a submodule
        self.n_members = len(members)

    def member_weights(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.stacked, strict=True))

    def forward(self, *batch: torch.Tensor) -> EnsembleOutput:
        wrong = [tuple(tensor.shape) for tensor in batch if tensor.shape[1] != self.n_members]
        if wrong:
            raise InputError(f"ensemble inputs are (rows, members={self.n_members}, ...); got shapes {wrong}")
        buffers = {name: getattr(self, f"buffer_{number}") for number, name in enumerate(self.buffer_names)}

        def one_member(weights, member_buffers, *member_batch):
            return functional_call(self.template, (weights, member_buffers), member_batch)

        outputs = vmap(one_member, in_dims=(0, 0, *[1] * len(batch)), randomness="different")(
            self.member_weights(), buffers, *batch
        )
        member_losses = outputs.loss  # (M,)
        terms = {name: value.mean() for name, value in outputs.losses.items()}
        return EnsembleOutput(outputs, member_losses, member_losses.sum(), terms)

    def member(self, number: int) -> nn.Module:
        """Member `number` as a plain model with its own (copied) weights, for inference."""
        model = copy.deepcopy(self.template).to_empty(device=self.stacked[0].device)
        state = {name: weights[number].detach().clone() for name, weights in self.member_weights().items()}
        state |= {name: getattr(self, f"buffer_{i}")[number].clone() for i, name in enumerate(self.buffer_names)}
        model.load_state_dict(state)
        return model.eval()
