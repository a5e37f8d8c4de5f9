"""Reading a table of queries from CSV, JSON Lines or Parquet: a file, or stdin.

The command line accepts whatever a spreadsheet, a log pipeline or a dataframe
exports. With pyarrow installed (``pip install "clear-fast[parquet]"``) every
format is read by pyarrow in columns, so a million rows take seconds; without
it, CSV and JSON Lines are read by Python's own modules, with the same results.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._errors import CommandError
from .query_table import QueryTable
from .text_readers import decode, read_csv_text, read_jsonl_text

INPUT_FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
STDIN = "-"
PYARROW_HINT = 'pip install "clear-fast[parquet]" (or pip install pyarrow)'


def pyarrow_installed() -> bool:
    """True when pyarrow can be imported (the columnar readers and writers need it)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def read_query_table(path: str, input_format: str | None = None) -> QueryTable:
    """Read ``path`` (``-`` for stdin) as CSV, JSON Lines or Parquet.

    The format comes from ``input_format``, else from the file extension, else
    (stdin) from the first character: ``{`` means JSON Lines.

    Raises
    ------
    CommandError
        Missing file, unknown format, unreadable content, or no rows.
    """
    where: str | bytes
    if path == STDIN:
        source = "stdin"
        where = sys.stdin.buffer.read()
    else:
        file = Path(path)
        source = str(file)
        if not file.exists():
            raise CommandError(f"input file {path} does not exist; check the path (or pass - to read from stdin)")
        if file.is_dir():
            raise CommandError(f"input {path} is a folder; pass the file with the queries")
        where = path
    table_format = input_format or _guess_format(path, where)
    table = _read(source, where, table_format)
    if len(table) == 0:
        raise CommandError(f"{source} has no queries; add one query per row (see `clear-fast allocate --help`)")
    return table


def _read(source: str, where: str | bytes, table_format: str) -> QueryTable:
    with_pyarrow = pyarrow_installed()
    if table_format == "parquet":
        if not with_pyarrow:
            raise CommandError(f"reading Parquet ({source}) needs pyarrow: {PYARROW_HINT}, or export the table as CSV or JSON Lines")
        from .arrow_readers import read_parquet

        return read_parquet(source, where)
    if with_pyarrow:
        from .arrow_readers import read_csv_columns, read_jsonl_columns

        table = (read_csv_columns if table_format == "csv" else read_jsonl_columns)(source, where)
        if table is not None:
            return table
    # No pyarrow, or pyarrow refused the file: the reference reader accepts it or says what is wrong.
    text = decode(source, where if isinstance(where, bytes) else Path(where).read_bytes())
    return read_csv_text(source, text) if table_format == "csv" else read_jsonl_text(source, text)


def _guess_format(path: str, where: str | bytes) -> str:
    if isinstance(where, bytes):
        return "jsonl" if where.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{" else "csv"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise CommandError(
            f"cannot tell the format of {path} from its extension {suffix or '(none)'!s}; "
            "pass --input-format csv, jsonl or parquet"
        )
    return _SUFFIXES[suffix]
