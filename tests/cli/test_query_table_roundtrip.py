"""Any table written by the csv and json modules reads back to the same ids and numbers."""

from __future__ import annotations

import csv
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from clear_fast.cli.query_table import read_query_table

ids = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda text: text.strip() == text
)
numbers = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
tables = st.lists(st.tuples(ids, numbers, numbers), min_size=1, max_size=25, unique_by=lambda row: row[0])


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
    assert table.ids() == [i for i, _, _ in rows]
    assert table.numbers("tau").tolist() == [t for _, t, _ in rows]
    assert table.numbers("weight").tolist() == [w for _, _, w in rows]
