from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from helpers.plots import PlotlyJsonInBook, interactive, interval_rows, plain_log_scale, shade_spans  # noqa: E402


def test_interactive_figure_carries_json_for_jupyter_and_html_for_the_book():
    bundle = interactive(go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout={"title": "t"}))._repr_mimebundle_()
    json.dumps(bundle["application/vnd.plotly.v1+json"])
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    assert "<script src" not in html and "cdn" not in html.lower(), "plotly.js must come from the book, once"


def test_book_plugin_renders_nothing_for_plotly_json_only():
    class Data:
        mime_type = "application/vnd.plotly.v1+json"

    assert PlotlyJsonInBook.handle_mime(None, Data, inline=False) == []
    Data.mime_type = "text/html"
    assert PlotlyJsonInBook.handle_mime(None, Data, inline=False) is None


def test_shade_spans_draws_one_patch_per_run():
    days = pd.bdate_range("2020-01-01", periods=10)
    mask = pd.Series([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], index=days).astype(bool)
    fig, ax = plt.subplots()
    shade_spans(ax, mask)
    assert len(ax.patches) == 3
    plt.close(fig)


def test_training_curves_mark_the_restored_epoch():
    from helpers.plots import training_curves
    from helpers.train import History

    epochs = pd.DataFrame(
        {"seconds": [0.1, 0.2, 0.3], "train_loss": [3.0, 2.0, 1.0], "validation_loss": [2.5, 2.0, 2.2]},
        index=pd.Index([1, 2, 3], name="epoch"),
    )
    ax = training_curves(History(epochs, best_epoch=2, stopped_early=False, device="cpu"))
    assert [line.get_label() for line in ax.get_lines()] == ["training", "validation", "best epoch (2)"]
    plt.close(ax.figure)


def test_plain_log_scale_labels_plain_numbers():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.8, 3.0, 7.0])
    plain_log_scale(ax)
    fig.canvas.draw()
    labels = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
    assert ax.get_yscale() == "log" and "2" in labels and "5" in labels
    assert not any("10^" in label or "times" in label for label in labels)
    plt.close(fig)


def test_interval_rows_put_the_first_row_on_top_with_its_bar():
    table = pd.DataFrame({"estimate": [0.5, -0.2], "low": [0.1, -0.6], "high": [0.9, 0.3]}, index=["first", "second"])
    fig, ax = plt.subplots()
    interval_rows(ax, table)
    fig.canvas.draw()
    assert {label.get_text(): tick for label, tick in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)} == {
        "first": 1, "second": 0}
    bars = ax.collections[0].get_segments()  # the horizontal interval bars, in the table's order
    np.testing.assert_allclose([segment[:, 0] for segment in bars], [[0.1, 0.9], [-0.6, 0.3]])
    assert ax.get_lines()[-1].get_xdata()[0] == 0.0
    plt.close(fig)
