"""Every rule of helpers.claims holds on the numbers that satisfy it and fails when they move."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.replications import rank_among, replication_interval
from helpers.claims import (
    RULES,
    Above,
    AtMost,
    Below,
    Between,
    Equivalent,
    EverySeed,
    Higher,
    Inconclusive,
    Lower,
    NotHigher,
    NotLower,
    NotMeasured,
    Within,
    brief_verdict,
    difference_verdict,
    every_seed,
    interval_90,
    margin_verdict,
    measured,
    needed_to_settle,
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
    (Higher(0.12, 0.02, 0.2, 0.01, 10), Higher(0.12, -0.01, 0.2, 0.01, 10)),
    (Lower(-0.3, -0.5, -0.1, 0.1, 10), Lower(-0.3, -0.5, 0.1, 0.1, 10)),
    (Equivalent(0.001, -0.004, 0.006, 0.01, 10), Equivalent(0.001, -0.004, 0.012, 0.01, 10)),
    (Inconclusive(0.001, -0.004, 0.012, 0.01, 10), Inconclusive(0.001, -0.004, 0.006, 0.01, 10)),
    (NotHigher(0.02, -0.001, 0.04, 0.01, 10), NotHigher(0.02, 0.001, 0.04, 0.01, 10)),
    (NotLower(-0.02, -0.04, 0.001, 0.01, 10), NotLower(-0.02, -0.04, -0.001, 0.01, 10)),
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
    (lambda: Higher(0.1, 0.3, 0.2, 0.01, 10), "expected low <= high"),
    (lambda: Equivalent(0.0, -0.1, 0.1, 0.0, 10), "margin=0.0; expected a positive"),
    (lambda: Inconclusive(0.0, -0.1, 0.1, 0.01, 0, "years"), "n=0; expected the positive number of years"),
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


@pytest.mark.parametrize(("low", "high", "verdict"), [
    (0.0001, 0.3, "higher"), (-0.0001, 0.3, "inconclusive"),
    (-0.3, -0.0001, "lower"), (-0.3, 0.0001, "inconclusive"),
    # the 90% interval of (-0.0118, 0.0118) is (-0.0099, 0.0099): inside a margin of 0.01; a little wider is not
    (-0.0118, 0.0118, "equivalent"), (-0.0122, 0.0122, "inconclusive"),
])
def test_each_line_of_the_margin_verdict_flips_it(low, high, verdict):
    estimate = (low + high) / 2
    assert margin_verdict(estimate, low, high, margin=0.01) == verdict


def test_the_90_percent_interval_keeps_an_asymmetric_interval_asymmetric():
    low_90, high_90 = interval_90(0.1, 0.0, 0.3)
    assert 0.0 < low_90 < 0.1 < high_90 < 0.3
    assert (high_90 - 0.1) / (0.1 - low_90) == pytest.approx(2.0)


def planted_markets(difference: float, n_markets: int, spread: float = 0.02, seed: int = 0):
    """Per-market differences of known mean, as a study over markets would measure them."""
    values = np.random.default_rng(seed).normal(difference, spread, n_markets)
    return replication_interval(values)


def test_planted_differences_are_read_at_their_size():
    margin = 0.01
    ahead = planted_markets(2 * margin, 20)
    assert margin_verdict(*ahead, margin) == "higher"
    assert difference_verdict(ahead, margin, 20, "markets").endswith("clearing the margin of 0.01")
    assert margin_verdict(*planted_markets(0.0, 200), margin) == "equivalent"
    few = planted_markets(0.0, 4)
    assert margin_verdict(*few, margin) == "inconclusive"
    needed = needed_to_settle(few["low"], few["high"], margin, 4, estimate=few["estimate"])
    assert f"about {needed:,} markets would settle it" in difference_verdict(few, margin, 4, "markets")


def test_the_number_that_would_settle_it_shrinks_the_interval_to_the_margin():
    assert needed_to_settle(-0.02, 0.02, 0.01, 10, estimate=0.0) == 40
    assert needed_to_settle(-0.002, 0.002, 0.01, 10, estimate=0.0) == 1
    # an estimate near the margin is settled sooner by excluding zero than by fitting inside the margin
    assert needed_to_settle(-0.0023, 0.0171, 0.01, 5, estimate=0.0074) == 9
    # from a pilot large enough to know its spread, the named number of markets gives an
    # interval whose half-width is about the margin
    pilot = planted_markets(0.0, 50, spread=0.1)
    needed = needed_to_settle(pilot["low"], pilot["high"], 0.02, 50, estimate=0.0)
    settled = planted_markets(0.0, needed, spread=0.1, seed=1)
    assert (settled["high"] - settled["low"]) / 2 == pytest.approx(0.02, rel=0.2)


def test_a_margin_verdict_refuses_a_reversed_interval():
    with pytest.raises(ValueError, match="low <= high"):
        difference_verdict({"estimate": 0.2, "low": 0.3, "high": 0.1}, 0.01, 10, "markets")


def test_the_brief_verdict_names_what_would_settle_it_or_whether_the_margin_is_cleared():
    assert brief_verdict({"estimate": 0.0, "low": -0.02, "high": 0.02}, 0.01, 10, "markets") == \
        "inconclusive (about 40 markets would settle it)"
    assert brief_verdict({"estimate": 0.0, "low": -0.001, "high": 0.001}, 0.01, 10, "markets") == \
        "equivalent within the margin of 0.01"
    assert brief_verdict({"estimate": 0.005, "low": 0.001, "high": 0.009}, 0.01, 10, "markets") == \
        "higher, but inside the margin of 0.01"
    assert brief_verdict({"estimate": -0.05, "low": -0.07, "high": -0.03}, 0.01, 10, "markets") == \
        "lower, clearing the margin of 0.01"


def test_the_verdicts_name_the_directions_in_the_readers_terms_and_say_when_nothing_was_measured():
    behind = {"estimate": -0.05, "low": -0.07, "high": -0.03}
    assert brief_verdict(behind, 0.01, 10, "markets", higher="the autoencoder's are closer",
                         lower="PCA's are closer") == "PCA's are closer, clearing the margin of 0.01"
    unmeasured = {"estimate": 0.1, "low": float("nan"), "high": float("nan")}
    for verdict in (brief_verdict, difference_verdict):
        assert verdict(unmeasured, 0.01, 1, "markets", missing="fewer than two markets") == "fewer than two markets"
        assert verdict(None, 0.01, 1, "markets") == "not measured"
        assert verdict(behind, 0.01, 10, "markets") != "not measured"


@pytest.mark.parametrize(("interval", "verdict"), [
    ((-0.03, -0.05, -0.01), "lower"), ((0.001, -0.004, 0.006), "equivalent"), ((0.01, -0.01, 0.03), "inconclusive"),
])
def test_a_one_sided_claim_holds_on_every_reading_but_the_one_it_rules_out(interval, verdict):
    assert margin_verdict(*interval, 0.01) == verdict
    assert NotHigher(*interval, 0.01, 10).holds
    estimate, low, high = interval
    assert NotLower(-estimate, -high, -low, 0.01, 10).holds
    assert not NotHigher(0.03, 0.01, 0.05, 0.01, 10).holds
    assert not NotLower(-0.03, -0.05, -0.01, 0.01, 10).holds


def test_a_rank_among_markets_names_the_ranks_a_tie_shares():
    values = pd.Series([0.9, 1.0, 1.0, 0.5, 1.0], index=[10, 11, 12, 13, 14])
    assert rank_among(values, 13) == "ranks 5 of 5"
    assert rank_among(values, 10) == "ranks 4 of 5"
    assert rank_among(values, 11) == "ties for ranks 1 to 3 of 5 (equal on 3 markets)"
    with pytest.raises(ValueError, match="99 is not among the markets"):
        rank_among(values, 99)
