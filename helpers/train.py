"""The one training loop every model of the book uses.

A model takes its tensors as positional arguments and returns an output with a scalar
`loss` (what is minimized) and a dict `losses` of named terms to record. A model that
constrains its weights may define `before_step()` (called between the backward pass and
the optimizer step, to edit gradients) and `after_step()` (to project weights). The data stay
as tensors on the device and mini-batches are drawn by a seeded index permutation: no
per-sample DataLoader, which dominates the cost of the small models this book trains.
An `Ensemble` of models (helpers.models.ensemble) trains through the same loop: its output
also carries `member_losses`, and each member then stops early on its own validation loss
and keeps its own best weights, as if it were trained alone. A member that has stopped
leaves the ensemble (its weights, optimizer state and data are sliced away), so the
epochs after it cost only what the members still training need; at the end every member's
best weights are put back. An ensemble's recorded loss is the mean over the members still
training.
The progress bar (a widget in Jupyter) is silenced by `progress=False` or by the
environment variable TQDM_DISABLE=1, which the Makefile and the book build set: tqdm's
notebook bar ignores that variable on its own, so the loop reads it.
"""
from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import trange

from helpers.cache import PRESENTATION
from helpers.validate import InputError, as_count, as_number

Tensors = torch.Tensor | np.ndarray | Sequence[torch.Tensor | np.ndarray]


DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?|mps")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    epochs: int = 300
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 20  # epochs without a better validation loss before stopping
    min_delta: float = 0.0  # an improvement smaller than this does not count
    seed: int = 0
    device: str = "auto"  # "auto" picks CUDA when present
    progress: bool = field(default=True, metadata=PRESENTATION)
    description: str = field(default="training", metadata=PRESENTATION)
    checkpoint_every: int = 0  # keep the weights every this many epochs (0: none)
    checkpoint_epochs: tuple[int, ...] = ()  # and at these epochs

    def __post_init__(self) -> None:
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("patience", 1), ("seed", 0), ("checkpoint_every", 0)):
            object.__setattr__(self, name, as_count(getattr(self, name), name, minimum))
        object.__setattr__(self, "learning_rate", as_number(self.learning_rate, "learning_rate", 0, open_low=True))
        for name in ("weight_decay", "min_delta"):
            object.__setattr__(self, name, as_number(getattr(self, name), name, 0))
        if not DEVICE_PATTERN.fullmatch(str(self.device)):
            raise InputError(f"device={self.device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        late = [epoch for epoch in self.checkpoint_epochs if not 1 <= epoch <= self.epochs]
        if late:
            raise InputError(f"checkpoint_epochs={self.checkpoint_epochs!r}; {late} lie outside [1, {self.epochs}]")

    def is_checkpoint(self, epoch: int) -> bool:
        return epoch in self.checkpoint_epochs or (self.checkpoint_every > 0 and epoch % self.checkpoint_every == 0)


@dataclass(frozen=True)
class History:
    """Per-epoch record: `train_<term>`, `validation_<term>` and elapsed `seconds` (of an
    ensemble, also the `members` still training); and the weights (on the CPU) at each
    checkpoint epoch the config asked for."""

    epochs: pd.DataFrame
    best_epoch: int  # of an ensemble: the latest of its members' best epochs
    stopped_early: bool
    device: str
    checkpoints: dict[int, dict] = field(default_factory=dict)
    member_best_epochs: tuple[int, ...] = ()  # an ensemble's best epoch of each member

    @property
    def best_validation_loss(self) -> float:
        return float(self.epochs.loc[self.best_epoch, "validation_loss"])

    @property
    def terms(self) -> list[str]:
        return [c.removeprefix("train_") for c in self.epochs.columns if c.startswith("train_")]


def progress_hidden(config: TrainConfig) -> bool:
    """Whether progress bars stay hidden: asked for by the config or by TQDM_DISABLE."""
    return not config.progress or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")


def adjusted(train: TrainConfig, **changes) -> TrainConfig:
    """`train` with the given fields changed; a None leaves the field as `train` has it."""
    return replace(train, **{name: value for name, value in changes.items() if value is not None})


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise InputError(f"device={device!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device={device!r} but CUDA is not available; use 'auto' or 'cpu'")
    return torch.device(device)


def as_tensors(data: Tensors, device: torch.device, name: str = "data") -> tuple[torch.Tensor, ...]:
    """A tensor, an array or a sequence of them, as float32 tensors on `device` of one length.

    Missing or infinite values are refused here, before training: a NaN would otherwise
    surface epochs later as a loss that "became nan", which reads like a learning-rate problem.
    """
    items = [data] if isinstance(data, (torch.Tensor, np.ndarray)) else list(data)
    tensors = tuple(
        (x.to(torch.float32) if isinstance(x, torch.Tensor) else torch.from_numpy(np.array(x, dtype=np.float32)))
        .to(device)
        for x in items
    )
    lengths = {len(t) for t in tensors}
    if len(lengths) != 1:
        raise InputError(f"the tensors of {name} must have one length, got lengths {sorted(lengths)}")
    if not lengths.pop():
        raise InputError(f"{name} is empty")
    for position, tensor in enumerate(tensors):
        bad = int((~torch.isfinite(tensor)).sum())
        if bad:
            raise InputError(f"{name} tensor {position} holds {bad} missing or infinite values; "
                             "clean the inputs before training")
    return tensors


def fit(model: nn.Module, train: Tensors, validation: Tensors, config: TrainConfig = TrainConfig()) -> History:
    """Adam with early stopping on validation loss; the best weights are restored at the end."""
    device = pick_device(config.device)
    model.to(device)
    train_data, validation_data = as_tensors(train, device, "train"), as_tensors(validation, device, "validation")
    shapes = [(tuple(a.shape[1:]), tuple(b.shape[1:])) for a, b in zip(train_data, validation_data, strict=False)]
    if len(train_data) != len(validation_data) or any(a != b for a, b in shapes):
        raise InputError(f"validation has tensors of shapes {[tuple(t.shape) for t in validation_data]}, train "
                         f"{[tuple(t.shape) for t in train_data]}; each must match train but for the rows")
    torch.manual_seed(config.seed)
    order_generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    members = getattr(model, "n_members", 1)
    if hasattr(model, "n_members") and (config.checkpoint_every or config.checkpoint_epochs):
        raise InputError("checkpoints keep one model's weights at an epoch; an ensemble drops its members as they "
                         "stop, so train it with checkpoint_every=0 and no checkpoint_epochs")
    best = _BestWeights(model, members, config.min_delta)
    records, checkpoints = [], {}
    start = time.perf_counter()
    bar = trange(1, config.epochs + 1, desc=config.description, leave=False, disable=progress_hidden(config))
    for epoch in bar:
        model.train()
        train_terms = _run_epoch(model, train_data, config.batch_size, optimizer, order_generator)
        model.eval()
        with torch.no_grad():
            validation_terms = _run_epoch(model, validation_data, 8 * config.batch_size)
        member_losses = validation_terms.pop("member_losses", np.array([validation_terms["loss"]]))
        validation_loss = validation_terms["loss"]
        train_member_losses = train_terms.pop("member_losses", train_terms["loss"])
        if not (np.isfinite(train_member_losses).all() and np.isfinite(member_losses).all()):
            raise FloatingPointError(
                f"the loss became {train_terms['loss']} at epoch {epoch}; lower the learning rate "
                f"(now {config.learning_rate}) or check the inputs for extreme values"
            )
        records.append(
            {"epoch": epoch, "seconds": time.perf_counter() - start}
            | ({"members": model.n_members} if hasattr(model, "n_members") else {})
            | {f"train_{k}": v for k, v in train_terms.items()}
            | {f"validation_{k}": v for k, v in validation_terms.items()}
        )
        best.update(epoch, member_losses, config.patience)
        if config.is_checkpoint(epoch):
            checkpoints[epoch] = {name: t.detach().cpu().clone() for name, t in model.state_dict().items()}
        bar.set_postfix(train=f"{train_terms['loss']:.4f}", validation=f"{validation_loss:.4f}", refresh=False)
        if best.all_stopped:
            break
        if hasattr(model, "n_members") and best.stopped[best.active].any():
            keep = ~best.stopped[best.active]  # of the members still in the ensemble
            rows = torch.from_numpy(np.flatnonzero(keep)).to(device)
            _keep_members(model, optimizer, rows)
            train_data, validation_data = (tuple(tensor[:, rows] for tensor in data)
                                           for data in (train_data, validation_data))
            best.active = best.active[keep]
    bar.close()
    _put_back(model, best.state)
    model.eval()
    history = pd.DataFrame(records).set_index("epoch")
    member_epochs = tuple(int(e) for e in best.epochs) if hasattr(model, "n_members") else ()
    return History(history, int(best.epochs.max()), len(records) < config.epochs, str(device), checkpoints,
                   member_epochs)


class _BestWeights:
    """Each member's best validation loss so far, its epoch and its weights; a member stops
    counting once `patience` epochs pass without a better loss, so its best is what it would
    have been had it been trained alone. One model is an ensemble of one."""

    def __init__(self, model: nn.Module, members: int, min_delta: float) -> None:
        self.model, self.min_delta = model, min_delta
        self.losses = np.full(members, np.inf)
        self.epochs = np.zeros(members, dtype=int)
        self.waited = np.zeros(members, dtype=int)
        self.stopped = np.zeros(members, dtype=bool)
        self.active = np.arange(members)  # the members still in the model, in its order
        self.state: dict[str, torch.Tensor] | None = None

    def update(self, epoch: int, active_losses: np.ndarray, patience: int) -> None:
        """Record an epoch's validation losses of the members still in the model (`self.active`)."""
        member_losses = np.full(len(self.losses), np.inf)
        member_losses[self.active] = active_losses
        improved = (member_losses < self.losses - self.min_delta) & ~self.stopped
        self.losses[improved], self.epochs[improved], self.waited[improved] = member_losses[improved], epoch, 0
        self.waited[~improved & ~self.stopped] += 1
        self.stopped |= self.waited >= patience
        current = self.model.state_dict()
        if self.state is None or not hasattr(self.model, "n_members"):
            if improved.all():
                self.state = copy.deepcopy(current)
            return
        device = next(iter(current.values())).device
        rows = torch.from_numpy(np.flatnonzero(improved[self.active])).to(device)  # in the model as it is now
        members = torch.from_numpy(self.active[improved[self.active]]).to(device)  # the same, among all members
        for name, tensor in current.items():
            self.state[name][members] = tensor.detach()[rows].clone()

    @property
    def all_stopped(self) -> bool:
        return bool(self.stopped.all())


@torch.no_grad()
def _keep_members(model: nn.Module, optimizer: torch.optim.Optimizer, rows: torch.Tensor) -> None:
    """Slice an ensemble down to the members at `rows` (its first axis), its weights, buffers
    and Adam's moments alike, so that the stopped members cost nothing more."""
    for weights in model.parameters():
        state = optimizer.state.get(weights, {})
        for key, value in state.items():
            if torch.is_tensor(value) and value.shape[:1] == weights.shape[:1] and value.ndim == weights.ndim:
                state[key] = value[rows]
        weights.data, weights.grad = weights.data[rows], None
    for module in model.modules():
        for name, buffer in module.named_buffers(recurse=False):
            setattr(module, name, buffer[rows])
    model.n_members = len(rows)


@torch.no_grad()
def _put_back(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load `state` whatever the model's current number of members: every member's best
    weights into an ensemble that stopped members along the way."""
    if not hasattr(model, "n_members"):
        model.load_state_dict(state)
        return
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    for name, value in state.items():
        tensors[name].data = value.to(tensors[name].device)
    model.n_members = len(next(iter(state.values())))


def _run_epoch(model, data, batch_size, optimizer=None, generator=None) -> dict[str, float]:
    """One pass; trains when an optimizer is given. Returns sample-weighted mean terms."""
    n = len(data[0])
    order = torch.randperm(n, generator=generator).to(data[0].device) if optimizer else None
    sums: dict[str, torch.Tensor] = {}
    for begin in range(0, n, batch_size):
        rows = order[begin : begin + batch_size] if optimizer else slice(begin, begin + batch_size)
        batch = [tensor[rows] for tensor in data]
        output = model(*batch)
        if optimizer:
            optimizer.zero_grad(set_to_none=True)
            output.loss.backward()
            _call_hook(model, "before_step")
            optimizer.step()
            _call_hook(model, "after_step")
        size = len(batch[0])
        terms = {"loss": output.loss, **output.losses}
        if hasattr(output, "member_losses"):
            terms |= {"loss": output.member_losses.mean(), "member_losses": output.member_losses}
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + value.detach() * size
    return {name: (total.cpu().numpy().astype(np.float64) / n if name == "member_losses" else float(total) / n)
            for name, total in sums.items()}


def _call_hook(model: nn.Module, name: str) -> None:
    hook = getattr(model, name, None)
    if hook is not None:
        hook()
