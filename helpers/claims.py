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
from numbers import Real

from helpers.validate import InputError

NUMBERS = ("estimate", "baseline", "low", "high")


def _finite(rule, *names: str) -> None:
    for name in names:
        value = getattr(rule, name)
        if not isinstance(value, Real) or isinstance(value, bool) or math.isnan(value):
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


Z_95, Z_90 = 1.959963984540054, 1.6448536269514722  # two-sided normal quantiles


def interval_90(estimate: float, low: float, high: float) -> tuple[float, float]:
    """The 90% interval of a difference from its 95% interval: each side's distance from the
    estimate scaled by the normal quantiles' ratio. For a Student-t interval over replications
    this is slightly wider than the exact 90% interval (so an equivalence read from it is
    conservative); for a block-bootstrap percentile interval it assumes the resampled
    differences are near normal in the centre."""
    ratio = Z_90 / Z_95
    return estimate - ratio * (estimate - low), estimate + ratio * (high - estimate)


def needed_to_settle(low: float, high: float, margin: float, n: float, *, estimate: float) -> int:
    """Roughly how many units (markets, seeds, years) would settle an inconclusive difference
    at the spread seen over `n` units, if the estimate stayed where it is: n (h / t)^2, where
    h is the 95% interval's half-width and t the half-width that would settle it, the nearer
    of |estimate| (the interval then excludes zero) and margin - |estimate| (it then fits
    inside the margin). At a zero estimate t is the margin itself."""
    target = max(abs(estimate), margin - abs(estimate))
    return max(1, math.ceil(n * ((high - low) / 2 / target) ** 2))


def _decimals(margin: float) -> int:
    """Decimals that show a difference to a tenth of its margin."""
    return max(0, 1 - math.floor(math.log10(margin)))


def margin_verdict(estimate: float, low: float, high: float, margin: float) -> str:
    """How a difference with its 95% interval reads against a margin of practical relevance:
    'higher' or 'lower' when the 95% interval excludes zero; 'equivalent' when the 90%
    interval lies inside minus to plus the margin (two one-sided tests at 5%); else
    'inconclusive'."""
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    low_90, high_90 = interval_90(estimate, low, high)
    return "equivalent" if -margin < low_90 and high_90 < margin else "inconclusive"


@dataclass(frozen=True)
class _Settled:
    """A difference (estimate and 95% interval, measured over `n` units such as markets,
    seeds or years) read against a margin of practical relevance declared before the result;
    the claim holds when the reading is the one the sentence states."""

    estimate: float
    low: float
    high: float
    margin: float
    n: float
    unit: str = "markets"
    stated = ""

    def __post_init__(self) -> None:
        _finite(self, "estimate", "low", "high", "margin", "n")
        if self.low > self.high:
            raise InputError(f"interval ({self.low!r}, {self.high!r}); expected low <= high")
        if self.margin <= 0:
            raise InputError(f"margin={self.margin!r}; expected a positive difference that matters in practice")
        if self.n <= 0:
            raise InputError(f"n={self.n!r}; expected the positive number of {self.unit} the interval is over")

    @property
    def verdict(self) -> str:
        return margin_verdict(self.estimate, self.low, self.high, self.margin)

    @property
    def holds(self) -> bool:
        return self.verdict == self.stated

    @property
    def needed(self) -> int:
        return needed_to_settle(self.low, self.high, self.margin, self.n, estimate=self.estimate)

    @property
    def p_value(self) -> float:
        """Two-sided p-value of a zero difference, read off the 95% interval as if the
        estimate were normal with the interval's half-width over 1.96 as its standard error:
        the p-value that goes with the interval the verdict uses."""
        if self.high == self.low:
            return 0.0 if self.estimate != 0 else 1.0
        error = (self.high - self.low) / (2 * Z_95)
        return math.erfc(abs(self.estimate) / error / math.sqrt(2))

    def numbers(self) -> dict[str, float]:
        return {"estimate": self.estimate, "baseline": 0.0, "low": self.low, "high": self.high}

    def describe(self) -> str:
        return settled_sentence(self.estimate, self.low, self.high, self.margin, self.n, self.unit)


@dataclass(frozen=True)
class Higher(_Settled):
    """The difference is above zero: its 95% interval excludes zero from below."""

    stated = "higher"


