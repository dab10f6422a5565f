"""The table of contents lists exactly the pages that exist, and every chapter follows the
house rules: a parameters cell first, glued numbers, a hidden check cell last. (A glue key
that the prose names but no cell defines fails the -W book build.)"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

from helpers.rerun import declared_parameters

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_toc_lists_only_existing_pages_and_every_chapter():
    files = toc_files()
    assert all((ROOT / f"{name}.md").exists() for name in files), files
    assert {f"notebooks/{chapter.stem}" for chapter in CHAPTERS} <= set(files)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_house_rules(chapter):
    notebook = jupytext.read(chapter)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    tags = [set(cell.metadata.get("tags", [])) for cell in code]
    assert "parameters" in tags[0], "the first code cell holds the parameters"
    # claims are declared in a hidden cell; the last, visible one lists them
    assert "findings.report()" in code[-1].source and "remove-cell" not in tags[-1], "the claims table is visible"
    checks = code[-2].source
    assert "remove-cell" in tags[-2] and "findings.claim(" in checks, "the claims precede the report"
    asserting = [cell.source for cell in code if re.search(r"^\s*assert\b", cell.source, re.MULTILINE)]
    assert not asserting, "a chapter checks declared claims (helpers.claims), not bare asserts"
    assert "## What this chapter claims" in chapter.read_text(), "the claims table has its section"
    assert any("glue(" in cell.source for cell in code), "numbers in the prose are glued"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapters_refer_to_each_other_by_label_not_by_number(chapter):
    """{numref}`chapter-dense` renders "Chapter 2" and follows the table of contents when a
    chapter is inserted; a typed "Chapter 2" would silently point at the wrong one."""
    typed = re.findall(r"\bChapters? \d+", chapter.read_text())
    assert not typed, f"typed chapter numbers {typed}: use {{numref}}`chapter-<name>` (or a name in code)"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_chapter_reads_its_parameters_by_their_annotations(chapter):
    """papermill injects what a reader passes after the parameters cell; the chapter's next
    cell reads it as the parameters cell declares, or stops with an error naming it."""
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", chapter.read_text(), flags=re.S)
    assert "parameters" in cells[0].splitlines()[0], "the first code cell is the parameters cell"
    assert "\ncheck_parameters(globals())" in cells[1], "the cell after the parameters calls check_parameters"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_chapter_takes_the_data_parameters_the_rerun_page_promises(chapter):
    """book/rerun.md says every chapter takes these; a chapter without one refuses a rerun that sets it."""
    promised = re.search(r"Every chapter takes the same data parameters:(.*?)\n\n", (ROOT / "book" / "rerun.md")
                         .read_text(), flags=re.S).group(1)
    names = set(re.findall(r"`(\w+)`", re.sub(r"\([^()]*\)", "", promised)))  # the names, not their values
    assert {"source", "tickers", "synthetic_variant", "seed"} <= names, names
    missing = names - set(declared_parameters(chapter))
    assert not missing, f"{chapter.name} does not declare {sorted(missing)}"


def test_every_glue_from_another_page_names_a_format():
    """myst-nb splits `page::key` at its last colon for a format, so without one the key is lost."""
    pages = [*(ROOT / "book").rglob("*.md"), *CHAPTERS]
    unformatted = [(page.name, role) for page in pages
                   for role in re.findall(r"\{glue:[a-z]+\}`[^`]*::[^`:]*`", page.read_text())]
    assert not unformatted, f"add a format (`page::key:d`, `:.3f`) to {unformatted}"
