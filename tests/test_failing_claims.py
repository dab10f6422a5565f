"""Every chapter's injected result (tests/injections.py) is in the smoke notebooks nbval runs,
and the cells that check it fail when the injection does not flip the finding."""
from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.injections import INJECTIONS, MARK, injection_cells
from tests.prepare_smoke import ROOT, prepare

pytestmark = pytest.mark.smoke

CHECK = """from helpers.claims import Above
findings.claim("big", "The value is above one.", Above(value, 1.0))
"""


def test_every_chapter_has_an_injection():
    assert set(INJECTIONS) == {path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.md")}


def test_the_synthetic_smoke_notebooks_end_with_their_injection(tmp_path):
    for path in prepare(tmp_path, "synthetic"):
        notebook = nbformat.read(path, as_version=4)
        marked = [cell.source.splitlines()[0] for cell in notebook.cells[-3:]]
        assert all(MARK in line for line in marked), f"{path.name} does not end with its injection"
    for path in prepare(tmp_path / "bundled", "bundled"):
        assert not any(MARK in cell.source for cell in nbformat.read(path, as_version=4).cells)


def run_injection(value: float, injection: str) -> list[str]:
    """The appended cells on a toy chapter whose one finding is `value > 1`: the errors they raise."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"value = {value}")])
    notebook.cells += injection_cells("toy", "big", injection, CHECK)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return [f"{output['ename']}: {output['evalue']}" for cell in notebook.cells for output in cell.outputs
            if output.output_type == "error"]


def test_the_appended_cells_pass_only_when_the_injection_stops_the_check_naming_the_finding():
    assert run_injection(2.0, "value = 0.5")[0].startswith("FindingNotHeld"), "the allowed failure"
    assert len(run_injection(2.0, "value = 0.5")) == 1
    assert "did not stop the check" in run_injection(2.0, "value = 3.0")[-1]
    assert "must hold before the injection" in run_injection(0.5, "value = 0.1")[0]
