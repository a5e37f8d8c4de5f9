"""``clear-fast bench``: prints the ratios for every case; its baseline is an independent check of quality."""

from __future__ import annotations

import json

import numpy as np
import pytest

import clear_fast as cf
from clear_fast.experiments.solver_benchmark import CASES, make_curves
from clear_fast.experiments.bisection_baseline import bisection_allocate, tight_bisection_allocate


def test_bench_prints_and_saves_one_row_per_case(cli, tmp_path):
    done = cli("bench", "--sizes", "150,400", "--repeats", "1", "--memory", "--json", str(tmp_path / "bench.json"))
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["budget_per_query"] == 300
    rows = saved["rows"]
    assert [(r["form"], r["parameters"], r["n"]) for r in rows] == [(f, p, n) for n in (150, 400) for f, p in CASES]
    for row in rows:
        assert row["bisection_over_allocate"] == pytest.approx(row["bisection_s"] / row["allocate_s"])
        assert row["allocate_over_argsort"] == pytest.approx(row["allocate_s"] / row["argsort_s"])
        assert f"{row['bisection_over_allocate']:.1f}x" in done.stdout
        assert row["peak_extra_bytes_per_query"] >= 0
        # The exact solver never does worse than bisection by more than its certified gap.
        assert row["utility_over_bisection"] >= 1 - row["certified_gap_percent"] / 100 - 1e-9


@pytest.mark.parametrize("bisection", [bisection_allocate, tight_bisection_allocate])
@pytest.mark.parametrize("form,parameters", CASES)
def test_bisection_baseline_is_feasible_and_below_the_certified_bound(form, parameters, bisection):
    curves = make_curves(form, parameters, 300, seed=5)
    budget = 300 * 250
    grants, price = bisection(form, curves.tau, curves.scale, curves.beta, budget)
    exact = cf.allocate(curves, budget)
    assert grants.sum() <= budget
    funded = grants > 0
    assert np.all(grants[funded] >= np.floor(curves.tau[funded]))
    reached = cf.utility(curves, grants).sum()
    assert reached <= exact.upper_bound + 1e-9
    assert reached == pytest.approx(exact.utility, rel=0.02)  # both near the optimum (bisection strands tokens at the jump)
    assert price == pytest.approx(exact.shadow_price, rel=0.05)


def test_bad_sizes_are_refused(cli):
    done = cli("bench", "--sizes", "100,0")
    assert done.returncode == 2
    assert "--sizes" in done.stderr and len(done.stderr.strip().splitlines()) == 1
