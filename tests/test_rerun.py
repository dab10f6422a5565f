"""`make rerun` refuses a parameter the chapter does not declare and a notebook that is not there."""
from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from helpers.rerun import check, declared_parameters, requested_parameters
from tests.documented import rerun_commands

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "notebooks" / "01_data.md"


def test_the_declared_parameters_are_the_names_of_the_parameters_cell():
    names = declared_parameters(CHAPTER)
    assert names[:2] == ["source", "tickers"] and "seed" in names


def test_every_form_of_papermill_parameter_is_read(tmp_path):
    parameters_file = tmp_path / "grid.yml"
    parameters_file.write_text("window: 10\n")
    arguments = ["-p", "seed", "7", "-r", "start", "2010", "-y", "tickers: [SPY]", "-f", str(parameters_file),
                 "--parameters_base64", "ZW5kOiAnMjAyMCc=", "--log-output"]
    assert requested_parameters(arguments) == ["seed", "start", "tickers", "window", "end"]


def test_a_misspelt_parameter_is_refused_with_the_chapter_parameters():
    with pytest.raises(SystemExit) as refused:
        check(str(CHAPTER), ["-p", "sourse", "synthetic"])
    message = str(refused.value)
    assert "'sourse'" in message and "did you mean 'source'?" in message and "synthetic_assets" in message


def test_a_missing_notebook_is_one_clear_line():
    with pytest.raises(SystemExit) as refused:
        check("notebooks/99_nothing.md", [])
    assert "no notebook at NB=notebooks/99_nothing.md" in str(refused.value)
    assert "notebooks/01_data.md" in str(refused.value)


def test_an_option_without_its_value_is_refused():
    with pytest.raises(SystemExit, match="-p needs a value"):
        check(str(CHAPTER), ["-p"])


@pytest.mark.parametrize(("notebook", "arguments"), rerun_commands())
def test_every_documented_rerun_sets_only_declared_parameters(notebook, arguments):
    check(str(ROOT / notebook), shlex.split(arguments))


def test_make_rerun_stops_before_papermill_on_a_misspelt_parameter():
    command = ["make", "--no-print-directory", "rerun", "NB=notebooks/01_data.md", "ARGS=-p sourse synthetic"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0
    assert "has no parameter 'sourse'" in run.stderr
    assert "papermill" not in run.stdout
