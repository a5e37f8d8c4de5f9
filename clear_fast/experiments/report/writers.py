"""The report's numbers as CSV and JSON, NaN spelled the way each format allows."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .result_rows import COLUMNS, ResultRow


def write_csv(path: Path, rows: Sequence[ResultRow]) -> None:
    """One line per row; NaN (no shadow price) is an empty cell."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            values = row.as_dict()
            writer.writerow(["" if _is_nan(values[c]) else _cell(values[c]) for c in COLUMNS])


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Pretty JSON; NaN and infinities become ``null`` (JSON has neither)."""
    path.write_text(json.dumps(_plain(payload), indent=2) + "\n", encoding="utf-8")


def _cell(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, ResultRow):
        return _plain(value.as_dict())
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    return value
