"""The checks can fail: in each chapter a finding that holds is flipped by injecting a
result, and the chapter's own check cell, with enforcement on, then stops naming it.

Each chapter runs at its smoke sizes on the synthetic market up to its check cell, in one
kernel; the check cell is then evaluated twice with enforcement on: as written (the chosen
finding must hold, so that it is the injection that flips it) and after the injection.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.prepare_smoke import ROOT, prepare

pytestmark = pytest.mark.smoke

# chapter: (the finding to flip, the statement that injects a result contradicting it)
INJECTIONS = {
    "01_data": ("fat_tails", "tail_ratio = 0.5"),
    "02_dense_autoencoder": ("little_over_pca", "max_gain = 0.5"),
    "03_sparse_features": ("volatility_beats_sparse_on_bursts",
                           'event_recovery.loc[("volatility_burst", "window volatility"), '
                           '["minus sparse: estimate", "minus sparse: low", "minus sparse: high"]] '
                           '= [-0.1, -0.2, -0.05]'),
    "04_vae_factors": ("posterior_collapse", "sweep = sweep.iloc[::-1]"),
    "05_conditional_autoencoder": ("oracle_ahead", "oracle_versus_ae = oracle_versus_ae - 1.0"),
    "06_covariance": ("stress_variance", "stress_variance_ratio = 0.5"),
    "07_anomalies": ("some_clean", "share_clean = 1.0"),
    "08_regimes": ("stress_volatility", "stress_vol_ratio = 0.9"),
    "09_scenarios": ("real_clustering", "acf_real = acf_real * 0"),
    "10_supervised_autoencoder": ("small_ics", 'averaged_table["mean IC"] = averaged_table["mean IC"] + 0.5'),
    "11_backtest": ("signal_no_edge",
                    'ls_sharpe = ls_sharpe.copy()\nls_sharpe[["estimate", "low", "high"]] = [1.0, 0.5, 1.5]'),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("smoke")
    prepare(folder, "synthetic")
    return folder


def test_every_chapter_has_an_injection():
    assert set(INJECTIONS) == {path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.md")}


def _text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


@pytest.mark.parametrize("chapter", sorted(INJECTIONS))
def test_an_injected_result_fails_the_chapters_check_naming_the_claim(prepared, chapter):
    key, injection = INJECTIONS[chapter]
    notebook = nbformat.read(prepared / f"{chapter}.ipynb", as_version=4)
    code = [position for position, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    check = notebook.cells[code[-2]].source
    assert "findings.claim(" in check, "the second-last code cell declares the chapter's claims"
    enforced = "from helpers.findings import Findings\nfindings = Findings(enforce=True)\n" + check
    notebook.cells = notebook.cells[: code[-2]] + [
        nbformat.v4.new_code_cell(enforced + "\nimport json\n"
                                  "print(json.dumps(findings.table()[['claim', 'holds']].to_dict('index')))"),
        nbformat.v4.new_code_cell(injection + "\n" + enforced + "\nfindings.report()"),
    ]
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    errors = [output for cell in notebook.cells[:-1] if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]
    assert not errors, f"{chapter} failed before its check: {errors[0]['ename']}: {errors[0]['evalue']}"
    claims = json.loads(_text(notebook.cells[-2]).strip().splitlines()[-1])
    assert claims[key]["holds"], f"{chapter}: {key} must hold before the injection for the test to mean anything"
    failure = [output for output in notebook.cells[-1].outputs if output.output_type == "error"]
    assert failure and failure[0]["ename"] == "FindingNotHeld", f"{chapter}: the injected result did not stop the check"
    assert claims[key]["claim"] in failure[0]["evalue"], f"{chapter}: the failure does not name {key}"
