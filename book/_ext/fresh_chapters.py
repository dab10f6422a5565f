"""Execute again exactly the chapters whose code changed, or whose last execution failed.

Before Sphinx reads, every executed page is checked against `helpers.freshness`: a page
whose helpers changed (by the digest of the modules it imports, transitively) or that has no
successful execution on record loses its cached execution and is read again, which executes
it; the others keep theirs. Pages that paste from other pages (cross-page glue, the claims
figure) are read again on every build, since what they paste may have changed. After each
page is read its execution is put on record, or taken off it if it failed, and the
environment notes which code the page was read with: a page executed ahead of the build
(`helpers.execute`, after an edit) has a valid execution in the cache, but its page on
the site is the old one until Sphinx reads it again, so a page whose code differs from what
it was last read with is read again too. The package
whose graph is read is the helpers, or `fresh_chapters_package` (a folder, relative to the
book) in a test's small book.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.util import logging

from helpers.dependencies import ImportGraph, helpers_graph
from helpers.freshness import ExecutionRecord, is_notebook

LOGGER = logging.getLogger(__name__)
# `{glue:text}`/notebooks/01_data.md::key`` and the claims figure read what other pages glued.
PASTES = re.compile(r"\{glue(:\w+)?\}`[^`]*::|```\{claims-figure\}")


def _record(app) -> ExecutionRecord:
    return ExecutionRecord(Path(app.env.mystnb_config.execution_cache_path))


def _pages(env) -> dict[str, Path]:
    return {docname: Path(env.doc2path(docname)) for docname in sorted(env.found_docs)}


def pastes_from_other_pages(path: Path) -> bool:
    return path.suffix == ".md" and bool(PASTES.search(path.read_text()))


def outdated(app, env, added, changed, removed) -> list[str]:
    pages = _pages(env)
    notebooks = {docname: path for docname, path in pages.items() if is_notebook(path)}
    package = app.config.fresh_chapters_package
    graph = ImportGraph(Path(app.confdir) / package) if package else helpers_graph()
    retired = _record(app).retire_stale(notebooks.values(), graph)
    app.fresh_chapters_digests = {docname: retired.digests[path] for docname, path in notebooks.items()}
    stale = {docname for docname, path in notebooks.items() if path in retired.stale}
    for docname in sorted(stale - added - changed):
        LOGGER.info(f"{docname}: its helpers changed or it has no successful execution on record; executing again")
    read_with = getattr(env, "fresh_chapters_read_with", {})
    unread = {docname for docname, digest in app.fresh_chapters_digests.items() if read_with.get(docname) != digest}
    for docname in sorted(unread - stale - added - changed):
        LOGGER.info(f"{docname}: executed since the site last read it; reading it again")
    pasting = {docname for docname, path in pages.items() if pastes_from_other_pages(path)}
    return sorted((stale | unread | pasting) - added - changed)


def recorded(app, doctree) -> None:
    docname = app.env.docname
    digest = getattr(app, "fresh_chapters_digests", {}).get(docname)
    if digest is None:
        return
    execution = getattr(app.env, "nb_metadata", {}).get(docname, {}).get("exec_data") or {}
    _record(app).record_execution(Path(app.env.doc2path(docname)), digest, bool(execution.get("succeeded")))
    if not hasattr(app.env, "fresh_chapters_read_with"):
        app.env.fresh_chapters_read_with = {}
    app.env.fresh_chapters_read_with[docname] = digest


def setup(app):
    app.add_config_value("fresh_chapters_package", "", "env")
    app.connect("env-get-outdated", outdated)
    app.connect("doctree-read", recorded)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
