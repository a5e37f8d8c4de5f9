"""Writing a result with pyarrow, in batches of rows: CSV and Parquet by pyarrow's writers, JSON Lines from columns.

pyarrow has no JSON writer: for JSON Lines each column becomes a column of JSON
text at once (numbers formatted by pyarrow, strings escaped), and the rows are
joined in pyarrow's buffers, laid out as Python's json module lays them out.

pyarrow writes to a file it opens itself, or into its own buffers, which are
then copied to stdout: it never writes through a Python file object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

_BATCH_ROWS = 1 << 16
STDOUT = "-"


def write_with_pyarrow(out: str, table_format: str, columns: Mapping[str, Any]) -> None:
    """Write ``columns`` to ``out`` (``-`` for stdout) as CSV, JSON Lines or Parquet (see result_table.write_table)."""
    import pyarrow as pa

    arrays, json_columns = {}, set()
    for name, values in columns.items():
        arrays[name], is_json = _arrow_array(values)
        if is_json:
            json_columns.add(name)
    table = pa.table(arrays)
    if table_format == "parquet":
        import pyarrow.parquet as parquet

        # Sentences (`reason`) and request fields are nearly all different: a dictionary of them is wasted work.
        plain = {"reason", "request"}
        options = {"use_dictionary": [name for name in table.column_names if name not in plain]}
        if out != STDOUT:
            parquet.write_table(table, out, **options)
            return
        sink = pa.BufferOutputStream()
        parquet.write_table(table, sink, **options)
        _emit(out, iter([sink.getvalue()]))
    elif table_format == "csv":
        _emit(out, _csv_chunks(table))
    else:
        _emit(out, _jsonl_chunks(table, json_columns))


def _arrow_array(values: Any) -> tuple[Any, bool]:
    """A column as a pyarrow array, and whether it holds JSON text standing for objects."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values, False
    if isinstance(values, list):
        if any(isinstance(value, (dict, list)) for value in values):
            return pa.array([None if value is None else json.dumps(value) for value in values], type=pa.string()), True
        return pa.array(values, type=pa.string()), False
    return pa.array(np.asarray(values)), False


def _emit(out: str, chunks: Iterator[Any]) -> None:
    import pyarrow as pa

    if out != STDOUT:
        with pa.OSFile(out, "wb") as sink:
            for chunk in chunks:
                sink.write(chunk)
        return
    sys.stdout.flush()  # anything already written as text goes first
    stream = getattr(sys.stdout, "buffer", None)
    for chunk in chunks:
        if stream is None:  # a text-only stdout (replaced in-process)
            sys.stdout.write(chunk.to_pybytes().decode("utf-8"))
        else:
            stream.write(memoryview(chunk))
    (stream or sys.stdout).flush()


def _csv_chunks(table: Any) -> Iterator[Any]:
    """CSV by pyarrow's writer: text values quoted (quotes doubled), numbers and true/false bare, empty if missing."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    yield pa.py_buffer((",".join(table.column_names) + "\n").encode())  # our plain names, unquoted
    texts = {name for name, kind in zip(table.column_names, table.schema.types) if pa.types.is_string(kind)}
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed" if texts else "none")
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(batch, sink, write_options=options)
        yield sink.getvalue()


def _jsonl_chunks(table: Any, json_columns: set[str]) -> Iterator[Any]:
    """One JSON object per row, laid out as ``json.dumps`` lays it out (``{"a": 1, "b": "x"}``)."""
    names = table.column_names
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        parts: list[Any] = []
        for k, name in enumerate(names):
            parts.append(("{" if k == 0 else ", ") + json.dumps(name) + ": ")
            parts.append(_json_texts(batch.column(k), raw=name in json_columns))
        parts.append("}\n")
        yield _joined(parts)


def _joined(parts: list[Any]) -> Any:
    """The rows made of ``parts`` (texts and columns of text), as one buffer of bytes."""
    import pyarrow.compute as pc

    lines = pc.binary_join_element_wise(*parts, "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def _json_texts(array: Any, *, raw: bool) -> Any:
    """Each value as JSON text; ``raw`` when the strings already are JSON text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if raw:
        text = array
    elif pa.types.is_integer(kind):
        text = pc.cast(array, pa.string())
    elif pa.types.is_floating(kind):
        text = pc.if_else(pc.is_finite(array), pc.cast(array, pa.string()), "null")  # JSON has no inf or NaN
    elif pa.types.is_boolean(kind):
        text = pc.if_else(array, "true", "false")
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _json_strings(array)
    else:
        text = pa.array([json.dumps(value) for value in array.to_pylist()], type=pa.string())
    return pc.fill_null(text, "null")


def _json_strings(array: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    escaped = pc.replace_substring(pc.replace_substring(array, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    control = pc.fill_null(pc.match_substring_regex(array, "[\\x00-\\x1f]"), False)
    if pc.any(control).as_py():  # rare: control characters need \u escapes, which json.dumps writes
        rows = np.flatnonzero(np.asarray(control.to_numpy(zero_copy_only=False)))
        dumped = pa.array([json.dumps(array[int(i)].as_py()) for i in rows], type=pa.string())
        quoted = pc.replace_with_mask(quoted, control, dumped)
    return quoted
