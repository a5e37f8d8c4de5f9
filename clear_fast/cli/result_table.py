"""Writing one row per query as CSV, JSON Lines or Parquet, to a file or to stdout.

A result is a mapping from column name to a whole column: a NumPy array, a list
(of strings, or of JSON objects such as provider request fields), or a pyarrow
array. With pyarrow installed the columns are written by pyarrow (arrow_writers);
without it, CSV and JSON Lines are written row by row here, in the same layout:
a plain header, text values in double quotes, numbers and ``true``/``false``
bare, nothing for a missing value.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from ._errors import CommandError
from .table_input import PYARROW_HINT, pyarrow_installed

OUTPUT_FORMATS = ("csv", "jsonl", "parquet")
STDOUT = "-"
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def output_format(out: str, requested: str | None) -> str:
    """The format to write: ``requested``, else the extension of ``out``, else CSV on stdout."""
    table_format = requested or ("csv" if out == STDOUT else _SUFFIXES.get(Path(out).suffix.lower()))
    if table_format is None:
        raise CommandError(f"cannot tell which format to write {out} in from its extension; pass --format csv, jsonl or parquet")
    if table_format == "parquet" and not pyarrow_installed():
        raise CommandError(f"writing Parquet needs pyarrow: {PYARROW_HINT}, or pass --format csv or jsonl")
    return table_format


def write_table(out: str, table_format: str, columns: Mapping[str, Any]) -> None:
    """Write ``columns`` (equal lengths, in the order given) to ``out`` (``-`` for stdout).

    Floats are written in full precision; infinities become ``inf`` in CSV and
    ``null`` in JSON Lines (JSON has no infinity). JSON objects (dicts) are
    objects in JSON Lines and JSON text in a CSV cell or a Parquet column.
    """
    if out != STDOUT and not Path(out).parent.exists():
        raise CommandError(f"cannot write {out}: folder {Path(out).parent} does not exist; create it or choose another --out")
    if pyarrow_installed():
        from .arrow_writers import write_with_pyarrow

        write_with_pyarrow(out, table_format, columns)
        return
    names = list(columns)
    rows = zip(*[_as_list(values) for values in columns.values()])
    if out == STDOUT:
        _write_text(sys.stdout, table_format, names, rows)
        sys.stdout.flush()
        return
    with open(out, "w", newline="", encoding="utf-8") as stream:
        _write_text(stream, table_format, names, rows)


def _as_list(values: Any) -> list:
    if isinstance(values, list):
        return values
    if hasattr(values, "to_pylist"):
        return values.to_pylist()
    return values.tolist()


def _write_text(stream: TextIO, table_format: str, names: list[str], rows: Any) -> None:
    if table_format == "csv":
        stream.write(",".join(names) + "\n")
        for row in rows:
            stream.write(",".join(_csv_cell(value) for value in row) + "\n")
    else:
        for row in rows:
            stream.write(json.dumps({name: _json_value(value) for name, value in zip(names, row)}) + "\n")


def _csv_cell(value: Any) -> str:
    """One CSV value as pyarrow's writer writes it: text in quotes (quotes doubled), the rest bare."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value)  # e.g. provider request fields: one JSON object per cell
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
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
