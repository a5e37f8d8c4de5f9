"""Results written by pyarrow read back exactly as those written by Python's csv and json modules."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clear_fast.cli import result_table

texts = st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["a,b", 'say "hi"', "two\nlines", "cr\rlf", "tab\t", "\x00\x1f", "é ü", "", " "]
)
floats = st.floats() | st.sampled_from([0.0, -0.0, 1e-5, 1e16, 5e-324, 0.1, math.inf, -math.inf])
objects = st.none() | st.fixed_dictionaries({"max_tokens": st.integers(0, 10**6), "effort": texts})


def _columns(draw_rows) -> dict:
    ids, tokens, funded, prices, notes, requests = zip(*draw_rows) if draw_rows else ([],) * 6
    return {
        "id": pa.array(list(ids), type=pa.string()),
        "tokens": np.array(tokens, dtype=np.int64),
        "funded": np.array(funded, dtype=np.bool_),
        "breakeven_price": np.array(prices, dtype=np.float64),
        "reason": list(notes),
        "request": list(requests),
    }


rows = st.lists(
    st.tuples(st.text(max_size=6), st.integers(-(2**63), 2**63 - 1), st.booleans(), floats, texts, objects),
    min_size=1, max_size=20,
)


def _write(tmp_path, columns, table_format, with_pyarrow, monkeypatch, to_stdout=False, capsysbinary=None):
    monkeypatch.setattr(result_table, "pyarrow_installed", lambda: with_pyarrow)
    if to_stdout:
        capsysbinary.readouterr()
        result_table.write_table("-", table_format, columns)
        return capsysbinary.readouterr().out
    out = tmp_path / f"out-{with_pyarrow}.{table_format}"
    result_table.write_table(str(out), table_format, columns)
    return out.read_bytes()


def _csv_rows(data: bytes) -> list[list]:
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    # floats may be spelled differently (1e-05 or 0.00001): compare their values
    return [row[:3] + [repr(float(row[3])) if row[3] else row[3]] + row[4:] if k else row for k, row in enumerate(parsed)]


def _jsonl_rows(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").split("\n")[:-1]]


@settings(max_examples=80, deadline=None)
@given(drawn=rows, table_format=st.sampled_from(["csv", "jsonl"]))
def test_pyarrow_and_python_write_the_same_values(tmp_path_factory, drawn, table_format):
    columns = _columns(drawn)
    tmp_path = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as patch:
        fast = _write(tmp_path, columns, table_format, True, patch)
        reference = _write(tmp_path, columns, table_format, False, patch)
    read = _csv_rows if table_format == "csv" else _jsonl_rows
    assert read(fast) == read(reference)
    if table_format == "jsonl":
        assert fast.count(b"\n") == len(drawn)  # one line per row, whatever the strings hold


def test_both_lay_out_csv_and_json_lines_the_same(tmp_path, monkeypatch):
    # a plain header, text quoted (quotes doubled), numbers and `true`/`false` bare, nothing when missing
    columns = {"id": ["q1", "a,b"], "tokens": np.array([3, 0]), "funded": np.array([True, False]),
               "note": ['say "hi"', None], "price": np.array([0.5, math.inf])}
    fast = _write(tmp_path, columns, "csv", True, monkeypatch)
    assert fast == b'id,tokens,funded,note,price\n"q1",3,true,"say ""hi""",0.5\n"a,b",0,false,,inf\n'
    assert fast == _write(tmp_path, columns, "csv", False, monkeypatch)
    lines = _write(tmp_path, columns, "jsonl", True, monkeypatch)
    assert lines.splitlines()[1] == b'{"id": "a,b", "tokens": 0, "funded": false, "note": null, "price": null}'


def test_stdout_gets_the_same_bytes_as_a_file(tmp_path, monkeypatch, capsysbinary):
    columns = {"id": ["x", "y"], "tokens": np.array([1, 2]), "request": [{"max_tokens": 1}, None]}
    for table_format in ("csv", "jsonl", "parquet"):
        on_stdout = _write(tmp_path, columns, table_format, True, monkeypatch, to_stdout=True, capsysbinary=capsysbinary)
        in_file = _write(tmp_path, columns, table_format, True, monkeypatch)
        if table_format == "parquet":
            assert pq.read_table(pa.BufferReader(on_stdout)).equals(pq.read_table(pa.BufferReader(in_file)))
        else:
            assert on_stdout == in_file


def test_parquet_keeps_types_and_writes_objects_as_json_text(tmp_path, monkeypatch):
    columns = {"id": ["x", "y"], "tokens": np.array([1, 2]), "funded": np.array([True, False]),
               "price": np.array([0.25, math.inf]), "request": [{"max_tokens": 1}, None]}
    table = pq.read_table(pa.BufferReader(_write(tmp_path, columns, "parquet", True, monkeypatch)))
    assert table.schema.types == [pa.string(), pa.int64(), pa.bool_(), pa.float64(), pa.string()]
    assert table.to_pylist()[0] == {"id": "x", "tokens": 1, "funded": True, "price": 0.25, "request": '{"max_tokens": 1}'}
    assert table.column("request").to_pylist()[1] is None
