"""Draw every interval the book's chapters claim in one figure, and list which of their
"higher" and "lower" verdicts survive false-discovery control, from what they recorded.

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

from helpers.discoveries import false_discoveries
from helpers.glued import recorded_claims

LOGGER = logging.getLogger(__name__)
LIMIT = 6.0  # half-widths: a claim further out is drawn at the edge, with its value
IMAGE = "claims-at-a-glance.png"
CAPTION = ("Every claim of the book that rests on an interval or a spread over seeds or episodes, scaled "
           "by its half-width: the bar is the interval or range, the dot the estimate, both measured from the "
           "claim's baseline. A bar clear of zero is a difference the book calls higher or lower; a bar "
           "across it is one it calls equivalent within its margin or inconclusive, as its chapter says.")
RATE = 0.05  # the false discovery rate the results page controls


class claims_figure(nodes.General, nodes.Element):
    """Where the figure goes; replaced once every chapter has been executed."""


def pages_directive(placeholder: type[nodes.Element]) -> type[SphinxDirective]:
    """A directive whose content names the pages to read, one docname per line, and that
    leaves a `placeholder` node carrying them, to be filled once every page is executed."""

    class PagesDirective(SphinxDirective):
        has_content = True

        def run(self):
            node = placeholder(pages=[line.strip() for line in self.content if line.strip()])
            self.set_source_info(node)
            return [node]

    return PagesDirective


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
    ax.set_title("Blue: the interval excludes the baseline; grey: it does not", fontsize=9)
    fig.subplots_adjust(left=0.52, right=0.98, top=1 - 0.5 / (0.3 * len(rows) + 1.3),
                        bottom=0.7 / (0.3 * len(rows) + 1.3))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


class claims_discoveries(nodes.General, nodes.Element):
    """Where the false-discovery table goes; filled once every page has been executed."""


def _discoveries(app, pages: list[str], location) -> list[nodes.Node]:
    recorded = {}
    for page in pages:
        folder, _, stem = page.rpartition("/")
        found = recorded_claims(Path(app.env.mystnb_config.output_folder) / folder, pages=stem)
        if not found:
            LOGGER.warning(f"{page} recorded no claims (claims_data): run findings.report() at its end",
                           location=location)
        recorded |= {f"{folder}/{stem}": records for records in found.values()}
    table = false_discoveries(recorded, RATE)
    called = table[table["verdict"].isin(["higher", "lower"])].sort_values("p")
    summary = (f"Of the {len(table)} comparisons the pages read against a margin, {len(called)} are higher or lower "
               f"at 95%; {int(called['survives'].sum())} of those survive Benjamini-Hochberg control of the false "
               f"discovery rate at {RATE:.0%} over all {len(table)}, and {int((~called['survives']).sum())} do not.")
    shown = called.reset_index()[["page", "claim", "verdict", "p", "adjusted p", "survives"]]
    shown["survives"] = shown["survives"].map({True: "yes", False: "no"})
    html = shown.to_html(index=False, float_format=lambda value: f"{value:.2g}", border=0).replace(
        'class="dataframe"', 'class="table discoveries"')  # not a "dataframe": those are the chapters' claims
    return [nodes.paragraph(summary, summary), nodes.raw("", html, format="html")]


def _replace(app, doctree, docname) -> None:
    for node in list(doctree.findall(claims_discoveries)):
        node.replace_self(_discoveries(app, node["pages"], node))
    for node in list(doctree.findall(claims_figure)):
        rows = _scaled_intervals(app, node["pages"], node)
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
    app.add_node(claims_discoveries)
    app.add_directive("claims-figure", pages_directive(claims_figure))
    app.add_directive("claims-discoveries", pages_directive(claims_discoveries))
    app.connect("doctree-resolved", _replace)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
