"""Many comparisons at once: which of the book's "higher" and "lower" verdicts survive
Benjamini-Hochberg control of the false discovery rate over every comparison it states.

A book that makes dozens of comparisons at 5% would call a few of them ahead or behind by
chance alone. Every comparison read against a margin (helpers.claims: Higher, Lower,
Equivalent, Inconclusive, NotHigher, NotLower) has a p-value of a zero difference; the Benjamini-Hochberg
adjustment over all of them keeps the expected share of false "higher" and "lower"
verdicts among those that survive at or below `rate`.
"""
from __future__ import annotations

import pandas as pd
from scipy.stats import false_discovery_control

from helpers import claims
from helpers.validate import InputError, as_number

COMPARISONS = (claims.Higher, claims.Lower, claims.Equivalent, claims.Inconclusive, claims.NotHigher, claims.NotLower)


def comparison_table(recorded: dict[str, list[dict]]) -> pd.DataFrame:
    """Every comparison the pages recorded (see helpers.glued.recorded_claims), with its
    verdict and p-value, one row per (page, key)."""
    rows = []
    for page, records in recorded.items():
        for record in records:
            rule = getattr(claims, record["rule"])(**record["parameters"])
            if isinstance(rule, COMPARISONS):
                rows.append({"page": page, "key": record["key"], "claim": record["claim"], "verdict": rule.verdict,
                             "estimate": rule.estimate, "p": rule.p_value})
    return pd.DataFrame(rows, columns=["page", "key", "claim", "verdict", "estimate", "p"]).set_index(["page", "key"])


def false_discoveries(recorded: dict[str, list[dict]], rate: float = 0.05) -> pd.DataFrame:
    """`comparison_table` with the Benjamini-Hochberg adjusted p-value of each comparison
    (over all of them) and whether a "higher" or "lower" verdict survives at `rate`."""
    rate = as_number(rate, "rate", 0, 1, open_low=True, open_high=True)
    table = comparison_table(recorded)
    if table.empty:
        raise InputError("the pages recorded no comparison read against a margin; expected at least one")
    table["adjusted p"] = false_discovery_control(table["p"].to_numpy(), method="bh")
    table["survives"] = table["verdict"].isin(["higher", "lower"]) & (table["adjusted p"] <= rate)
    return table
