"""Drop repeated script tags from every page.

sphinx-thebe (pulled in by Jupyter Book) registers its inline configuration script each
time Sphinx reads documents, so a page can carry it twice and the browser then reports
"Identifier 'THEBE_JS_URL' has already been declared".
"""
from __future__ import annotations


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
