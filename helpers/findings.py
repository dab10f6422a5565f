"""Two kinds of check at the end of a chapter.

Invariants hold on any data (causality, shapes, weights that sum to one): they are plain
asserts and always fail hard. Findings are what the default data show ("correlations rise
in stress"): a chapter rerun on other data may not show them, and that is a result, not an
error. A finding fails hard only when the chapter runs at its default parameters (the full
book build); otherwise the chapter completes, lists each finding with its numbers and
whether it holds, and warns about those that do not.

A finding is declared either with `claim`, with a rule of `helpers.claims` that carries the
numbers it rests on (estimate, baseline, interval or seed spread), or with `check`, a
condition and a line of numbers.
"""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import jupytext
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from helpers.claims import NUMBERS
from helpers.validate import InputError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


class FindingNotHeld(AssertionError):
    """A finding of the prose does not hold at the chapter's default parameters."""


def default_parameters(chapter: str) -> dict:
    """The values of the `parameters` cell of notebooks/<chapter>.md, as the chapter's text sets them."""
    path = NOTEBOOKS / f"{chapter}.md"
    if not path.exists():
        raise InputError(f"chapter={chapter!r}: no {path}; expected the stem of a notebooks/NN_name.md file")
    cells = [c for c in jupytext.read(path).cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise InputError(f"{path.name} has {len(cells)} cells tagged 'parameters'; expected one")
    defaults = {}
    for statement in ast.parse(cells[0].source).body:
        if isinstance(statement, ast.AnnAssign | ast.Assign):
            target = statement.target if isinstance(statement, ast.AnnAssign) else statement.targets[0]
            defaults[target.id] = ast.literal_eval(statement.value)
    return defaults


def at_defaults(chapter: str, namespace: dict) -> bool:
    """Whether every parameter in `namespace` has its default value (lists and tuples compare alike)."""

    def same(value, default):
        if isinstance(value, list | tuple) and isinstance(default, list | tuple):
            return list(value) == list(default)
        return value == default

    defaults = default_parameters(chapter)
    return all(name in namespace and same(namespace[name], value) for name, value in defaults.items())


class Findings:
    """The findings a chapter's prose states, checked where their numbers are computed.

    Each `check` glues `finding_<key>`: empty when the finding holds, a visible warning when
    it does not, so the prose can carry the verdict next to the sentence that states it.
    """

    def __init__(self, enforce: bool):
        self.enforce = enforce
        self.rows: list[dict] = []

    @classmethod
    def for_chapter(cls, chapter: str, namespace: dict) -> Findings:
        return cls(enforce=at_defaults(chapter, namespace))

    def check(self, key: str, holds, claim: str, numbers: str = "") -> bool:
        return self._record(key, claim, bool(holds), numbers, dict.fromkeys(NUMBERS, float("nan")))

    def claim(self, key: str, sentence: str, rule) -> bool:
        """Record a finding whose `rule` (from helpers.claims) decides whether it holds."""
        return self._record(key, sentence, bool(rule.holds), rule.describe(), rule.numbers())

    def _record(self, key: str, claim: str, holds: bool, numbers: str, values: dict[str, float]) -> bool:
        if any(row["key"] == key for row in self.rows):
            raise InputError(f"finding {key!r} is checked twice; give each finding one key")
        self.rows.append({"key": key, "claim": claim, **values, "numbers": numbers, "holds": holds})
        verdict = "" if holds else f" **[Not with these parameters: {numbers}.]**"
        glue(f"finding_{key}", Markdown(verdict or "\u200b"), display=False)
        return holds

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["key", "claim", *NUMBERS, "numbers", "holds"]).set_index("key")

    def report(self) -> pd.DataFrame:
        """The table of findings; raises at default parameters if one fails, warns otherwise."""
        failed = [row for row in self.rows if not row["holds"]]
        if failed and self.enforce:
            raise FindingNotHeld(
                "findings of the prose do not hold at the chapter's default parameters: "
                + "; ".join(f"{row['claim']} ({row['numbers']})" for row in failed)
            )
        for row in failed:
            warnings.warn(f"finding does not hold with these parameters: {row['claim']} ({row['numbers']})",
                          stacklevel=2)
        return self.table().dropna(axis=1, how="all")  # the numbers columns only where a claim has them
