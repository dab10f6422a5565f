"""Checks of the values a reader passes, as papermill and Jupyter pass them.

Each returns the value in its canonical type or raises a ValueError that names the
parameter, the value and what would be accepted.
"""
from __future__ import annotations

import numbers

import pandas as pd


def as_count(value, name: str, minimum: int = 1) -> int:
    """A whole number >= `minimum`; "12" (text from a command line) and 12.0 are accepted as 12."""
    number = value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
        number = int(value)
    if not isinstance(number, int) or isinstance(number, bool) or number < minimum:
        raise ValueError(f"{name}={value!r}; expected a whole number >= {minimum}")
    return number


def as_optional_date(value, name: str) -> str | None:
    """None, or a date in a form pandas reads, returned as 'YYYY-MM-DD'."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={value!r}; expected a date such as '2015-01-31', or None") from error
    if pd.isna(stamp):
        raise ValueError(f"{name}={value!r}; expected a date such as '2015-01-31', or None")
    return f"{stamp:%Y-%m-%d}"
