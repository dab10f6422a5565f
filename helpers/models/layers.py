"""Building blocks the model files share."""
from __future__ import annotations

from torch import nn

from helpers.validate import as_choice, as_count, as_number, as_sizes

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


def mlp(widths: tuple[int, ...], n_out: int, activation: str, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers through `widths`, each followed by the activation and dropout, then a
    linear output layer of width `n_out`."""
    layers: list[nn.Module] = []
    for n_in, n_hidden in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(n_in, n_hidden), ACTIVATIONS[activation](), nn.Dropout(dropout)]
    layers.append(nn.Linear(widths[-1], n_out))
    return nn.Sequential(*layers)


def check_architecture(config, *size_fields: str) -> None:
    """Check a frozen model config's layer widths, activation and dropout; one width given as a
    number (hidden_sizes=64) is one layer."""
    for name in size_fields or ("hidden_sizes",):
        object.__setattr__(config, name, as_sizes(getattr(config, name), name))
    as_choice(config.activation, "activation", sorted(ACTIVATIONS))
    object.__setattr__(config, "dropout", as_number(config.dropout, "dropout", 0, 1, open_high=True))


def check_positive(config, *names: str) -> None:
    """Each named size of a frozen config must be a positive whole number ('8' is read as 8)."""
    for name in names:
        object.__setattr__(config, name, as_count(getattr(config, name), name))
