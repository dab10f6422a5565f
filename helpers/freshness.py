"""Which pages of the book must execute again, chapter by chapter.

Jupyter Book keys a chapter's execution by the chapter's own code, and Sphinx re-reads only
the pages whose text changed, so neither notices that a helper the chapter runs changed, nor
that its last execution failed. A chapter's execution is kept only while it is on record
here: a cached execution, made with the digest of the helper modules the chapter imports
(transitively, `helpers.dependencies`) and of the notebooks it declares it runs, that is
still the digest now. Anything else (a changed helper, an execution that failed, an entry of
unknown origin) retires the cached execution and makes Sphinx read the page again. The
record lives inside the execution cache, so removing the cache removes the record.

A page declares the notebooks its code runs (a sweep's notebook) in its front matter:

    latent_markets:
      runs: [sweeps/one_market.md]     # relative to the page
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jupyter_cache import get_cache
from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

from helpers.cache import write_atomically
from helpers.dependencies import ImportGraph, helpers_graph

RECORD = "helper_digests.json"
METADATA = "latent_markets"


def is_notebook(path: Path) -> bool:
    """A page that Jupyter Book executes, by myst-nb's own rule."""
    return path.suffix == ".md" and is_myst_markdown_notebook(path.read_text())


def read_notebook(path: Path):
    """The page as the notebook myst-nb executes."""
    return read_myst_markdown_notebook(path.read_text())


def declared_runs(path: Path) -> list[Path]:
    """The notebooks a page says its code runs, each checked to exist."""
    runs = [path.parent / name for name in read_notebook(path).metadata.get(METADATA, {}).get("runs", [])]
    missing = [str(run) for run in runs if not run.exists()]
    if missing:
        raise FileNotFoundError(f"{path} declares {METADATA}.runs {missing}, which do not exist")
    return runs


def notebook_code(path: Path) -> str:
    return "\n".join(cell.source for cell in read_notebook(path).cells if cell.cell_type == "code")


def notebook_digest(path: Path, graph: ImportGraph | None = None) -> str:
    """The digest of what a page's outputs depend on besides its own code: the helper modules
    it and the notebooks it runs import, transitively, and those notebooks' text."""
    graph = graph or helpers_graph()
    pages = [path, *declared_runs(path)]
    modules = set().union(*(graph.code_closure(notebook_code(page)) for page in pages))
    return graph.digest(modules, extra=[page.read_text() for page in pages[1:]])


@dataclass(frozen=True)
class Retired:
    """What `retire_stale` found: the pages to execute again, and each page's digest now."""

    stale: frozenset[Path]
    digests: Mapping[Path, str]


class ExecutionRecord:
    """The record, beside Jupyter Book's execution cache, of which code each cached execution ran."""

    def __init__(self, cache_path: Path):
        self.cache_path = Path(cache_path)
        self.path = self.cache_path / RECORD

    def read(self) -> dict[str, dict]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text())
        except ValueError:  # a torn record: nothing on it can be trusted, so every page executes again
            return {}

    def _write(self, record: dict) -> None:
        write_atomically(self.path, lambda target: target.write_text(json.dumps(record, indent=1, sort_keys=True)))

    def _cached(self) -> dict[str, list]:
        by_page: dict[str, list] = {}
        for entry in get_cache(str(self.cache_path)).list_cache_records():
            by_page.setdefault(str(Path(entry.uri).resolve()), []).append(entry)
        return by_page

    def retire_stale(self, pages: Iterable[Path], graph: ImportGraph | None = None) -> Retired:
        """Remove the cached executions of each page that is not on record with today's digest
        (all of them, so every execution left was made with today's code); return the pages
        without a valid execution, which must be read, and so executed, again."""
        graph = graph or helpers_graph()
        record, cached, cache = self.read(), self._cached(), get_cache(str(self.cache_path))
        digests, stale = {}, set()
        for page in pages:
            key = str(Path(page).resolve())
            digests[page] = notebook_digest(page, graph)
            entries = cached.get(key, [])
            on_record = record.get(key)
            valid = (on_record is not None and on_record["digest"] == digests[page] and bool(entries)
                     and {entry.hashkey for entry in entries} <= set(on_record["executions"]))
            if not valid:
                stale.add(page)
                record.pop(key, None)
                for entry in entries:
                    cache.remove_cache(entry.pk)
        self._write(record)
        return Retired(frozenset(stale), digests)

    def record_execution(self, page: Path, digest: str, succeeded: bool) -> None:
        """Put the page's cached executions on record with the digest they ran with, after a
        successful execution (or a read from the cache); after a failed one take it off, so
        the page counts as out of date until it runs through."""
        key = str(Path(page).resolve())
        record = self.read()
        entries = self._cached().get(key, [])
        if succeeded and entries:
            record[key] = {"digest": digest, "executions": sorted(entry.hashkey for entry in entries)}
        else:
            record.pop(key, None)
        self._write(record)
