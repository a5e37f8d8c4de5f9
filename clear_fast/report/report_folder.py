"""Writing the whole report folder in one call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .panels import DPI, panel_boxes
from .plots import abandonment_figure, pareto_figure, shadow_price_figure
from .result_rows import COLUMNS, ResultRow
from .writers import write_csv, write_json

FIGURES = {
    "pareto.png": pareto_figure,
    "abandonment.png": abandonment_figure,
    "shadow_price.png": shadow_price_figure,
}


def write_report(rows: Sequence[ResultRow], folder: str | Path, *, metadata: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the figures, ``results.csv`` and ``results.json`` into ``folder``.

    Parameters
    ----------
    rows : sequence of ResultRow
        The evaluation's results, any order.
    folder : str or Path
        Created if missing (with its parents); existing report files are replaced.
    metadata : dict, optional
        Extra facts about the run (sizes, seed, timings) stored under
        ``"experiment"`` in the JSON.

    Returns
    -------
    dict
        File name -> path of every file written.

    Notes
    -----
    The JSON also records, per figure, its size in pixels and where each
    stream's panel is, so the PNGs can be checked without guessing the layout.
    """
    if not rows:
        raise ValueError("`rows` is empty: there is nothing to report")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    figures: dict[str, Any] = {}
    for name, make in FIGURES.items():
        figure, axes = make(rows)
        boxes = panel_boxes(figure, axes)
        path = target / name
        figure.savefig(path, dpi=DPI)
        width, height = (int(round(v)) for v in figure.bbox.size)
        figures[name] = {"width": width, "height": height, "panels": boxes}
        written[name] = path
    write_csv(target / "results.csv", rows)
    written["results.csv"] = target / "results.csv"
    payload = {
        "experiment": dict(metadata or {}),
        "columns": list(COLUMNS),
        "rows": [row.as_dict() for row in rows],
        "figures": figures,
    }
    write_json(target / "results.json", payload)
    written["results.json"] = target / "results.json"
    return written