@dataclass(frozen=True)
class Lower(_Settled):
    """The difference is below zero: its 95% interval excludes zero from above."""

    stated = "lower"


@dataclass(frozen=True)
class Equivalent(_Settled):
    """The difference is smaller than the margin either way: its 90% interval lies inside
    (-margin, margin)."""

    stated = "equivalent"


@dataclass(frozen=True)
class Inconclusive(_Settled):
    """The data neither separate the two nor bound their difference by the margin; the
    sentence says how many more units would."""

    stated = "inconclusive"


@dataclass(frozen=True)
class NotHigher(_Settled):
    """The difference is not above zero: lower, equivalent or inconclusive. For a direction the
    prose rules out while the reading itself sits near a line: networks trained on another
    processor take other floating-point paths, and a reading at a line can move across it."""

    stated = "not higher"

    @property
    def holds(self) -> bool:
        return self.verdict != "higher"


@dataclass(frozen=True)
class NotLower(_Settled):
    """The difference is not below zero: higher, equivalent or inconclusive (see `NotHigher`)."""

    stated = "not lower"

    @property
    def holds(self) -> bool:
        return self.verdict != "lower"


def settled_sentence(estimate: float, low: float, high: float, margin: float, n: float, unit: str) -> str:
    """The words the prose uses for a difference read against its margin (see `margin_verdict`)."""
    places = _decimals(margin)

    def shown(value: float) -> str:
        return f"{value:+.{places}f}"

    numbers = f"{shown(estimate)} (95% interval {shown(low)} to {shown(high)})"
    verdict = margin_verdict(estimate, low, high, margin)
    if verdict in ("higher", "lower"):
        clears = "clearing" if abs(estimate) >= margin else "but inside"
        return f"{verdict}: {numbers}, {clears} the margin of {margin:g}"
    if verdict == "equivalent":
        low_90, high_90 = interval_90(estimate, low, high)
        return (f"equivalent within the margin of {margin:g}: {shown(estimate)} "
                f"(90% interval {shown(low_90)} to {shown(high_90)})")
    needed = needed_to_settle(low, high, margin, n, estimate=estimate)
    return (f"inconclusive: {numbers} over {n:.3g} {unit}; about {needed:,} {unit} would settle it "
            f"at this spread (margin {margin:g})")


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


def _read(interval) -> tuple[float, float, float] | None:
    """(estimate, low, high) of an interval row, or None when it is missing or has a NaN (a
    difference a rerun could not measure, such as one over fewer than two markets)."""
    if interval is None:
        return None
    numbers = tuple(float(interval[key]) for key in ("estimate", "low", "high"))
    return None if any(math.isnan(number) for number in numbers) else numbers


def brief_verdict(interval, margin: float, n: float, unit: str, *, higher: str = "higher", lower: str = "lower",
                  missing: str = "not measured") -> str:
    """A difference's verdict against its margin in a few words, for a summary (`higher` and
    `lower` name the two directions in the reader's terms); the full sentence, with its
    interval, is `difference_verdict`."""
    read = _read(interval)
    if read is None:
        return missing
    estimate, low, high = read
    verdict = margin_verdict(estimate, low, high, margin)
    if verdict == "inconclusive":
        needed = needed_to_settle(low, high, margin, n, estimate=estimate)
        return f"inconclusive (about {needed:,} {unit} would settle it)"
    if verdict == "equivalent":
        return f"equivalent within the margin of {margin:g}"
    direction = higher if verdict == "higher" else lower
    return f"{direction}, {'clearing' if abs(estimate) >= margin else 'but inside'} the margin of {margin:g}"


RULES = (Above, Below, AtMost, Within, Between, Higher, Lower, Equivalent, Inconclusive, NotHigher, NotLower, EverySeed,
         NotMeasured)


def difference_verdict(interval, margin: float, n: float, unit: str, *, missing: str = "not measured") -> str:
    """`settled_sentence` for a row of an interval table (anything with "estimate", "low" and
    "high", such as a row of a bootstrap table); `missing` where the row is None or has a NaN."""
    read = _read(interval)
    return missing if read is None else _Settled(*read, margin, n, unit).describe()
