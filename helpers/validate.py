"""One error type for bad input a reader passes, and the checks that raise it.

Values arrive as a reader types them: from Jupyter, from papermill's command line (where
`-p synthetic_assets 12` may arrive as the text '12') or from a YAML file. A check returns
the value in its canonical type when its meaning is unambiguous ('12' as a count, 64 as
one hidden layer) and otherwise raises `InputError`, whose message names the parameter, the
value and what would be accepted.
"""
from __future__ import annotations

import math
import numbers
import re
import typing
from collections.abc import Iterable

import numpy as np
import pandas as pd
import yaml


class InputError(ValueError):
    """A value a reader passed cannot be used; the message says which, and what would be."""


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_count(value, name: str, minimum: int = 1) -> int:
    """A whole number >= `minimum`; '12' (text from a command line) and 12.0 are read as 12."""
    number = value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    elif _is_number(value) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
    if not isinstance(number, int) or isinstance(number, bool) or number < minimum:
        raise InputError(f"{name}={value!r}; expected a whole number >= {minimum}")
    return number


def check_count(value, name: str, minimum: int = 1) -> None:
    """An estimator's parameter must already be a whole number >= `minimum`: scikit-learn's
    rule is that `fit` checks its parameters and never rewrites them, so text is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}={value!r}; expected a whole number >= {minimum}")
    as_count(value, name, minimum)


def as_number(value, name: str, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False,
              open_high: bool = False) -> float:
    """A finite number in [low, high] (an open end excludes the bound); '1e-3' is read as 0.001."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    low_ok = number is not None and _is_number(number) and (number > low if open_low else number >= low)
    high_ok = low_ok and (number < high if open_high else number <= high)
    if not (high_ok and math.isfinite(number)):
        bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise InputError(f"{name}={value!r}; expected a finite number in {bounds}")
    return float(number)


