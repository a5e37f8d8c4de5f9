"""A grid with one panel per traffic stream, shared by every figure of the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: the report must work on a machine without a screen

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PANEL_INCHES = (5.2, 3.8)
DPI = 100

# Fixed, well-separated colours so a policy looks the same in every panel and figure.
POLICY_COLOURS = {
    "CLEAR": "#d62728",
    "Uniform": "#1f77b4",
    "Proportional": "#2ca02c",
    "SelfEstimate": "#9467bd",
    "Oracle": "#ff7f0e",
}
_SPARE_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def policy_colour(policy: str, order: Sequence[str]) -> str:
    """The colour of ``policy``; unknown policies take spare colours in the order given."""
    if policy in POLICY_COLOURS:
        return POLICY_COLOURS[policy]
    unknown = [name for name in order if name not in POLICY_COLOURS]
    return _SPARE_COLOURS[unknown.index(policy) % len(_SPARE_COLOURS)]


def stream_grid(streams: Sequence[str], title: str) -> tuple[Figure, dict[str, Any]]:
    """A figure with one axes per stream, two columns wide.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : dict
        Stream name -> its axes.
    """
    columns = min(2, max(1, len(streams)))
    rows = max(1, math.ceil(len(streams) / columns))
    figure = Figure(figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows + 0.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # a real canvas: drawing runs the layout, so panel positions are final
    figure.suptitle(title)
    grid = figure.subplots(rows, columns, squeeze=False)
    axes = {}
    for k, ax in enumerate(grid.flat):
        if k < len(streams):
            axes[streams[k]] = ax
            ax.set_title(streams[k])
            ax.grid(True, alpha=0.3)
        else:
            ax.set_visible(False)  # an odd number of streams leaves one cell empty
    return figure, axes


def panel_boxes(figure: Figure, axes: dict[str, Any]) -> list[dict[str, Any]]:
    """Each panel's plotting area in image pixels (left, top, right, bottom; origin top-left).

    Written into the report's JSON so that anyone checking the PNG knows where
    each stream's panel is.
    """
    figure.canvas.draw()
    height = figure.bbox.height
    boxes = []
    for stream, ax in axes.items():
        extent = ax.get_window_extent()
        boxes.append(
            {
                "stream": stream,
                "box": [
                    int(round(extent.x0)),
                    int(round(height - extent.y1)),
                    int(round(extent.x1)),
                    int(round(height - extent.y0)),
                ],
            }
        )
    return boxes
