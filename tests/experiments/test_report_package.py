"""clear_fast.experiments.report in Python: rows survive the JSON and CSV round trip; a report can be rebuilt
from its JSON."""

from __future__ import annotations

import csv
import json
import math

import pytest

from clear_fast.experiments.report import COLUMNS, ResultRow, rows_from_records, write_report


def _rows() -> list[ResultRow]:
    rows = []
    for stream in ("Balanced", "UShaped", "MostlyHard"):
        for k, policy in enumerate(("CLEAR", "Uniform", "MyPolicy")):
            for budget in (100, 300, 900):
                priced = policy == "CLEAR"
                rows.append(
                    ResultRow(
                        stream=stream, policy=policy, budget_per_query=budget, queries=40,
                        accuracy=min(1.0, budget / 1000 / (k + 1)), expected_accuracy=budget / 1100 / (k + 1),
                        tokens_granted=budget * 40, tokens_used=budget * 38,
                        abandonment=0.5 if priced and budget < 900 else 0.0,
                        shadow_price=1e-3 / budget if priced else math.nan,
                    )
                )
    return rows


def test_rebuilt_report_has_the_same_numbers(tmp_path):
    rows = _rows()
    first = write_report(rows, tmp_path / "a", metadata={"note": "x"}, reference={"Balanced": {"budget_per_query": [100, 900], "CLEAR": [10.0, 30.0]}})
    saved = json.loads(first["results.json"].read_text())
    again = rows_from_records(saved["rows"])
    assert len(again) == len(rows)
    for a, b in zip(again, rows):
        mine, theirs = a.as_dict(), b.as_dict()
        both_unpriced = math.isnan(mine.pop("shadow_price")) and math.isnan(theirs["shadow_price"])
        assert both_unpriced or mine["policy"] == "CLEAR"
        if not both_unpriced:
            assert a.shadow_price == b.shadow_price
        theirs.pop("shadow_price")
        assert mine == theirs
    second = write_report(again, tmp_path / "b", reference=saved["reference"])
    assert first["results.csv"].read_text() == second["results.csv"].read_text()
    with first["results.csv"].open() as stream:
        from_csv = rows_from_records(csv.DictReader(stream))
    assert [r.as_dict()["accuracy"] for r in from_csv] == [r.accuracy for r in rows]
    assert saved["columns"] == list(COLUMNS)
    assert saved["experiment"] == {"note": "x"}
    # three streams: a 2 x 2 grid with one spare cell, in every figure
    for name, figure in saved["figures"].items():
        assert [p["stream"] for p in figure["panels"]] == ["Balanced", "UShaped", "MostlyHard"], name


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="`rows` is empty"):
        write_report([], "unused")
    with pytest.raises(ValueError, match="lacks"):
        rows_from_records([{"stream": "Balanced"}])
