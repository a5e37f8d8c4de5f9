"""The pyarrow reader and the reference reader see the same table in any file: same columns, values, errors, lines.

The reference reader (Python's csv and json modules, one row at a time) is
what the command line uses without pyarrow, and the judge of what a file
means; the pyarrow reader must agree with it on every file it accepts.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clear_fast.cli._errors import CommandError
from clear_fast.cli.arrow_readers import read_csv_columns, read_jsonl_columns
from clear_fast.cli.table_input import read_query_table
from clear_fast.cli.text_readers import decode, read_csv_text, read_jsonl_text

ids = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda text: text.strip() == text
)
numbers = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
tables = st.lists(st.tuples(ids, numbers, numbers), min_size=1, max_size=25, unique_by=lambda row: row[0])

# Cells as people and programs write them: numbers in many spellings, words, blanks, quotes, commas.
cell_texts = st.sampled_from([
    "", " ", "1", "007", "-3", "2.5", " 4 ", "1e3", "1E-2", "+.5", "inf", "-Infinity", "nan", "NaN", "NA", "null",
    "1_000", "0x10", "١٢", "true", "False", "yes", "n", "t", "a,b", 'say "hi"', "é", "x\ny", "0.1", "1e400",
]) | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
json_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
    cell_texts, st.just({"nested": 1}), st.just([1, 2]),
)


@settings(max_examples=60, deadline=None)
@given(rows=tables, as_jsonl=st.booleans())
def test_round_trip(tmp_path_factory, rows, as_jsonl):
    folder = tmp_path_factory.mktemp("table")
    if as_jsonl:
        path = folder / "q.jsonl"
        path.write_text("".join(json.dumps({"ID": i, "Tau": t, "weight": w}) + "\n" for i, t, w in rows), encoding="utf-8")
    else:
        path = folder / "q.csv"
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["ID", " Tau ", "weight"])
            writer.writerows([i, repr(t), repr(w)] for i, t, w in rows)
    table = read_query_table(str(path))
    assert _texts(table.ids()) == [i for i, _, _ in rows]
    assert table.numbers("tau").tolist() == [t for _, t, _ in rows]
    assert table.numbers("weight").tolist() == [w for _, _, w in rows]


def _texts(column) -> list:
    return column if isinstance(column, list) else column.to_pylist()


def _outcome(call):
    """What a conversion gives: its values, or the message it refuses with."""
    try:
        value = call()
    except CommandError as error:
        return ("refused", str(error))
    if isinstance(value, np.ndarray):
        return ("values", [repr(v) for v in value.tolist()])  # repr: NaN equals NaN, -0.0 differs from 0.0
    return ("values", _texts(value))


def _same_table(reference, fast):
    assert fast.columns == reference.columns
    assert len(fast) == len(reference)
    for i in range(len(reference)):
        assert fast.locate(i) == reference.locate(i)
    for name in reference.columns + ["absent"]:
        assert fast.has(name) == reference.has(name)
        assert _outcome(lambda: fast.numbers(name)) == _outcome(lambda: reference.numbers(name))
        assert _outcome(lambda: fast.numbers(name, default=1.5, minimum=0.0)) == _outcome(
            lambda: reference.numbers(name, default=1.5, minimum=0.0))
        assert _outcome(lambda: fast.numbers(name, default=np.inf, strictly_positive=True, allow_inf=True)) == _outcome(
            lambda: reference.numbers(name, default=np.inf, strictly_positive=True, allow_inf=True))
        if name in reference.columns:
            assert _outcome(lambda: fast.flags(name)) == _outcome(lambda: reference.flags(name))
            assert _outcome(lambda: fast.texts(name, what="fill it")) == _outcome(lambda: reference.texts(name, what="fill it"))
            assert [fast.raw(name, i) for i in range(len(fast))] == [reference.raw(name, i) for i in range(len(reference))]
    assert _outcome(fast.ids) == _outcome(reference.ids)


@settings(max_examples=150, deadline=None)
@given(
    header=st.lists(st.sampled_from(["id", "Tau", " alpha ", "beta", "weight", "cut", "x y"]), min_size=1, max_size=4, unique=True),
    cells=st.lists(st.lists(cell_texts, min_size=0, max_size=5), min_size=0, max_size=12),
    line_end=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_csv_files_read_the_same_both_ways(tmp_path_factory, header, cells, line_end, bom):
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator=line_end)
    writer.writerow(header)
    for row in cells:
        writer.writerow(row[: len(header)])
    data = (b"\xef\xbb\xbf" if bom else b"") + stream.getvalue().encode()
    path = tmp_path_factory.mktemp("csv") / "q.csv"
    path.write_bytes(data)
    for where in (str(path), data):  # a file pyarrow opens, and stdin's bytes in a pyarrow buffer
        _compare(lambda: read_csv_text("q.csv", decode("q.csv", data)), lambda: read_csv_columns("q.csv", where))


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(
        st.dictionaries(st.sampled_from(["id", "ID", "tau", "Alpha", "beta", "cut", "note"]), json_values, max_size=5),
        min_size=0, max_size=12,
    ),
    blank_lines=st.lists(st.integers(0, 12), max_size=3),
)
def test_jsonl_files_read_the_same_both_ways(tmp_path_factory, records, blank_lines):
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    for k in sorted(blank_lines, reverse=True):
        lines.insert(min(k, len(lines)), "  ")
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path_factory.mktemp("jsonl") / "q.jsonl"
    path.write_bytes(data)
    for where in (str(path), data):
        _compare(lambda: read_jsonl_text("q.jsonl", decode("q.jsonl", data)), lambda: read_jsonl_columns("q.jsonl", where))


one_type_per_key = st.sampled_from([
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**62), 2**62), cell_texts, st.booleans(),
])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), keys=st.lists(st.sampled_from(["id", "tau", "Alpha", "cut", "note"]), min_size=1, max_size=4, unique=True))
def test_jsonl_files_of_one_type_per_key_read_the_same_both_ways(tmp_path_factory, data, keys):
    kinds = {key: data.draw(one_type_per_key) for key in keys}
    records = data.draw(st.lists(
        st.fixed_dictionaries({}, optional={key: st.none() | kind for key, kind in kinds.items()}), min_size=1, max_size=12,
    ))
    data_bytes = "".join(json.dumps(record) + "\n" for record in records).encode()
    path = tmp_path_factory.mktemp("jsonl") / "q.jsonl"
    path.write_bytes(data_bytes)
    _compare(lambda: read_jsonl_text("q.jsonl", decode("q.jsonl", data_bytes)), lambda: read_jsonl_columns("q.jsonl", str(path)))


def _compare(read_reference, read_fast):
    reference = _outcome_of_reading(read_reference)
    fast = _outcome_of_reading(read_fast)
    if fast is None:
        return  # pyarrow refused the file: the command reads it with the reference reader
    if isinstance(reference, str) or isinstance(fast, str):
        assert fast == reference
        return
    _same_table(reference, fast)


def _outcome_of_reading(read):
    try:
        return read()
    except CommandError as error:
        return str(error)


def test_pyarrow_reads_the_usual_files_itself(tmp_path):
    # the fast route is taken for ordinary files, not only tested to agree when taken
    (tmp_path / "q.csv").write_text("id,tau\na,1\n\nb, 2 \n,\n")
    table = read_csv_columns(str(tmp_path / "q.csv"), str(tmp_path / "q.csv"))
    assert table is not None and len(table) == 2 and table.locate(1) == "line 4"
    (tmp_path / "q.jsonl").write_text('{"id": "a", "tau": 1}\n\n{"id": "b", "tau": 2.5}\n')
    table = read_jsonl_columns(str(tmp_path / "q.jsonl"), str(tmp_path / "q.jsonl"))
    assert table is not None and table.numbers("tau").tolist() == [1.0, 2.5] and table.locate(1) == "line 3"
