"""Two kinds of claim, checked at the end of a chapter.

Invariants hold on any data (causality, a cap the model enforces, a recorded number that
matches its recount): they fail hard at once, on any parameters. Findings are what the
default data show ("correlations rise in stress"): a chapter rerun on other data may not
show them, and that is a result, not an error. A finding fails hard only when the chapter
runs at its default parameters (the full book build); otherwise the chapter completes,
lists each finding with its numbers and whether it holds, and warns about those that do
not.

Both are declared with a rule of `helpers.claims` that carries the numbers it rests on
(estimate, baseline, interval or seed spread), so a chapter's table of claims shows them.
"""
from __future__ import annotations

import ast
import json
import warnings
from dataclasses import asdict
from pathlib import Path

import jupytext
import pandas as pd
from IPython.display import Markdown, Pretty
from myst_nb import glue

from helpers.claims import NUMBERS
from helpers.validate import InputError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


class FindingNotHeld(AssertionError):
    """A finding of the prose does not hold at the chapter's default parameters."""


class InvariantBroken(AssertionError):
    """A claim that must hold on any data does not: a bug, not a result."""


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
    """The claims a chapter's prose states, checked where their numbers are computed.

    Each claim glues `finding_<key>`: empty when the finding holds, a visible warning when
    it does not, so the prose can carry the verdict next to the sentence that states it.
    """

    def __init__(self, enforce: bool):
        self.enforce = enforce
        self.rows: list[dict] = []

    @classmethod
    def for_chapter(cls, chapter: str, namespace: dict) -> Findings:
        return cls(enforce=at_defaults(chapter, namespace))

    def claim(self, key: str, sentence: str, rule) -> bool:
        """Record a finding whose `rule` (from helpers.claims) decides whether it holds."""
        return self._record(key, sentence, rule, "finding")

    def invariant(self, key: str, sentence: str, rule) -> None:
        """Record a claim that holds on any data; raise at once, on any parameters, if it does not."""
        if not self._record(key, sentence, rule, "invariant"):
            raise InvariantBroken(f"{sentence} ({rule.describe()})")

    def _record(self, key: str, claim: str, rule, kind: str) -> bool:
        if any(row["key"] == key for row in self.rows):
            raise InputError(f"finding {key!r} is checked twice; give each finding one key")
        holds, numbers = bool(rule.holds), rule.describe()
        self.rows.append({"key": key, "kind": kind, "claim": claim, **rule.numbers(), "numbers": numbers,
                          "holds": holds, "rule": type(rule).__name__, "parameters": asdict(rule)})
        verdict = "" if holds else f" **[Not with these parameters: {numbers}.]**"
        glue(f"finding_{key}", Markdown(verdict or "\u200b"), display=False)
        return holds

    def table(self) -> pd.DataFrame:
        columns = ["key", "kind", "claim", *NUMBERS, "numbers", "holds", "rule", "parameters"]
        return pd.DataFrame(self.rows, columns=columns).set_index("key")

    def summary(self) -> pd.DataFrame:
        """The claims as a reader reads them: the sentence, its numbers, and whether it holds."""
        table = self.table()

        def shown(value: float) -> str:
            return "" if pd.isna(value) else f"{value:.4g}"

        return pd.DataFrame({
            "claim": table["claim"],
            "kind": table["kind"],
            "estimate": table["estimate"].map(shown),
            "baseline": table["baseline"].map(shown),
            "interval or range": [f"{shown(low)} to {shown(high)}" if not pd.isna(low) else ""
                                  for low, high in zip(table["low"], table["high"], strict=True)],
            "holds": table["holds"].map({True: "yes", False: "no"}),
        }, index=table.index)

    def records(self) -> list[dict]:
        """The claims as plain records (a missing number is None), for pages that gather them and
        for tests that rebuild each rule from its name and parameters."""
        table = self.table().reset_index().astype(object)
        return table.where(table.notna(), None).to_dict("records")

    def report(self) -> pd.DataFrame:
        """The reader's table of claims; raises at default parameters if a finding fails, warns otherwise.

        Glues the table (`claims_table`) and the records (`claims_data`), which the results
        page of the book gathers from every chapter."""
        failed = [row for row in self.rows if not row["holds"]]
        if failed and self.enforce:
            raise FindingNotHeld(
                "findings of the prose do not hold at the chapter's default parameters: "
                + "; ".join(f"{row['claim']} ({row['numbers']})" for row in failed)
            )
        for row in failed:
            warnings.warn(f"finding does not hold with these parameters: {row['claim']} ({row['numbers']})",
                          stacklevel=2)
        summary = self.summary()
        glue("claims_table", summary.set_index("claim"), display=False)
        glue("claims_data", Pretty(json.dumps(self.records())), display=False)  # plain text: JSON as it is
        return summary
