"""One look for every figure of the book, and plotly figures that survive the static build.

Jupyter Book 1 skips plotly's own JSON output, so `interactive` hands out both: the JSON
for Jupyter and an HTML fragment for the book that draws with the one shared copy of
plotly.js the book serves (book/_ext/offline_assets.py), so no page loads it twice and
none loads it from the network.
"""
from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

PALETTE = sns.color_palette("colorblind")
STRESS_COLOR = "#d62728"
PLOTLY_TEMPLATE = "simple_white"


def use_book_style() -> None:
    """The matplotlib look of the book: readable at page width, no chart junk."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "figure.figsize": (9, 4),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


class InteractiveFigure:
    """A plotly figure that renders in Jupyter and in the built book."""

    def __init__(self, figure: go.Figure) -> None:
        self.figure = figure

    def _repr_mimebundle_(self, include=None, exclude=None):
        html = self.figure.to_html(
            full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}
        )
        return {
            "application/vnd.plotly.v1+json": json.loads(self.figure.to_json()),
            "text/html": html,
            "text/plain": f"<interactive figure: {self.figure.layout.title.text or 'untitled'}>",
        }


def interactive(figure: go.Figure) -> InteractiveFigure:
    figure.update_layout(template=PLOTLY_TEMPLATE, margin={"l": 60, "r": 20, "t": 60, "b": 50})
    return InteractiveFigure(figure)


def plain_log_scale(ax: plt.Axes) -> None:
    """A logarithmic y axis labelled 1, 2, 5, 10, ... rather than in powers of ten."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def shade_spans(ax: plt.Axes, mask: pd.Series, color: str = STRESS_COLOR, alpha: float = 0.15, label=None) -> None:
    """Shade the date spans where a boolean series is True."""
    values = mask.astype(bool).to_numpy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], values.astype(int), [0]])))
    dates = mask.index
    for number, (begin, end) in enumerate(zip(edges[::2], edges[1::2], strict=True)):
        ax.axvspan(dates[begin], dates[end - 1], color=color, alpha=alpha, lw=0, label=label if number == 0 else None)


def interval_rows(ax: plt.Axes, table: pd.DataFrame, reference: float = 0.0) -> plt.Axes:
    """One row per line of `table` (columns estimate, low, high): the estimate as a dot,
    its interval as a bar, and a line at `reference`, so the rows whose interval crosses it
    stand out. The first row is drawn at the top."""
    positions = np.arange(len(table))[::-1]
    spread = [table["estimate"] - table["low"], table["high"] - table["estimate"]]
    ax.errorbar(table["estimate"], positions, xerr=spread, fmt="o", capsize=3, color="black", ecolor="grey")
    ax.axvline(reference, color=STRESS_COLOR, lw=0.8)
    ax.set_yticks(positions, [str(label) for label in table.index])
    return ax


def market_differences(ax: plt.Axes, differences: pd.DataFrame, intervals: pd.DataFrame, highlight,
                       label: str = "the worked example's market") -> plt.Axes:
    """Every market's difference (columns of `differences`, one row per market) as grey dots
    above its row of `intervals` (the mean over markets with its interval), the market
    `highlight` in blue: the spread over markets and where the worked example falls in it."""
    positions = np.arange(len(differences.columns))[::-1] + 0.2
    for position, name in zip(positions, differences.columns, strict=True):
        ax.scatter(differences[name], np.full(len(differences), position), s=14, color="grey", alpha=0.7)
        ax.scatter(differences.loc[highlight, name], position, s=30, color="tab:blue",
                   label=label if position == positions[0] else None)
    interval_rows(ax, intervals.loc[differences.columns])
    ax.legend(loc="lower right", fontsize=8)
    return ax


def training_curves(history, ax: plt.Axes | None = None, term: str = "loss") -> plt.Axes:
    """Training and validation curves of one loss term, with the restored epoch marked."""
    ax = ax or plt.subplots(figsize=(7, 3.5))[1]
    frame = history.epochs
    ax.plot(frame.index, frame[f"train_{term}"], label="training")
    ax.plot(frame.index, frame[f"validation_{term}"], label="validation")
    ax.axvline(history.best_epoch, color="grey", ls="--", lw=1, label=f"best epoch ({history.best_epoch})")
    ax.set(xlabel="epoch", ylabel=f"{term} (per sample)", title=f"Training curves: {term}")
    ax.legend()
    return ax


class PlotlyJsonInBook:
    """myst-nb renderer plugin: in the built book the HTML part of a plotly output is drawn,
    so the JSON part is handled by rendering nothing (instead of a warning)."""

    mime_priority_overrides = [("*", "application/vnd.plotly.v1+json", None)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        return [] if data.mime_type == "application/vnd.plotly.v1+json" else None
