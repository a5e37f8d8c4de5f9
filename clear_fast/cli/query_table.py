"""Reading a table of queries from CSV, JSON Lines or Parquet, with messages that point at the line.

The command line accepts whatever a spreadsheet, a log pipeline or a dataframe
exports. Everything is read into plain rows first; columns are then pulled out
as numbers one at a time, so an error can name the column, the line and the
value that is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import CommandError

INPUT_FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
STDIN = "-"


@dataclass(frozen=True)
class QueryTable:
    """Rows read from one input, with column names normalised to lower case.

    Attributes
    ----------
    source : str
        How to name the input in messages (its path, or ``stdin``).
    columns : list of str
        Column names in the order first seen.
    rows : list of dict
        One mapping per query from column name to its raw value (``None`` when empty).
    locate : callable
        ``locate(i)`` says where row ``i`` came from, e.g. ``"line 5"``.
    """

    source: str
    columns: list[str]
    rows: list[dict[str, Any]]
    locate: Callable[[int], str]

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, column: str) -> bool:
        """True when the column exists and at least one row has a value in it."""
        return column in self.columns and any(row.get(column) is not None for row in self.rows)

    def numbers(
        self,
        column: str,
        *,
        default: float | None = None,
        minimum: float | None = None,
        strictly_positive: bool = False,
        allow_inf: bool = False,
        fix: str = "",
    ) -> NDArray[np.float64]:
        """The column as float64, empty cells replaced by ``default``.

        Raises
        ------
        CommandError
            When a cell is empty and there is no default, is not a number, or is
            out of range; the message names the column, the line and the value,
            followed by ``fix`` (how to repair it).
        """
        out = np.empty(len(self.rows), dtype=np.float64)
        for i, row in enumerate(self.rows):
            raw = row.get(column)
            if raw is None:
                if default is None:
                    raise CommandError(f"{self.source}, {self.locate(i)}: no value in column `{column}`; {fix}")
                out[i] = default
                continue
            value = _as_number(raw)
            problem = None
            if value is None or math.isnan(value):
                problem = "is not a number"
            elif math.isinf(value) and not allow_inf:
                problem = "must be finite"
            elif strictly_positive and not value > 0:
                problem = "must be > 0"
            elif minimum is not None and value < minimum:
                problem = f"must be >= {minimum:g}"
            if problem:
                raise CommandError(
                    f"{self.source}, {self.locate(i)}: column `{column}` {problem}, got {raw!r}; "
                    f"fix that value"
                )
            out[i] = value
        return out

    def ids(self) -> list[str]:
        """The ``id`` column as strings, or row numbers ``1..n`` when there is none; refuses duplicates."""
        if "id" not in self.columns:
            return [str(i + 1) for i in range(len(self.rows))]
        seen: dict[str, int] = {}
        out = []
        for i, row in enumerate(self.rows):
            raw = row.get("id")
            if raw is None:
                raise CommandError(f"{self.source}, {self.locate(i)}: empty `id`; give every query an id, or drop the column")
            key = str(raw)
            if key in seen:
                raise CommandError(
                    f"{self.source}: id {key!r} appears twice ({self.locate(seen[key])} and {self.locate(i)}); "
                    "ids must be unique so results can be matched to queries"
                )
            seen[key] = i
            out.append(key)
        return out


def read_query_table(path: str, input_format: str | None = None) -> QueryTable:
    """Read ``path`` (``-`` for stdin) as CSV, JSON Lines or Parquet.

    The format comes from ``input_format``, else from the file extension, else
    (stdin) from the first character: ``{`` means JSON Lines.

    Raises
    ------
    CommandError
        Missing file, unknown format, unreadable content, or no rows.
    """
    if path == STDIN:
        source = "stdin"
        data = sys.stdin.buffer.read()
    else:
        file = Path(path)
        source = str(file)
        if not file.exists():
            raise CommandError(f"input file {path} does not exist; check the path (or pass - to read from stdin)")
        if file.is_dir():
            raise CommandError(f"input {path} is a folder; pass the file with the queries")
        data = file.read_bytes()
    table_format = input_format or _guess_format(path, data)
    if table_format == "parquet":
        table = _read_parquet(source, data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{source} is not UTF-8 text ({error.reason} at byte {error.start}); "
                "save it as UTF-8 CSV or JSON Lines (or pass --input-format parquet)"
            ) from None
        table = _read_csv(source, text) if table_format == "csv" else _read_jsonl(source, text)
    if not table.rows:
        raise CommandError(f"{source} has no queries; add one query per row (see `clear-fast allocate --help`)")
    return table


def _guess_format(path: str, data: bytes) -> str:
    if path == STDIN:
        return "jsonl" if data.lstrip()[:1] == b"{" else "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise CommandError(
            f"cannot tell the format of {path} from its extension {suffix or '(none)'!s}; "
            "pass --input-format csv, jsonl or parquet"
        )
    return _SUFFIXES[suffix]


def _read_csv(source: str, text: str) -> QueryTable:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise CommandError(f"{source} is empty; it needs a header line (e.g. `id,tau`) and one query per row")
    columns = [cell.strip().lower() for cell in header]
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(columns) == 1 and separator in columns[0]:
            raise CommandError(f"{source} looks separated by {name}, not commas; save it as comma-separated CSV")
    _refuse_duplicate_columns(source, columns)
    rows, lines = [], []
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines carry no query
        if len(cells) > len(columns):
            raise CommandError(
                f"{source}, line {line_number}: {len(cells)} values for {len(columns)} columns; "
                "quote values that contain commas, or add the missing header"
            )
        rows.append({name: (cell.strip() or None) for name, cell in zip(columns, cells)})
        lines.append(line_number)
    return QueryTable(source, columns, rows, lambda i: f"line {lines[i]}")


def _read_jsonl(source: str, text: str) -> QueryTable:
    columns: list[str] = []
    rows, lines = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CommandError(f"{source}, line {line_number}: not valid JSON ({error.msg}); write one JSON object per line") from None
        if not isinstance(record, dict):
            raise CommandError(f"{source}, line {line_number}: expected a JSON object like {{\"tau\": 300}}, got {line.strip()[:40]}")
        row = {str(key).strip().lower(): value for key, value in record.items()}
        for name in row:
            if name not in columns:
                columns.append(name)
        rows.append(row)
        lines.append(line_number)
    return QueryTable(source, columns, rows, lambda i: f"line {lines[i]}")


def _read_parquet(source: str, data: bytes) -> QueryTable:
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise CommandError(
            f"reading Parquet ({source}) needs pyarrow: `pip install pyarrow`, or export the table as CSV or JSON Lines"
        ) from None
    try:
        records = parquet.read_table(io.BytesIO(data)).to_pylist()
    except Exception as error:  # pyarrow raises its own error types for corrupt files
        raise CommandError(f"{source} is not a readable Parquet file ({error}); check the file or pass --input-format") from None
    columns: list[str] = []
    rows = []
    for record in records:
        row = {str(key).strip().lower(): value for key, value in record.items()}
        for name in row:
            if name not in columns:
                columns.append(name)
        rows.append(row)
    _refuse_duplicate_columns(source, [str(key).strip().lower() for key in (records[0] if records else {})])
    return QueryTable(source, columns, rows, lambda i: f"row {i + 1}")


def _refuse_duplicate_columns(source: str, columns: list[str]) -> None:
    seen = set()
    for name in columns:
        if name in seen:
            raise CommandError(f"{source}: column `{name}` appears twice in the header; rename or remove one")
        seen.add(name)


def _as_number(raw: Any) -> float | None:
    """A cell as a float, or None when it is not a number (booleans are not numbers here)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        return float(str(raw).strip())
    except ValueError:
        return None
