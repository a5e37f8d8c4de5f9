"""Reading CSV and JSON Lines with Python's own modules: the reference reader.

It needs nothing beyond the standard library, accepts everything the pyarrow
reader accepts (and some files it refuses, such as a CSV row with fewer cells
than the header), and knows the line every row came from; the pyarrow reader
asks it for line numbers when a message needs one.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ._errors import CommandError
from .query_table import QueryTable
from .table_columns import ListColumn


def decode(source: str, data: bytes) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped), or a message saying how to save it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{source} is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as UTF-8 CSV or JSON Lines (or pass --input-format parquet)"
        ) from None


def normalised(name: Any) -> str:
    """A column name as the commands look it up: case and surrounding spaces do not matter."""
    return str(name).strip().lower()


def refuse_duplicate_columns(source: str, columns: list[str]) -> None:
    seen = set()
    for name in columns:
        if name in seen:
            raise CommandError(f"{source}: column `{name}` appears twice in the header; rename or remove one")
        seen.add(name)


def check_header(source: str, columns: list[str]) -> None:
    """Refuse a CSV header that is really separated by something else, or names a column twice."""
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(columns) == 1 and separator in columns[0]:
            raise CommandError(f"{source} looks separated by {name}, not commas; save it as comma-separated CSV")
    refuse_duplicate_columns(source, columns)


def read_csv_text(source: str, text: str) -> QueryTable:
    """A CSV table: a header line, then one row per query; blank rows are skipped, cells are stripped."""
    reader = csv.reader(io.StringIO(text, newline=""))  # "\r", "\n" and "\r\n" end lines, as in pyarrow
    try:
        return _read_csv_rows(source, reader)
    except csv.Error as error:
        raise CommandError(f"{source}, line {reader.line_num}: not readable as CSV ({error}); check the quoting") from None


def _read_csv_rows(source: str, reader: Any) -> QueryTable:
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise CommandError(f"{source} is empty; it needs a header line (e.g. `id,tau`) and one query per row")
    columns = [normalised(cell) for cell in header]
    check_header(source, columns)
    values: list[list[str | None]] = [[] for _ in columns]
    lines = []
    end_of_previous = reader.line_num
    for cells in reader:
        # a quoted value may span lines: a row is named by the line it starts on
        first_line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines carry no query
        if len(cells) > len(columns):
            raise CommandError(
                f"{source}, line {first_line}: {len(cells)} values for {len(columns)} columns; "
                "quote values that contain commas, or add the missing header"
            )
        cells = cells + [""] * (len(columns) - len(cells))
        for column, cell in zip(values, cells):
            column.append(cell.strip() or None)
        lines.append(first_line)
    return QueryTable(
        source, columns, {name: ListColumn(column) for name, column in zip(columns, values)}, len(lines),
        lambda i: f"line {lines[i]}",
    )


def read_jsonl_text(source: str, text: str) -> QueryTable:
    """A JSON Lines table: one object per line; blank lines are skipped."""
    columns: list[str] = []
    rows, lines = [], []
    # Lines end at "\n" only: a JSON string may hold other line separators (U+2028, ...).
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CommandError(f"{source}, line {line_number}: not valid JSON ({error.msg}); write one JSON object per line") from None
        if not isinstance(record, dict):
            raise CommandError(f"{source}, line {line_number}: expected a JSON object like {{\"tau\": 300}}, got {line.strip()[:40]}")
        row = {normalised(key): value for key, value in record.items()}
        if len(row) < len(record):
            names = [normalised(key) for key in record]
            twice = next(name for name in names if names.count(name) > 1)
            raise CommandError(f"{source}, line {line_number}: key `{twice}` appears twice (names ignore case); keep one")
        for name in row:
            if name not in columns:
                columns.append(name)
        rows.append(row)
        lines.append(line_number)
    cells = {name: ListColumn([row.get(name) for row in rows]) for name in columns}
    return QueryTable(source, columns, cells, len(rows), lambda i: f"line {lines[i]}")
