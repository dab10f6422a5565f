"""Checks over the executed chapters and pages of the built book (run after `make book`).

Chapters that reuse a trained stage (Chapter 3 reuses Chapter 2's dense autoencoder, Chapter
11 reuses Chapter 6's covariance race and Chapter 10's signal study, ...) each glue the cache
key of the stage they build, `stage_key_<stage>`. Equal keys mean they share one trained
model; a chapter that retypes a parameter and drifts trains a second one silently, and
fails here.
"""
from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest

import helpers.claims as claims
from helpers.discoveries import false_discoveries
from helpers.glued import book_numbers, recorded_claims

pytestmark = pytest.mark.built

BUILD = Path(__file__).resolve().parent.parent / "_build"
EXECUTED = BUILD / "jupyter_execute" / "notebooks"
SITE = BUILD / "html"
PREFIX = "stage_key_"
SHARED_STAGES = ("dense", "sparse", "race_real", "signal", "vae_real")


@pytest.fixture(scope="module")
def stage_keys():
    if not EXECUTED.exists():
        pytest.fail(f"no executed chapters in {EXECUTED}: run `make book` first")
    numbers = book_numbers(EXECUTED)
    return numbers[numbers["name"].str.startswith(PREFIX)]


def test_every_shared_stage_is_named_by_at_least_two_chapters(stage_keys):
    chapters = stage_keys.groupby("name")["chapter"].nunique()
    assert set(chapters.index) >= {f"{PREFIX}{stage}" for stage in SHARED_STAGES}
    assert (chapters >= 2).all(), chapters[chapters < 2].to_dict()


def test_chapters_that_share_a_stage_build_the_same_config(stage_keys):
    disagreeing = {
        name: dict(zip(group["chapter"], group["value"], strict=True))
        for name, group in stage_keys.groupby("name")
        if group["value"].nunique() > 1
    }
    assert not disagreeing, f"chapters build different configs of a shared stage: {disagreeing}"


# Each model chapter shows its model's code and the training loop, included from the helpers
# (so the page shows the code that ran): the listing's label and a line of the code.
MODEL_LISTINGS = {
    "02_dense_autoencoder": {
        "code-dense-autoencoder": "class DenseAutoencoder(nn.Module)",
        "code-fit": "def fit(model",
        "code-train-dense": "def train_dense(config",
    },
    "03_sparse_features": {
        "code-sparse-autoencoder": "class SparseAutoencoder(nn.Module)",
        "code-train-sparse": "def train_sparse(config",
    },
    "04_vae_factors": {
        "code-vae": "class VAE(nn.Module)",
        "code-train-vae": "def train_vae(config",
    },
    "05_conditional_autoencoder": {
        "code-conditional-ae": "class ConditionalAutoencoder(nn.Module)",
        "code-train-pricing": "def _train_members(instruments",
        "code-ipca": "def fit(self, characteristics",
    },
    "06_covariance": {
        "code-pca-covariance": "class PCAFactorCovariance(BaseEstimator)",
        "code-vae-covariance": "def fit(self, returns",
        "code-race": "def run_covariance_race(config",
        "code-races-over-markets": "def run_races_over_markets(config",
        "code-nonlinear-shrinkage": "def shrunk_eigenvalues(sample",
    },
    "07_anomalies": {"code-anomaly-score": "def anomaly_score(errors"},
    "08_regimes": {"code-forward-filter": "def filtered_probabilities(self"},
    "09_scenarios": {"code-generate": "def generate(model"},
    "10_supervised_autoencoder": {
        "code-supervised-autoencoder": "class SupervisedAutoencoder(nn.Module)",
        "code-signal-study": "def run_signal_study(config",
    },
    "11_backtest": {"code-backtest": "def run_backtest("},
}


@pytest.mark.parametrize("chapter", sorted(MODEL_LISTINGS))
def test_model_chapters_show_the_model_and_the_training_loop(chapter):
    page = SITE / "notebooks" / f"{chapter}.html"
    if not page.exists():
        pytest.fail(f"no built page {page}: run `make book` first")
    html = page.read_text()
    for label, code in MODEL_LISTINGS[chapter].items():
        start = html.find(f'id="{label}"')
        assert start >= 0, f"{chapter} has no listing {label}"
        listing = re.sub(r"<[^>]+>", "", html[start : html.find("</pre>", start)])
        assert unescape(code) in unescape(listing), f"listing {label} of {chapter} does not show {code!r}"


