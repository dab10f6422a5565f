"""Claims as data: a result the prose states, the numbers it rests on, and the rule that
decides whether it holds.

A rule is a small frozen value that can be evaluated anywhere: the chapter that computed
its numbers, the check at the chapter's end, a test that perturbs the numbers to show the
rule can fail, or a page that lists every claim of the book. Each rule reports the same
four numbers (estimate, baseline, low, high; missing ones are NaN), so one table holds
every claim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from helpers.validate import InputError

NUMBERS = ("estimate", "baseline", "low", "high")


def _finite(rule, *names: str) -> None:
    for name in names:
        value = getattr(rule, name)
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            raise InputError(f"{type(rule).__name__}.{name}={value!r}; expected a number")


@dataclass(frozen=True)
class _Comparison:
    """An estimate against a baseline, with a margin it must clear."""

    estimate: float
    baseline: float
    margin: float = 0.0
    symbol = sign = ""

    def __post_init__(self) -> None:
        _finite(self, "estimate", "baseline", "margin")

    def numbers(self) -> dict[str, float]:
        return {"estimate": self.estimate, "baseline": self.baseline, "low": math.nan, "high": math.nan}

    def describe(self) -> str:
        margin = f" {self.sign} {self.margin:g}" if self.margin else ""
        return f"{self.estimate:.4g} {self.symbol} {self.baseline:.4g}{margin}"


@dataclass(frozen=True)
class Above(_Comparison):
    """The estimate exceeds the baseline by more than `margin`."""

    symbol, sign = ">", "+"

    @property
    def holds(self) -> bool:
        return self.estimate > self.baseline + self.margin


@dataclass(frozen=True)
class Below(_Comparison):
    """The estimate is under the baseline by more than `margin`."""

    symbol, sign = "<", "-"

    @property
    def holds(self) -> bool:
        return self.estimate < self.baseline - self.margin


@dataclass(frozen=True)
class AtMost(_Comparison):
    """The estimate does not exceed the baseline (a cap such as k active features)."""

    symbol, sign = "<=", "-"

    @property
    def holds(self) -> bool:
        return self.estimate <= self.baseline - self.margin


@dataclass(frozen=True)
class Within(_Comparison):
    """The estimate equals the baseline up to `margin` (a recorded number against a recount)."""

    symbol, sign = "==", "+/-"

    @property
    def holds(self) -> bool:
        return abs(self.estimate - self.baseline) <= self.margin


@dataclass(frozen=True)
class Between:
    """The estimate lies strictly inside (low, high)."""

    estimate: float
    low: float
    high: float

    def __post_init__(self) -> None:
        _finite(self, "estimate", "low", "high")
        if self.low >= self.high:
            raise InputError(f"Between(low={self.low!r}, high={self.high!r}); expected low < high")

    @property
    def holds(self) -> bool:
        return self.low < self.estimate < self.high

    def numbers(self) -> dict[str, float]:
        return {"estimate": self.estimate, "baseline": math.nan, "low": self.low, "high": self.high}

    def describe(self) -> str:
        return f"{self.low:.4g} < {self.estimate:.4g} < {self.high:.4g}"


@dataclass(frozen=True)
class ExcludesZero:
    """A difference whose interval (low, high) lies wholly on one side of zero: on `side`
    ('above' or 'below') when the sentence says which, on either side otherwise."""

    estimate: float
    low: float
    high: float
    side: str = "either"

    def __post_init__(self) -> None:
        _finite(self, "estimate", "low", "high")
        if self.low > self.high:
            raise InputError(f"interval ({self.low!r}, {self.high!r}); expected low <= high")
        if self.side not in ("either", "above", "below"):
            raise InputError(f"side={self.side!r}; expected 'either', 'above' or 'below'")

    @property
    def holds(self) -> bool:
        return {"above": self.low > 0, "below": self.high < 0, "either": self.low > 0 or self.high < 0}[self.side]

    def numbers(self) -> dict[str, float]:
        return {"estimate": self.estimate, "baseline": 0.0, "low": self.low, "high": self.high}

    def describe(self) -> str:
        where = "excludes 0" if self.side == "either" else f"lies {self.side} 0"
        return f"{self.estimate:+.4g} ({self.low:+.4g} to {self.high:+.4g}) {where}"


@dataclass(frozen=True)
class IncludesZero(ExcludesZero):
    """A difference whose interval straddles zero: the two cannot be told apart."""

    @property
    def holds(self) -> bool:
        return self.low <= 0 <= self.high

    def describe(self) -> str:
        return f"{self.estimate:+.4g} ({self.low:+.4g} to {self.high:+.4g}) includes 0"


@dataclass(frozen=True)
class EverySeed:
    """Every seed's value (or every episode's, as `unit` says) lies on one side of a level:
    'above' or 'below' it."""

    values: tuple[float, ...]
    side: str = "above"
    level: float = 0.0
    unit: str = "seeds"

    def __post_init__(self) -> None:
        if self.side not in ("above", "below"):
            raise InputError(f"side={self.side!r}; expected 'above' or 'below'")
        if not self.values:
            raise InputError("EverySeed needs at least one seed's value")
        object.__setattr__(self, "values", tuple(float(value) for value in self.values))
        if any(math.isnan(value) for value in self.values):
            raise InputError(f"values={self.values!r} hold NaN; every seed needs a number")

    @property
    def holds(self) -> bool:
        return all(value > self.level for value in self.values) if self.side == "above" else \
            all(value < self.level for value in self.values)

    def numbers(self) -> dict[str, float]:
        return {"estimate": sum(self.values) / len(self.values), "baseline": self.level,
                "low": min(self.values), "high": max(self.values)}

    def describe(self) -> str:
        return (f"{len(self.values)} {self.unit} from {min(self.values):+.4g} to {max(self.values):+.4g}, "
                f"all {self.side} {self.level:g}")


@dataclass(frozen=True)
class NotMeasured:
    """A claim whose numbers this run did not produce (a rerun without the setting it is
    about): it does not hold, and the reason says why."""

    reason: str

    @property
    def holds(self) -> bool:
        return False

    def numbers(self) -> dict[str, float]:
        return dict.fromkeys(NUMBERS, math.nan)

    def describe(self) -> str:
        return f"not measured: {self.reason}"


def every_seed(values, side: str = "above", level: float = 0.0, missing: str = "no values", unit: str = "seeds"):
    """EverySeed over `values`, or NotMeasured(`missing`) when there are none."""
    values = tuple(values)
    return EverySeed(values, side, level, unit) if values else NotMeasured(missing)


def measured(rule, *numbers: float, missing: str = "a number it needs is missing"):
    """`rule(*numbers)`, or NotMeasured(`missing`) when one of the numbers is NaN (a
    rerun whose data cannot produce it, such as a stress ratio without stress days)."""
    if any(isinstance(n, float) and math.isnan(n) for n in numbers):
        return NotMeasured(missing)
    return rule(*numbers)


RULES = (Above, Below, AtMost, Within, Between, ExcludesZero, IncludesZero, EverySeed, NotMeasured)


def difference_verdict(interval) -> str:
    """How the prose reads a paired 95% interval of a difference (anything with "low" and
    "high", such as a row of a bootstrap table): lower, higher, or not distinguishable, the
    words the book uses wherever an interval decides."""
    low, high = float(interval["low"]), float(interval["high"])
    if low > high:
        raise InputError(f"interval ({low!r}, {high!r}); expected low <= high")
    if high < 0:
        return "lower, with a 95% interval that excludes zero"
    if low > 0:
        return "higher, with a 95% interval that excludes zero"
    return "not distinguishable: the 95% interval of the difference includes zero"
