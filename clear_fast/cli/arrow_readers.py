"""Reading CSV, JSON Lines and Parquet with pyarrow, in columns.

pyarrow is always handed a path or a pyarrow buffer, never a Python file
object: a Python file read from pyarrow's own threads can race the interpreter's
shutdown (the process then aborts after its work is done).

For CSV and JSON Lines, pyarrow is the fast route, not the judge: when it
refuses a file, the reference reader (text_readers) reads it instead, and
either accepts it or says what is wrong and on which line. The reference reader
also supplies line numbers when a message needs one, and the text of JSON
values pyarrow read as floats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import CommandError
from .query_table import QueryTable
from .table_columns import ArrowColumn, Column
from .text_readers import check_header, decode, normalised, read_csv_text, read_jsonl_text, refuse_duplicate_columns

# Enough bytes to hold any sensible header line.
_HEADER_PEEK = 1 << 16


def pyarrow_source(where: str | bytes) -> Any:
    """What pyarrow reads from: a path it opens itself, or stdin's bytes as a pyarrow buffer."""
    import pyarrow as pa

    return pa.BufferReader(pa.py_buffer(where)) if isinstance(where, bytes) else where


def read_parquet(source: str, where: str | bytes) -> QueryTable:
    """A Parquet table; rows are named ``row 1``, ``row 2``, ..."""
    import pyarrow.parquet as parquet

    try:
        table = parquet.read_table(pyarrow_source(where))
    except Exception as error:  # pyarrow raises its own error types for corrupt files
        raise CommandError(f"{source} is not a readable Parquet file ({error}); check the file or pass --input-format") from None
    columns = [normalised(name) for name in table.column_names]
    refuse_duplicate_columns(source, columns)
    cells = {name: ArrowColumn(column) for name, column in zip(columns, table.columns)}
    return QueryTable(source, columns, cells, table.num_rows, lambda i: f"row {i + 1}")


def read_csv_columns(source: str, where: str | bytes) -> QueryTable | None:
    """A CSV table read by pyarrow with every cell as text, stripped, empty cells null; None when pyarrow refuses it."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    header = _csv_header(where)
    if header is None:
        return None
    # Every column as text, as the reference reader sees it: an id `007` stays `007`, and
    # only an empty cell is empty (pyarrow would also read `NA` or `null` as missing).
    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pa_csv.read_csv(pyarrow_source(where), convert_options=convert)
    except pa.ArrowException:
        return None
    if table.num_columns != len(header) or not all(pa.types.is_string(field.type) for field in table.schema):
        return None
    columns = [normalised(name) for name in table.column_names]
    check_header(source, columns)
    cells = []
    for column in table.columns:
        stripped = pc.utf8_trim_whitespace(column.combine_chunks())
        cells.append(pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped))
    if cells:
        filled = cells[0].is_valid()
        for cell in cells[1:]:
            filled = pc.or_(filled, cell.is_valid())
        if not pc.all(filled).as_py():  # rows of blank cells carry no query
            cells = [cell.filter(filled) for cell in cells]
    size = len(cells[0]) if cells else 0
    reference = _reference(source, where, read_csv_text)
    return QueryTable(
        source, columns, {name: ArrowColumn(cell) for name, cell in zip(columns, cells)}, size,
        lambda i: reference().locate(i),
    )


def read_jsonl_columns(source: str, where: str | bytes) -> QueryTable | None:
    """A JSON Lines table read by pyarrow; None when pyarrow refuses it or its names collide once lower-cased."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    try:
        table = pa_json.read_json(pyarrow_source(where))
    except pa.ArrowException:
        return None
    columns = [normalised(name) for name in table.column_names]
    if table.num_rows == 0 or len(set(columns)) < len(columns):
        return None  # the reference reader merges `Tau` and `tau` from different lines, or names the line
    reference = _reference(source, where, read_jsonl_text)

    def as_written(name: str) -> Callable[[], Column]:
        return lambda: reference().cells[name]

    cells = {name: ArrowColumn(column, as_written(name)) for name, column in zip(columns, table.columns)}
    return QueryTable(source, columns, cells, table.num_rows, lambda i: reference().locate(i))


def _csv_header(where: str | bytes) -> list[str] | None:
    """The header's cells as written (None when there is no header line)."""
    if isinstance(where, bytes):
        head = where[:_HEADER_PEEK]
    else:
        with open(where, "rb") as stream:
            head = stream.read(_HEADER_PEEK)
    try:
        header = next(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="replace"), newline="")), None)
    except csv.Error:
        return None  # the reference reader says what is wrong with it
    return header if header and any(cell.strip() for cell in header) else None


def _reference(source: str, where: str | bytes, reader: Callable[[str, str], QueryTable]) -> Callable[[], QueryTable]:
    """The same file read by the reference reader, read on first use only (a message's line number, say)."""
    found: list[QueryTable] = []

    def table() -> QueryTable:
        if not found:
            data = where if isinstance(where, bytes) else Path(where).read_bytes()
            found.append(reader(source, decode(source, data)))
        return found[0]

    return table