def contradicted(rule):
    """The same rule with its numbers moved just across the line it draws."""
    if isinstance(rule, claims.Above):
        return replace(rule, estimate=rule.baseline + rule.margin)
    if isinstance(rule, claims.Below):
        return replace(rule, estimate=rule.baseline - rule.margin)
    if isinstance(rule, claims.AtMost):
        return replace(rule, estimate=rule.baseline - rule.margin + 1.0)
    if isinstance(rule, claims.Within):
        return replace(rule, estimate=rule.baseline + rule.margin + 1.0)
    if isinstance(rule, claims.Between):
        return replace(rule, estimate=rule.high)
    if isinstance(rule, claims.Inconclusive):
        return replace(rule, estimate=0.0, low=-rule.margin / 10, high=rule.margin / 10)
    if isinstance(rule, claims.NotHigher):
        return replace(rule, estimate=2 * rule.margin, low=rule.margin, high=3 * rule.margin)
    if isinstance(rule, claims.NotLower):
        return replace(rule, estimate=-2 * rule.margin, low=-3 * rule.margin, high=-rule.margin)
    if isinstance(rule, claims.Higher | claims.Lower | claims.Equivalent):
        return replace(rule, estimate=0.0, low=-10 * rule.margin, high=10 * rule.margin)
    if isinstance(rule, claims.EverySeed):
        return replace(rule, values=(rule.level, *rule.values[1:]))
    raise AssertionError(f"no way to contradict a {type(rule).__name__}: add one here")


def test_every_declared_claim_is_judged_by_a_rule_its_numbers_can_fail():
    recorded = recorded_claims(EXECUTED)
    assert len(recorded) == len(list((BUILD.parent / "notebooks").glob("[0-9][0-9]_*.md"))), "a chapter recorded none"
    for chapter, records in recorded.items():
        for record in records:
            rule = getattr(claims, record["rule"])(**record["parameters"])
            where = f"{chapter}: {record['claim']}"
            assert rule.holds and record["holds"], f"{where} does not hold in the built book"
            assert rule.describe() == record["numbers"], f"{where}: the record and its rule disagree"
            assert not contradicted(rule).holds, f"{where}: its rule cannot fail"


def test_no_built_page_shows_a_python_warning():
    """A warning in a page's output is a message to the book's authors (a deprecated call, a
    missing package), not to its readers; the data's own notes (a filled gap) are not warnings."""
    pages = sorted(SITE.rglob("*.html"))
    assert pages, f"no built pages in {SITE}: run `make book` first"
    shown = []
    for page in pages:
        for block in re.findall(r'<div class="output stderr.*?<pre>(.*?)</pre>', page.read_text(), flags=re.S):
            text = unescape(re.sub(r"<[^>]+>", "", block))
            shown += [f"{page.relative_to(SITE)}: {line.strip()}" for line in text.splitlines()
                      if re.search(r"\b\w*Warning: ", line)]
    assert not shown, "\n".join(shown[:10])


# The comparisons the closing chapter lists under "Where an autoencoder is ahead": each must
# be a higher or lower verdict that survives the false-discovery control of the results page.
CLOSING_AHEAD = [("04_vae_factors", "vae_vs_pca_over_markets"), ("05_conditional_autoencoder", "nonlinear_ahead"),
                 ("07_anomalies", "model_adds"), ("11_backtest", "autoencoder_beats_pca")]


def test_the_closing_chapter_lists_as_ahead_only_what_survives_false_discovery_control():
    table = false_discoveries(recorded_claims(EXECUTED))
    for page, key in CLOSING_AHEAD:
        assert (page, key) in table.index, f"{page}: no comparison {key!r}; the closing chapter rests on it"
        assert table.loc[(page, key), "survives"], f"{page}: {key} does not survive false-discovery control"
    closing = (BUILD.parent / "book" / "what_autoencoders_add.md").read_text()
    ahead = closing.split("## Where an autoencoder is ahead")[1].split("\n## ")[0]
    cited = set(re.findall(r"/notebooks/(\d\d_\w+)\.md::", ahead))
    assert cited <= {page for page, _ in CLOSING_AHEAD} | {"03_sparse_features"}, \
        f"the ahead list cites {sorted(cited)}; add each comparison it rests on to CLOSING_AHEAD"
