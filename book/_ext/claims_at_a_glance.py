"""Draw every interval the book's chapters claim in one figure, from what they recorded.

Each chapter glues its claims (`claims_data`, written by helpers.findings) into the glue
cache Jupyter Book keeps beside the notebooks it executes. The `claims-figure` directive
marks where the figure goes; once every page has been read (and so every chapter
executed), the figure is drawn from those records, so it cannot disagree with the
chapters and no chapter runs twice. A chapter without records is a warning, which fails
the `-W` build.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from helpers.glued import recorded_claims

LOGGER = logging.getLogger(__name__)
LIMIT = 6.0  # half-widths: a claim further out is drawn at the edge, with its value
IMAGE = "claims-at-a-glance.png"
CAPTION = ("Every claim of the book that rests on an interval or a spread over seeds or episodes, scaled "
           "by its half-width: the bar is the interval or range, the dot the estimate, both measured from the "
           "claim's baseline. A bar clear of zero is a difference the book calls distinguishable; a bar "
           "across it is one it calls not distinguishable.")


class claims_figure(nodes.General, nodes.Element):
    """Where the figure goes; replaced once every chapter has been executed."""


class ClaimsFigure(SphinxDirective):
    """`claims-figure` with the chapters to read as its content, one docname per line."""

    has_content = True

    def run(self):
        node = claims_figure(chapters=[line.strip() for line in self.content if line.strip()])
        self.set_source_info(node)
        return [node]


def _scaled_intervals(app, chapters: list[str], location) -> list[tuple[str, float, float, float, bool]]:
    recorded = recorded_claims(Path(app.env.mystnb_config.output_folder) / "notebooks")
    rows = []
    for number, chapter in enumerate(chapters, start=1):
        records = recorded.get(chapter.removeprefix("notebooks/"))
        if records is None:
            LOGGER.warning(f"{chapter} recorded no claims (claims_data): run findings.report() at its end",
                           location=location)
            continue
        for record in records:
            low, high, estimate, baseline = record["low"], record["high"], record["estimate"], record["baseline"]
            if record["kind"] != "finding" or None in (low, high, estimate, baseline) or high <= low:
                continue
            half = (high - low) / 2
            rows.append((f"{number}. {record['claim']}", (low - baseline) / half, (estimate - baseline) / half,
                         (high - baseline) / half, low > baseline or high < baseline))
    return rows


def _draw(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 0.3 * len(rows) + 1.3))
    for position, (_, low, estimate, high, apart) in enumerate(reversed(rows)):
        color = "tab:blue" if apart else "grey"
        if abs(estimate) <= LIMIT:
            ax.plot([max(low, -LIMIT), min(high, LIMIT)], [position, position], color=color, lw=2.5,
                    solid_capstyle="butt")
            ax.plot([estimate], [position], "o", color="black", ms=3.5)
        else:  # far off the scale: a stub at the edge, and the value
            edge = np.sign(estimate) * LIMIT
            ax.plot([edge - np.sign(estimate), edge], [position, position], color=color, lw=2.5, solid_capstyle="butt")
            ax.annotate(f"{estimate:+.0f}", (edge - np.sign(estimate), position), xytext=(-4 * np.sign(estimate), 0),
                        textcoords="offset points", ha="right" if estimate > 0 else "left", va="center", fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-LIMIT, LIMIT)
    labels = [label if len(label) < 110 else label[:107] + "..." for label, *_ in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=7.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("distance from the baseline, in half-widths of the interval or range (cut at 6)")
    ax.set_title("Blue: distinguishable from the baseline; grey: not distinguishable", fontsize=9)
    fig.subplots_adjust(left=0.52, right=0.98, top=1 - 0.5 / (0.3 * len(rows) + 1.3),
                        bottom=0.7 / (0.3 * len(rows) + 1.3))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _replace(app, doctree, docname) -> None:
    for node in list(doctree.findall(claims_figure)):
        rows = _scaled_intervals(app, node["chapters"], node)
        if not rows:
            node.parent.remove(node)
            continue
        if app.builder.format == "html":
            _draw(rows, Path(app.outdir) / "_images" / IMAGE)
        image = nodes.image(uri="../" * docname.count("/") + f"_images/{IMAGE}", alt=CAPTION)
        image["candidates"] = {"?": image["uri"]}  # drawn here, not collected: the builder leaves it as it is
        figure = nodes.figure("", image, nodes.caption(CAPTION, CAPTION), ids=["fig-claims-at-a-glance"])
        node.replace_self(figure)


def setup(app):
    app.add_node(claims_figure)
    app.add_directive("claims-figure", ClaimsFigure)
    app.connect("doctree-resolved", _replace)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
