"""Every rule of helpers.claims holds on the numbers that satisfy it and fails when they move."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.claims import (
    RULES,
    Above,
    AtMost,
    Below,
    Between,
    EverySeed,
    ExcludesZero,
    IncludesZero,
    NotMeasured,
    Within,
    difference_verdict,
    every_seed,
    measured,
)
from helpers.findings import FindingNotHeld, Findings, InvariantBroken

# (rule that holds, the same rule with its numbers moved so that it fails)
CASES = [
    (Above(0.05, 0.0), Above(-0.01, 0.0)),
    (Above(0.05, 0.0, margin=0.01), Above(0.05, 0.0, margin=0.06)),
    (Below(9.1, 9.3), Below(9.4, 9.3)),
    (Below(9.1, 9.3, margin=0.1), Below(9.25, 9.3, margin=0.1)),
    (AtMost(32, 32), AtMost(33, 32)),
    (Within(4.0, 4.0 + 1e-12, margin=1e-9), Within(4.0, 4.01, margin=1e-9)),
    (Between(0.86, 0.6, 0.95), Between(0.97, 0.6, 0.95)),
    (ExcludesZero(0.12, 0.02, 0.2), ExcludesZero(0.12, -0.01, 0.2)),
    (ExcludesZero(-0.3, -0.5, -0.1), ExcludesZero(-0.3, -0.5, 0.1)),
    (ExcludesZero(-0.3, -0.5, -0.1, side="below"), ExcludesZero(0.3, 0.1, 0.5, side="below")),
    (ExcludesZero(0.3, 0.1, 0.5, side="above"), ExcludesZero(-0.3, -0.5, -0.1, side="above")),
    (IncludesZero(0.11, -0.01, 0.25), IncludesZero(0.11, 0.01, 0.25)),
    (EverySeed((0.049, 0.053, 0.05)), EverySeed((0.049, -0.001, 0.05))),
    (EverySeed((-0.01, -0.02), side="below"), EverySeed((-0.01, 0.02), side="below")),
]


@pytest.mark.parametrize(("holding", "failing"), CASES, ids=[type(h).__name__ for h, _ in CASES])
def test_each_rule_holds_and_can_fail(holding, failing):
    assert holding.holds
    assert not failing.holds
    numbers = holding.numbers()
    assert set(numbers) == {"estimate", "baseline", "low", "high"}
    assert not math.isnan(numbers["estimate"])
    assert holding.describe()


def test_every_rule_type_is_covered():
    assert {type(holding) for holding, _ in CASES} | {NotMeasured} == set(RULES)


def test_a_claim_without_numbers_does_not_hold_and_says_why():
    assert every_seed([], missing="no market at nonlinearity 1") == NotMeasured("no market at nonlinearity 1")
    assert not NotMeasured("no market at nonlinearity 1").holds
    assert every_seed([0.1, 0.2]).holds
    assert measured(Above, float("nan"), 1.0, missing="no stress days") == NotMeasured("no stress days")
    assert measured(Above, 2.0, 1.0) == Above(2.0, 1.0)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Above(float("nan"), 0.0), "Above.estimate=nan"),
    (lambda: Above("0.1", 0.0), "Above.estimate='0.1'"),
    (lambda: Between(0.5, 0.9, 0.1), "low < high"),
    (lambda: ExcludesZero(0.1, 0.3, 0.2), "expected low <= high"),
    (lambda: ExcludesZero(0.1, 0.0, 0.2, side="up"), "side='up'"),
    (lambda: EverySeed(()), "at least one seed"),
    (lambda: EverySeed((0.1,), side="left"), "side='left'"),
    (lambda: EverySeed((0.1, float("nan"))), "hold NaN"),
])
def test_rules_refuse_what_they_cannot_judge(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_claim_that_fails_stops_an_enforced_chapter_and_names_itself():
    findings = Findings(enforce=True)
    assert findings.claim("lead", "the VAE leads PCA in every seed", EverySeed((0.05, 0.04)))
    assert not findings.claim("shrinkage", "Ledoit-Wolf is lowest", Below(3.9, 3.7))
    table = findings.table()
    assert table.loc["lead", "estimate"] == pytest.approx(0.045)
    assert table.loc["lead", "low"] == 0.04 and table.loc["shrinkage", "baseline"] == 3.7
    with pytest.raises(FindingNotHeld, match="Ledoit-Wolf is lowest \\(3.9 < 3.7\\)"):
        findings.report()


def test_a_failing_claim_is_reported_not_raised_on_other_parameters():
    findings = Findings(enforce=False)
    findings.claim("shrinkage", "Ledoit-Wolf is lowest", Below(3.9, 3.7))
    with pytest.warns(UserWarning, match="Ledoit-Wolf is lowest"):
        table = findings.report()
    assert table.loc["shrinkage", "holds"] == "no"


def test_a_broken_invariant_raises_at_once_on_any_parameters():
    findings = Findings(enforce=False)
    findings.invariant("cap", "at most k features are active", AtMost(32, 32))
    with pytest.raises(InvariantBroken, match="at most k features are active \\(33 <= 32\\)"):
        findings.invariant("cap_test", "at most k features are active", AtMost(33, 32))
    assert findings.table().loc["cap", "kind"] == "invariant"


def test_the_records_a_results_page_gathers_carry_every_number_or_none():
    findings = Findings(enforce=True)
    findings.claim("lead", "the VAE leads PCA in every seed", EverySeed((0.05, 0.04)))
    findings.claim("ordering", "Ledoit-Wolf is lowest", Below(3.6, 3.7))
    lead, ordering = findings.records()
    assert lead["low"] == 0.04 and lead["high"] == 0.05 and lead["kind"] == "finding"
    assert ordering["low"] is None and ordering["estimate"] == 3.6 and ordering["holds"]


def test_the_verdict_of_an_interval_follows_its_sign():
    assert difference_verdict({"low": -0.3, "high": -0.1}).startswith("lower")
    assert difference_verdict({"low": 0.1, "high": 0.3}).startswith("higher")
    assert difference_verdict(pd.Series({"low": -0.1, "high": 0.3})).startswith("not distinguishable")
    with pytest.raises(ValueError, match="low <= high"):
        difference_verdict({"low": 0.3, "high": 0.1})
