"""Writing the whole report folder in one call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .panels import DPI, panel_boxes
from .plots import abandonment_figure, accuracy_figure, pareto_figure, shadow_price_figure
from .result_rows import COLUMNS, ResultRow
from .writers import write_csv, write_json

FIGURES = ("pareto.png", "accuracy.png", "abandonment.png", "shadow_price.png")


def write_report(
    rows: Sequence[ResultRow],
    folder: str | Path,
    *,
    metadata: dict[str, Any] | None = None,
    reference: dict[str, dict[str, list[float]]] | None = None,
) -> dict[str, Path]:
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
    reference : dict, optional
        Published numbers to draw dashed beside ours in ``accuracy.png``:
        ``{stream: {"budget_per_query": [...], policy: [accuracy %, ...]}}``.
        Stored under ``"reference"`` in the JSON.

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
    makers = {
        "pareto.png": lambda: pareto_figure(rows),
        "accuracy.png": lambda: accuracy_figure(rows, reference),
        "abandonment.png": lambda: abandonment_figure(rows),
        "shadow_price.png": lambda: shadow_price_figure(rows),
    }
    for name in FIGURES:
        figure, axes = makers[name]()
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
        "reference": reference or {},
    }
    write_json(target / "results.json", payload)
    written["results.json"] = target / "results.json"
    return written
