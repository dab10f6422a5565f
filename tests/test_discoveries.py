"""The false-discovery control over the book's comparisons: planted differences survive,
chance ones do not, and each verdict keeps its p-value."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from helpers.claims import Equivalent, Higher, Inconclusive, Lower
from helpers.discoveries import comparison_table, false_discoveries


def record(key, rule):
    return {"key": key, "claim": key, "rule": type(rule).__name__, "parameters": asdict(rule)}


def test_the_p_value_goes_with_the_interval():
    at_the_edge = Higher(1.96, 0.0, 3.92, 0.1, 10)  # the interval just touches zero: p = 0.05
    assert at_the_edge.p_value == pytest.approx(0.05, abs=1e-6)
    assert Higher(0.5, 0.3, 0.7, 0.1, 10).p_value < 1e-5
    assert Inconclusive(0.0, -0.2, 0.2, 0.1, 10).p_value == pytest.approx(1.0)


def test_many_chance_verdicts_do_not_survive_while_a_planted_difference_does():
    rng = np.random.default_rng(0)
    # forty comparisons of no true difference, each with a standard error of 1, and one planted difference of 6
    null = [rng.normal(0, 1) for _ in range(40)]
    rules = [(f"null_{number}", (Higher if value > 0 else Lower)(value, value - 1.96, value + 1.96, 0.5, 10))
             for number, value in enumerate(null)]
    recorded = {"chapter": [record(key, rule) for key, rule in rules if rule.holds]
                + [record(key, Inconclusive(rule.estimate, rule.low, rule.high, 0.5, 10))
                   for key, rule in rules if not rule.holds]
                + [record("planted", Higher(6.0, 4.04, 7.96, 0.5, 10))]}
    table = false_discoveries(recorded)
    chance_calls = table[table["verdict"].isin(["higher", "lower"])].drop(("chapter", "planted"))
    assert len(chance_calls) >= 1, "at 5% some of forty null comparisons read higher or lower"
    assert not chance_calls["survives"].any()
    assert table.loc[("chapter", "planted"), "survives"]
    assert (table["adjusted p"] >= table["p"]).all()


def test_only_comparisons_read_against_a_margin_are_counted():
    recorded = {"a": [record("level", Equivalent(0.0, -0.01, 0.01, 0.1, 10)),
                      {"key": "cap", "claim": "cap", "rule": "AtMost", "parameters": {"estimate": 1.0, "baseline": 2.0,
                                                                                      "margin": 0.0}}]}
    assert list(comparison_table(recorded).index) == [("a", "level")]
    with pytest.raises(ValueError, match="no comparison read against a margin"):
        false_discoveries({"a": recorded["a"][1:]})
