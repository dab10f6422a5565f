"""Cache keys that follow the code a result ran: an edit inside a stage's or a chapter's
import closure retires it, an edit outside keeps it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.dependencies import ImportGraph, helpers_graph
from helpers.freshness import notebook_digest
from tests.test_freshness import ROOT

STAGES = ("dense_stage", "stock_stage", "sparse_stage", "vae_stage", "covariance_race_stage", "signal_study_stage",
          "dial_stage", "pricing_stage")
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


@pytest.fixture
def package(tmp_path) -> Path:
    """A copy of the helpers to edit."""
    shutil.copytree(ROOT / "helpers", tmp_path / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "helpers"


def stage_digests(package: Path) -> dict[str, str]:
    graph = ImportGraph(package)
    return {stage: graph.digest(graph.stage_closure("helpers.stages", stage)) for stage in STAGES}


def chapter_digests(package: Path) -> dict[str, str]:
    graph = ImportGraph(package)
    return {chapter.stem: notebook_digest(chapter, graph) for chapter in CHAPTERS}


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# an edit\n")


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_an_edit_retires_the_stages_whose_closure_holds_it_and_no_other(package):
    before = stage_digests(package)
    edit(package / "plots.py")
    assert not changed(before, stage_digests(package)), "no stage imports the plots"
    edit(package / "models" / "sparse_ae.py")
    assert changed(before, stage_digests(package)) == {"sparse_stage"}
    edit(package / "models" / "dense_ae.py")
    assert {"dense_stage", "sparse_stage"} <= changed(before, stage_digests(package)), "sparse trains on dense"
    edit(package / "train.py")
    assert changed(before, stage_digests(package)) == set(STAGES), "every stage trains through the one loop"


def test_a_stage_is_retired_by_its_own_function_in_the_facade_and_not_by_anothers(package):
    before = stage_digests(package)
    facade = package / "stages.py"
    facade.write_text(facade.read_text().replace("return train_vae(config)", "return train_vae(config=config)"))
    assert changed(before, stage_digests(package)) == {"vae_stage"}


def test_an_edit_executes_again_the_chapters_that_import_it_and_no_other(package):
    before = chapter_digests(package)
    edit(package / "analysis" / "regimes.py")
    assert changed(before, chapter_digests(package)) == {"08_regimes", "11_backtest"}
    before = chapter_digests(package)
    edit(package / "models" / "sparse_ae.py")
    assert changed(before, chapter_digests(package)) == {"03_sparse_features", "08_regimes", "11_backtest"}


def test_a_page_that_runs_a_notebook_depends_on_that_notebooks_helpers(package, tmp_path):
    page, run = tmp_path / "page.md", tmp_path / "run.md"
    header = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
    page.write_text(header + "latent_markets:\n  runs: [run.md]\n---\n# P\n\n```{code-cell} ipython3\nx = 1\n```\n")
    run.write_text(header + "---\n# R\n\n```{code-cell} ipython3\nfrom helpers.analysis import regimes\n```\n")
    before = notebook_digest(page, ImportGraph(package))
    edit(package / "analysis" / "regimes.py")
    assert notebook_digest(page, ImportGraph(package)) != before
    before = notebook_digest(page, ImportGraph(package))
    run.write_text(run.read_text() + "\nmore text\n")
    assert notebook_digest(page, ImportGraph(package)) != before, "the run notebook's own text counts"


def test_the_digest_holds_the_versions_of_what_the_modules_import():
    graph = helpers_graph()
    assert any(line.startswith("torch==") for line in graph.third_party(["helpers.models.dense_ae"]))
    assert any(line.startswith("skfolio==") for line in graph.third_party(["helpers.data.bundled"]))


def test_a_stage_key_in_a_fresh_process_follows_an_edit_inside_its_closure_only(package, tmp_path):
    """The key a kernel computes, from the files it imported: the end-to-end form of the tests above."""
    script = ("import helpers, helpers.stages as s\n"
              "from helpers.experiments.embeddings import DenseStageConfig\n"
              f"assert helpers.__file__.startswith({str(package)!r}), helpers.__file__\n"
              "print(s.dense_stage.key(DenseStageConfig()))\n")
    environment = {**os.environ, "PYTHONPATH": str(package.parent)}

    def key() -> str:
        done = subprocess.run([sys.executable, "-c", script], env=environment, cwd=tmp_path, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    first = key()
    edit(package / "plots.py")
    edit(package / "analysis" / "regimes.py")
    assert key() == first, "edits outside the dense stage's closure keep its entry"
    edit(package / "models" / "dense_ae.py")
    assert key() != first, "an edit inside it retires the entry"
