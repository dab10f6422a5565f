"""The book executes again exactly the chapters whose helpers changed, and any chapter whose
last execution failed, in a small book built with the book's own extension."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.execute import Book, execute_ahead
from helpers.freshness import ExecutionRecord, declared_runs, is_notebook, notebook_code
from helpers.threads import THREAD_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from fresh_chapters import pastes_from_other_pages  # noqa: E402

HEADER = ("---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
          "  display_name: Python 3\n---\n")
PAGE = HEADER + """# {title}

```{{code-cell}} ipython3
import time
from pathlib import Path
from probe.{module} import VALUE
if Path("fail_{module}").exists():
    raise RuntimeError("planted failure")
print(f"{module}={{VALUE}} run={{time.time_ns()}}")
```
"""


def notebook_pages() -> list[Path]:
    """Every page of the repository that Jupyter Book executes."""
    pages = [*sorted((ROOT / "notebooks").glob("*.md")), *sorted((ROOT / "book").rglob("*.md"))]
    return list(filter(is_notebook, pages))


def build(book: Path) -> subprocess.CompletedProcess:
    builder = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(builder), "build", ".", "--builder", "html"], cwd=book, capture_output=True, text=True)


def shown(book: Path, page: str) -> str | None:
    """The line the page printed when it last executed, or None when it shows none."""
    found = re.search(r"(alpha|beta)=\d+ run=\d+", (book / "_build" / "html" / f"{page}.html").read_text())
    return found.group(0) if found else None


@pytest.fixture
def book(tmp_path) -> Path:
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "__init__.py").write_text("")
    (tmp_path / "probe" / "alpha.py").write_text("VALUE = 1\n")
    (tmp_path / "probe" / "beta.py").write_text("VALUE = 2\n")
    (tmp_path / "page_a.md").write_text(PAGE.format(title="A", module="alpha"))
    (tmp_path / "page_b.md").write_text(PAGE.format(title="B", module="beta"))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page_a\nchapters:\n  - file: page_b\n")
    (tmp_path / "_config.yml").write_text(
        "title: probe\nexecute:\n  execute_notebooks: cache\n  cache: _build/.jupyter_cache\n"
        f"sphinx:\n  local_extensions:\n    fresh_chapters: {ROOT / 'book' / '_ext'}\n"
        "  config:\n    fresh_chapters_package: probe\n")
    return tmp_path


def test_an_edited_helper_executes_its_chapter_again_and_no_other(book):
    assert build(book).returncode == 0
    first_a, first_b = shown(book, "page_a"), shown(book, "page_b")
    assert first_a.startswith("alpha=1") and first_b.startswith("beta=2")
    assert build(book).returncode == 0
    assert (shown(book, "page_a"), shown(book, "page_b")) == (first_a, first_b), "nothing changed, nothing ran"
    (book / "probe" / "alpha.py").write_text("VALUE = 11\n")
    assert build(book).returncode == 0
    assert shown(book, "page_a").startswith("alpha=11"), "the page that imports the edited module ran again"
    assert shown(book, "page_b") == first_b, "the page that does not import it kept its execution"


def test_a_chapter_that_failed_executes_again_on_the_next_build(book):
    assert build(book).returncode == 0
    (book / "fail_alpha").write_text("")
    (book / "probe" / "alpha.py").write_text("VALUE = 12\n")
    build(book)
    assert shown(book, "page_a") is None, "the planted failure stopped the page"
    (book / "fail_alpha").unlink()
    finished = build(book)
    assert finished.returncode == 0 and "no successful execution on record" in finished.stdout + finished.stderr
    assert shown(book, "page_a").startswith("alpha=12"), "a build after a failed one ran the failed page"


def test_an_execution_of_unknown_origin_is_retired(book):
    """A cached execution that the record does not vouch for (its record lost) runs again."""
    assert build(book).returncode == 0
    before = shown(book, "page_a")
    (book / "_build" / ".jupyter_cache" / "helper_digests.json").unlink()
    assert build(book).returncode == 0
    assert shown(book, "page_a") != before


def test_pages_that_paste_from_other_pages_are_found():
    assert pastes_from_other_pages(ROOT / "book" / "what_autoencoders_add.md")
    assert pastes_from_other_pages(ROOT / "book" / "results.md")
    assert not pastes_from_other_pages(ROOT / "book" / "references.md")


def test_every_notebook_a_page_names_is_declared_as_run(tmp_path):
    """A page whose code names another notebook (a sweep's) must declare it, or edits to that
    notebook's helpers would not retire the page."""
    for page in notebook_pages():
        named = {node.value for node in ast.walk(ast.parse(notebook_code(page)))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(".md")}
        assert named <= {run.name for run in declared_runs(page)}, f"{page.relative_to(ROOT)} runs {named} undeclared"
    undeclared = tmp_path / "page.md"
    undeclared.write_text(HEADER.removesuffix("---\n") + "latent_markets:\n  runs: [missing.md]\n---\n# P\n")
    with pytest.raises(FileNotFoundError, match="missing.md"):
        declared_runs(undeclared)


def test_the_record_is_empty_for_a_new_cache(tmp_path):
    assert ExecutionRecord(tmp_path / "cache").read() == {}


def test_chapters_executed_ahead_in_parallel_are_read_from_the_cache_by_the_build(book):
    outcomes = execute_ahead(Book.read(book), workers=2)
    assert outcomes == {(book / "page_a.md").resolve(): None, (book / "page_b.md").resolve(): None}
    finished = build(book)
    log = finished.stdout + finished.stderr
    assert finished.returncode == 0 and "Executing notebook" not in log and "Using cached notebook" in log
    assert shown(book, "page_a").startswith("alpha=1") and shown(book, "page_b").startswith("beta=2")
    assert execute_ahead(Book.read(book), workers=2) == {}, "nothing is out of date"


def test_a_chapter_executed_ahead_after_an_edit_is_read_again_by_the_build(book):
    """`make book` after an edit: the chapter executes ahead, so the build finds its execution
    valid, but the page on the site is the old one until Sphinx reads it again."""
    assert build(book).returncode == 0
    first_b = shown(book, "page_b")
    (book / "probe" / "alpha.py").write_text("VALUE = 13\n")
    assert set(execute_ahead(Book.read(book), workers=1)) == {(book / "page_a.md").resolve()}
    assert build(book).returncode == 0
    assert shown(book, "page_a").startswith("alpha=13"), "the site shows the execution made ahead"
    assert shown(book, "page_b") == first_b


def test_a_chapter_that_fails_ahead_is_left_to_the_build(book):
    (book / "fail_alpha").write_text("")
    outcomes = execute_ahead(Book.read(book), workers=1)
    assert "planted failure" in outcomes[(book / "page_a.md").resolve()]
    assert outcomes[(book / "page_b.md").resolve()] is None
    log = build(book)
    assert "page_a.md: Executing notebook" in log.stdout + log.stderr
    assert shown(book, "page_a") is None and shown(book, "page_b").startswith("beta=2")


def test_the_makefile_pins_every_thread_variable_the_helpers_pin():
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("ONE_THREAD :="))
    assert {f"{name}=1" for name in THREAD_VARIABLES} == set(line.split(":=")[1].split())
