"""Serve plotly.js and MathJax from the installed packages, so the site loads nothing remote.

plotly.min.js comes from the plotly package and MathJax 3 (its es5 build) from the
django-static-mathjax package; both are copied into the build's _static folder, never
committed. `mathjax_path` in _config.yml points at the copy.
"""
from __future__ import annotations

import shutil
from pathlib import Path

PLOTLY_JS = "plotly.min.js"
MATHJAX_FOLDER = "mathjax"


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


def _mathjax_es5() -> Path:
    import mathjax  # installed by django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _copy_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_plotly_js(), static / PLOTLY_JS)
    shutil.copytree(_mathjax_es5(), static / MATHJAX_FOLDER, dirs_exist_ok=True)


def setup(app):
    for asset in (_plotly_js(), _mathjax_es5() / "tex-chtml.js"):
        if not asset.exists():
            raise RuntimeError(f"{asset} is missing: install the book's pinned dependencies (make book)")
    app.add_js_file(PLOTLY_JS)
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
