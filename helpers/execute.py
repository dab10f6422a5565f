"""Execute the book's out-of-date chapters in parallel, into Jupyter Book's execution cache.

Jupyter Book executes the chapters one after the other as Sphinx reads them. Run before the
build (`make book` does), this finds the chapters that have no valid execution
(`helpers.freshness`: their text, or a helper they import, changed, or their last
execution failed), executes them on a pool of worker processes, one kernel each, and puts
each success in the cache and on record as Jupyter Book itself would, so the build reads
them from the cache. A chapter that fails here is left out of the cache, and the build
executes it again and reports its error as usual. Each kernel is pinned to one thread of
torch, BLAS, joblib and numba (`helpers.threads`), so that kernels side by side do not
fight over the cores and a chapter runs on one thread however many workers there are;
progress bars are off, as in the build (book/_ext/quiet_execution.py).

    python -m helpers.execute BOOK_FOLDER [--workers N]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

from helpers.dependencies import ImportGraph, helpers_graph
from helpers.freshness import ExecutionRecord, is_notebook, read_notebook
from helpers.threads import pin_threads


@dataclass(frozen=True)
class Book:
    """What the build needs from a book's `_config.yml` and `_toc.yml`."""

    root: Path
    cache: Path
    timeout: int
    pages: tuple[Path, ...]
    package: str = ""  # the book's fresh_chapters_package: another package than the helpers, in a test

    @property
    def graph(self) -> ImportGraph:
        return ImportGraph(self.root / self.package) if self.package else helpers_graph()

    @classmethod
    def read(cls, root: Path) -> Book:
        root = Path(root).resolve()
        config = yaml.safe_load((root / "_config.yml").read_text()) or {}
        execute = config.get("execute", {})
        if execute.get("execute_notebooks") != "cache":
            raise SystemExit(f"{root / '_config.yml'}: execute.execute_notebooks must be 'cache' to execute ahead")
        toc = yaml.safe_load((root / "_toc.yml").read_text())
        files = [toc["root"], *_files(toc)]
        pages = tuple(path for path in (root / f"{file}.md" for file in files) if path.exists() and is_notebook(path))
        package = config.get("sphinx", {}).get("config", {}).get("fresh_chapters_package", "")
        return cls(root, root / execute.get("cache", ".jupyter_cache"), int(execute.get("timeout", 30)), pages, package)


def _files(entry) -> list[str]:
    if isinstance(entry, list):
        return [file for item in entry for file in _files(item)]
    if isinstance(entry, dict):
        own = [entry["file"]] if "file" in entry else []
        return own + [file for key in ("parts", "chapters", "sections") for file in _files(entry.get(key, []))]
    return []


def unexecuted(book: Book) -> tuple[list[Path], dict[Path, str]]:
    """The pages without a valid execution in the cache for their text and code, and every page's digest."""
    retired = ExecutionRecord(book.cache).retire_stale(book.pages, book.graph)
    cache = get_cache(str(book.cache))
    missing = []
    for page in book.pages:
        try:
            cache.match_cache_notebook(read_notebook(page))
        except KeyError:
            missing.append(page)
    return missing, dict(retired.digests)


def _start_worker() -> None:
    pin_threads(1)
    os.environ.setdefault("TQDM_DISABLE", "1")


def execute_page(page: Path, timeout: int) -> tuple[Path, str | None, float, str]:
    """Execute one page as Jupyter Book would: the notebook as written, in its own folder."""
    notebook = read_notebook(page)
    started = time.perf_counter()
    result = single_nb_execution(notebook, cwd=str(page.parent), allow_errors=False, timeout=timeout,
                                 meta_override=True)
    error = None if result.err is None else (f"{getattr(result.err, 'ename', type(result.err).__name__)}: "
                                             f"{getattr(result.err, 'evalue', result.err)}")
    return page, error, time.perf_counter() - started, nbformat.writes(notebook)


def execute_ahead(book: Book, workers: int) -> dict[Path, str | None]:
    """Execute every page without a valid execution on `workers` processes; each success is
    cached and put on record. Returns each executed page's error, None for a success."""
    pages, digests = unexecuted(book)
    if not pages:
        return {}
    cache, record, outcomes = get_cache(str(book.cache)), ExecutionRecord(book.cache), {}
    names = ", ".join(page.relative_to(book.root).as_posix() for page in pages)
    print(f"executing {len(pages)} pages on {workers} workers: {names}", flush=True)
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker) as pool:
        runs = pool.imap_unordered(_execute_args, [(page, book.timeout) for page in pages])
        for page, error, seconds, executed in runs:
            outcomes[page] = error
            name = page.relative_to(book.root).as_posix()
            if error is not None:
                print(f"  {name} failed after {seconds:.1f} s ({error}); the build executes it again", flush=True)
                continue
            cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(executed, as_version=4), str(page),
                                                      data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            record.record_execution(page, digests[page], succeeded=True)
            print(f"  {name}: {seconds:.1f} s", flush=True)
    return outcomes


def _execute_args(arguments: tuple[Path, int]):
    return execute_page(*arguments)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    if options.workers < 1:
        raise SystemExit(f"--workers {options.workers}; expected 1 or more")
    execute_ahead(Book.read(options.book), options.workers)
