"""Writing one row per query as CSV or JSON Lines, to a file or to stdout."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ._errors import CommandError

OUTPUT_FORMATS = ("csv", "jsonl")
STDOUT = "-"


def output_format(out: str, requested: str | None) -> str:
    """The format to write: ``requested``, else the extension of ``out``, else CSV on stdout."""
    if requested:
        return requested
    if out == STDOUT:
        return "csv"
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise CommandError(f"cannot tell which format to write {out} in from its extension; pass --format csv or jsonl")


def write_rows(out: str, table_format: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` (mappings over ``columns``) to ``out`` (``-`` for stdout).

    Floats are written in full precision; infinities become ``inf`` in CSV and
    ``null`` in JSON Lines (JSON has no infinity). Nested values (dicts) are
    JSON objects in JSON Lines and JSON text in a CSV cell.
    """
    if out == STDOUT:
        _write(sys.stdout, table_format, columns, rows)
        sys.stdout.flush()
        return
    target = Path(out)
    if not target.parent.exists():
        raise CommandError(f"cannot write {out}: folder {target.parent} does not exist; create it or choose another --out")
    with target.open("w", newline="", encoding="utf-8") as stream:
        _write(stream, table_format, columns, rows)


def _write(stream: TextIO, table_format: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    if table_format == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row[name]) for name in columns])
    else:
        for row in rows:
            stream.write(json.dumps({name: _json_value(row[name]) for name in columns}) + "\n")


def _csv_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)  # e.g. provider request fields: one JSON object per cell
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
