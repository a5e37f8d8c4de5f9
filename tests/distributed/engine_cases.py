"""Instances as tables for the engine tests: columns, uneven and empty partitions, and a reader that fails once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import clear_fast as cf
from clear_fast.distributed.frames import ColumnReader

#: rounds an engine run here takes at most
MAX_ROUNDS = 40


@dataclass(frozen=True)
class Case:
    name: str
    curves: cf.SurgeCurves
    budget: int
    sizes: tuple[int, ...]  # partition sizes in order (0: an empty partition)

    def frames(self) -> list[pd.DataFrame]:
        c = self.curves
        whole = pd.DataFrame({
            "id": np.arange(len(c)), "tau": c.tau, "alpha": c.alpha, "beta": c.beta, "weight": c.weight,
            "min_tokens": c.min_tokens, "max_tokens": c.max_tokens,
        })
        bounds = np.cumsum([0, *self.sizes])
        return [whole.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds[:-1], bounds[1:])]


def cases() -> list[Case]:
    """Both forms; weights, caps and minimums; shared and per-query parameters; scarce and ample budgets."""
    rng = np.random.default_rng(20261202)
    out = []
    for form in ("surge", "cumulative"):
        n = 3000
        sizes = (1, 0, 2200, 0, 7, 792)
        per_query = cf.SurgeCurves.from_peak(
            rng.uniform(0, 150, n), rng.uniform(0.2, 1, n), rng.uniform(10, 80, n), weight=rng.uniform(0.5, 2, n),
            min_tokens=np.where(rng.random(n) < 0.2, rng.uniform(0, 150, n), 0.0),
            max_tokens=np.where(rng.random(n) < 0.2, rng.uniform(160, 300, n).round(), np.inf), form=form,
        )
        shared = cf.SurgeCurves.from_peak(rng.uniform(0, 150, n).round(), 0.7, 40.0, form=form)
        everybody = int(np.where(np.isfinite(per_query.peak_tokens), per_query.peak_tokens, 2000).sum()) + 1
        out += [
            Case(f"{form}-per-query-scarce", per_query, 150, sizes),
            Case(f"{form}-per-query", per_query, 60 * n, sizes),
            Case(f"{form}-per-query-everybody", per_query, everybody, sizes),
            Case(f"{form}-shared", shared, 80 * n, sizes),
        ]
    return out


def check_answer(table: pd.DataFrame, answer: Any, case: Case) -> None:
    """The engine's table and answer against ``allocate`` on the whole instance: the same rows, the same caps."""
    expected = cf.allocate(case.curves, case.budget)
    assert list(table["id"]) == list(range(len(case.curves)))  # same rows, same order
    np.testing.assert_array_equal(table["cap"].to_numpy(), expected.tokens)
    np.testing.assert_array_equal(table["funded"].to_numpy(), expected.tokens > 0)
    assert table["reason"].str.startswith(("funded", "abandoned")).all()
    assert answer.shadow_price == pytest.approx(expected.shadow_price, rel=1e-9)
    assert answer.utility == pytest.approx(expected.utility, rel=1e-9)
    assert answer.optimal == expected.optimal
    assert answer.rounds <= MAX_ROUNDS


class FailOnce:
    """Reads the curves, but raises the first time it sees the partition whose first id is ``first_id``.

    The marker file (shared by every worker process) records that it failed.
    """

    def __init__(self, marker: Path, first_id: int, form: str) -> None:
        self.marker, self.first_id, self.reader = str(marker), first_id, ColumnReader(None, form)

    def __call__(self, table: Any) -> cf.SurgeCurves:
        ids = np.asarray(table["id"])
        if ids.shape[0] and int(ids[0]) == self.first_id:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                raise RuntimeError(f"the partition starting at id {self.first_id} fails once")
        return self.reader(table.drop(columns=["id"]) if hasattr(table, "iloc") else table.drop_columns(["id"]))