def as_choice(value, name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise InputError(f"{name}={value!r}; expected one of {choices}")
    return value


def as_sizes(value, name: str) -> tuple[int, ...]:
    """Layer widths: a sequence of positive whole numbers; one number is one layer."""
    items = [value] if _is_number(value) or isinstance(value, str) else value
    try:
        return tuple(as_count(item, name) for item in items)
    except (InputError, TypeError) as error:
        raise InputError(f"{name}={value!r}; expected positive whole numbers such as [64] or [64, 32]") from error


def as_tickers(value, name: str = "tickers") -> tuple[str, ...]:
    """Ticker symbols; one text such as 'MSFT' or 'SPY, TLT' (as a command line passes it) is split
    on commas and spaces."""
    items = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else list(value)
    not_text = [item for item in items if not isinstance(item, str) or not item.strip()]
    if not items or not_text:
        raise InputError(f"{name}={value!r}; expected ticker symbols such as ['SPY', 'TLT']"
                         + (f", got {not_text}" if not_text else ""))
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise InputError(f"{name}={value!r} lists {repeated} more than once; list each ticker once")
    return tuple(items)


def as_optional_date(value, name: str) -> str | None:
    """None, or a date in a form pandas reads, returned as 'YYYY-MM-DD'."""
    if value is None:
        return None
    stamp = _timestamp(value)
    if stamp is None:
        raise InputError(f"{name}={value!r}; expected a date such as '2015-01-31', or None")
    return f"{stamp:%Y-%m-%d}"


def as_date_range(start, end) -> tuple[str | None, str | None]:
    """Two optional dates, the first before the second; a year as `end` (2019 or '2019') means
    the last day of that year, as it does for a split end, and as `start` its first day."""
    start = as_optional_date(f"{_year(start)}-01-01" if _year(start) else start, "start")
    end = as_optional_date(f"{_year(end)}-12-31" if _year(end) else end, "end")
    if start and end and start >= end:
        raise InputError(f"start={start!r} is not before end={end!r}; the date range would hold no returns")
    return start, end


def _year(value) -> int | None:
    """A year given alone, as a number (a command line's 2019) or as four digits."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return value
    return None


def _timestamp(value) -> pd.Timestamp | None:
    if isinstance(value, bool) or _is_number(value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp


def as_period_end(value, name: str) -> float | pd.Timestamp:
    """The end of a period: a fraction in (0, 1) of the days, a date, or a year (2019 or '2019',
    meaning the last day of that year)."""
    if _year(value):
        return pd.Timestamp(f"{_year(value)}-12-31")
    if _is_number(value) or isinstance(value, str) and re.fullmatch(r"\s*0?\.\d+\s*", value):
        return as_number(value, name, 0, 1, open_low=True, open_high=True)
    stamp = _timestamp(value)
    if stamp is None:
        raise InputError(f"{name}={value!r}; expected a fraction in (0, 1) of the days, a date such as "
                         "'2015-12-31' or a year such as 2015")
    return stamp


def check_days(days, name: str = "days") -> pd.DatetimeIndex:
    """A sorted calendar without repeats: anything else would let a split put later days first."""
    days = pd.DatetimeIndex(days)
    repeated = days[days.duplicated()]
    if len(repeated):
        raise InputError(f"{name} repeat {[str(d.date()) for d in repeated[:3]]}; each day must appear once")
    if not days.is_monotonic_increasing:
        position = int(np.argmax(days[1:] < days[:-1]))
        raise InputError(f"{name} are not sorted: {days[position + 1].date()} comes after {days[position].date()}; "
                         "sort them oldest first")
    return days


def check_finite_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Reject missing or infinite values, naming the columns and the first day they occur."""
    bad = ~np.isfinite(frame.to_numpy(dtype=float))
    if bad.any():
        rows, columns = np.nonzero(bad)
        raise InputError(f"{name} has {int(bad.sum())} missing or infinite values, first in "
                         f"{list(frame.columns[np.unique(columns)][:5])} on {frame.index[rows[0]]!r}; "
                         "fill or drop them before this step")
    return frame


def check_moving_returns(returns, name: str = "returns") -> np.ndarray:
    """A window of returns (days x assets) fit for a covariance: finite, and every asset moves.

    A stale asset (a constant price, common in real downloads) has zero variance, and a
    minimum-variance portfolio would put most of its weight there without a word.
    """
    frame = returns if isinstance(returns, pd.DataFrame) else pd.DataFrame(np.asarray(returns, dtype=float))
    check_finite_frame(frame, name)
    values = frame.to_numpy(dtype=float)
    if len(values) < 2:
        raise InputError(f"{name} has n_samples={len(values)} day(s); a covariance needs at least 2")
    flat = values.std(axis=0) == 0
    if flat.any():
        raise InputError(f"{name} has assets that do not move over the {len(values)} days: "
                         f"{list(frame.columns[flat])}; drop a stale series or move the window")
    return values


def check_parameters(namespace: dict) -> None:
    """Read a chapter's parameters the way their annotations say, in place, or fail naming one.

    The annotated names of the chapter's namespace are its parameters cell. papermill's `-r`
    and YAML pass text, whole floats and single values where a reader meant a count, a
    number or a list: '12' becomes 12, 64 for a list becomes [64], 'SPY, TLT' becomes
    ['SPY', 'TLT']; a value no annotated type can read raises `InputError`.
    """
    for name, annotation in namespace.get("__annotations__", {}).items():
        if name in namespace:
            namespace[name] = as_annotated(namespace[name], annotation, name)


def as_annotated(value, annotation, name: str):
    """`value` as the first type of `annotation` (int, float, str, list, or a union of them
    with None) that holds it as given, else the first that reads it."""
    kinds = typing.get_args(annotation) or (annotation,)
    if value is None and type(None) in kinds:
        return None
    readers = [READERS[kind] for kind in kinds if kind in READERS]
    for kind in kinds:
        if kind in READERS and type(value) is kind:
            return READERS[kind](value, name)
    errors = []
    for reader in readers:
        try:
            return reader(value, name)
        except InputError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    wanted = " or ".join(getattr(kind, "__name__", str(kind)).replace("NoneType", "None") for kind in kinds)
    raise InputError(f"{name}={value!r}; expected {wanted}, as the chapter's parameters cell declares")


def _as_text(value, name: str) -> str:
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    raise InputError(f"{name}={value!r}; expected text")


def _as_list(value, name: str) -> list:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        parsed = yaml.safe_load(value) if value.strip() else []
        if isinstance(parsed, list):
            return parsed
        return [yaml.safe_load(item) for item in value.split(",") if item.strip()]
    if _is_number(value) or isinstance(value, bool):
        return [value]
    raise InputError(f"{name}={value!r}; expected a list such as [1, 2]")


READERS = {
    int: lambda value, name: as_count(value, name, minimum=0),
    float: lambda value, name: as_number(value, name),
    str: _as_text,
    list: _as_list,
}
