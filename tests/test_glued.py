"""Glued values read back from executed notebooks, and the before/after comparison."""
from __future__ import annotations

import json

import nbformat
import pytest

from helpers.glued import book_numbers, compare, main

PREFIX = "application/papermill.record/"


def glue_output(name: str, data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={PREFIX + mime: value for mime, value in data.items()},
        metadata={"scrapbook": {"name": name, "mime_prefix": PREFIX}},
    )


def write_chapter(folder, stem: str, values: dict[str, dict]) -> None:
    cell = nbformat.v4.new_code_cell("glue(...)")
    cell.outputs = [nbformat.v4.new_output("stream", text="printed, not glued\n")]
    cell.outputs += [glue_output(name, data) for name, data in values.items()]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), folder / f"{stem}.ipynb")


@pytest.fixture
def executed(tmp_path):
    write_chapter(tmp_path, "01_data", {
        "sharpe": {"text/plain": "0.53"},
        "verdict": {"text/markdown": "does not beat", "text/plain": "<IPython.core.display.Markdown object>"},
        "figure": {"image/png": "iVBOR", "text/plain": "<Figure size 640x480>"},
    })
    write_chapter(tmp_path, "02_dense", {"r2": {"text/plain": "0.91"}})
    return tmp_path


def test_every_glued_value_of_every_chapter_as_text(executed):
    numbers = book_numbers(executed).set_index(["chapter", "name"])["value"]
    assert numbers.to_dict() == {
        ("01_data", "sharpe"): "0.53",
        ("01_data", "verdict"): "does not beat",
        ("01_data", "figure"): "<image/png>",
        ("02_dense", "r2"): "0.91",
    }


def test_comparison_lists_changed_new_and_missing_values_only(executed):
    before = book_numbers(executed)
    after = before.copy()
    after.loc[after["name"] == "sharpe", "value"] = "0.61"
    after = after[after["name"] != "r2"]
    after.loc[len(after)] = ["01_data", "new_number", "7"]
    differences = compare(before, after).set_index("name")
    assert set(differences.index) == {"sharpe", "r2", "new_number"}
    assert differences.loc["sharpe", "value_after"] == "0.61"
    assert differences.loc["r2", "value_after"] == "<absent>"
    assert differences.loc["new_number", "value_before"] == "<absent>"
    assert compare(before, before).empty


def test_the_book_builds_glue_file_is_read_in_place_of_its_stripped_notebook(executed):
    stripped = executed / "02_dense.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("glue(...)")]), stripped)
    record = {"r2": {"output_type": "display_data", "data": {"text/plain": "0.93"},
                     "metadata": {"scrapbook": {"name": "r2", "mime_prefix": PREFIX}}}}
    (executed / "02_dense.glue.json").write_text(json.dumps(record))
    numbers = book_numbers(executed).set_index(["chapter", "name"])["value"]
    assert numbers[("02_dense", "r2")] == "0.93"


def test_a_folder_without_executed_chapters_says_to_build_first(tmp_path):
    with pytest.raises(FileNotFoundError, match="make book"):
        book_numbers(tmp_path)


def test_command_line_writes_the_table_and_compares_two(executed, tmp_path, capsys):
    table = tmp_path / "out" / "numbers.csv"
    assert main([str(executed), str(table)]) == 0
    assert main(["--compare", str(table), str(table)]) == 0
    assert "no glued value differs" in capsys.readouterr().out
