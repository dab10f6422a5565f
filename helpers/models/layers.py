"""Building blocks the model files share."""
from __future__ import annotations

from numbers import Integral

from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


def mlp(widths: tuple[int, ...], n_out: int, activation: str, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers through `widths`, each followed by the activation and dropout, then a
    linear output layer of width `n_out`."""
    layers: list[nn.Module] = []
    for n_in, n_hidden in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(n_in, n_hidden), ACTIVATIONS[activation](), nn.Dropout(dropout)]
    layers.append(nn.Linear(widths[-1], n_out))
    return nn.Sequential(*layers)


def check_architecture(hidden_sizes: tuple[int, ...], activation: str, dropout: float) -> None:
    if any(h < 1 for h in hidden_sizes):
        raise ValueError(f"hidden_sizes={hidden_sizes!r}; expected positive integers")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r}; expected one of {sorted(ACTIVATIONS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r}; expected a probability in [0, 1)")


def check_positive(**sizes: int) -> None:
    """Each named size must be a positive integer."""
    for name, value in sizes.items():
        if not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name}={value!r}; expected a positive integer")
