"""The solver benchmark: ``clear_fast.allocate`` beside the paper's price bisection, as ratios.

For each case (curve form, shared or per-query parameters, number of queries)
both solvers get the same curves and budget (300 tokens per query, where many
queries are abandoned); the benchmark reports how many times faster
clear_fast is, the ratio of the utilities reached, and clear_fast's own
certified gap. Best-of-``repeats`` wall times on this machine; the ratios are
what carries over to another one.

``main`` is what ``clear-fast bench`` runs; ``run_benchmark`` returns the rows
for other callers (a benchmark script, a notebook).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bisection_baseline import bisection_allocate

DEFAULT_SIZES = (1_000, 10_000, 100_000)
BUDGET_PER_QUERY = 300
CASES = (("cumulative", "shared"), ("cumulative", "per-query"), ("surge", "shared"), ("surge", "per-query"))


@dataclass(frozen=True)
class BenchRow:
    """One case of the benchmark.

    Attributes
    ----------
    form : str
        ``"surge"`` or ``"cumulative"``.
    parameters : str
        ``"shared"`` (one alpha, beta for all: the paper's case) or ``"per-query"``.
    queries : int
    clear_fast_seconds, bisection_seconds : float
        Best wall time over the repeats.
    speedup : float
        ``bisection_seconds / clear_fast_seconds``.
    utility_ratio : float
        clear_fast's utility over the bisection's (>= 1 means at least as good).
    gap_percent : float
        clear_fast's certified gap to the optimum, in percent of its upper bound.
    """

    form: str
    parameters: str
    queries: int
    clear_fast_seconds: float
    bisection_seconds: float
    speedup: float
    utility_ratio: float
    gap_percent: float


def make_curves(form: str, parameters: str, n: int, seed: int = 0):
    """Thresholds spread like a mixed stream; asymptote or peak 0.8; widths 100-300 tokens when per query."""
    import clear_fast as cf

    rng = np.random.default_rng(seed)
    tau = rng.lognormal(np.log(400.0), 0.8, n)
    width = np.full(n, 200.0) if parameters == "shared" else rng.uniform(100.0, 300.0, n)
    return cf.SurgeCurves.from_peak(tau, 0.8, width, form=form)


def _best_time(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def run_benchmark(sizes: Sequence[int] = DEFAULT_SIZES, repeats: int = 3, progress: Callable[[str], None] | None = None) -> list[BenchRow]:
    """Time both solvers on every case; see :class:`BenchRow`."""
    import clear_fast as cf

    rows = []
    for n in sizes:
        for form, parameters in CASES:
            if progress:
                progress(f"{form}, {parameters} parameters, {n} queries")
            curves = make_curves(form, parameters, n)
            budget = BUDGET_PER_QUERY * n
            cf.allocate(curves.subset(np.arange(min(n, 100))), BUDGET_PER_QUERY * min(n, 100))  # warm-up
            ours_seconds, ours = _best_time(lambda: cf.allocate(curves, budget), repeats)
            theirs_seconds, (grants, _price) = _best_time(
                lambda: bisection_allocate(form, curves.tau, curves.scale, curves.beta, budget), repeats
            )
            theirs_utility = float(cf.utility(curves, grants).sum())
            rows.append(
                BenchRow(
                    form=form,
                    parameters=parameters,
                    queries=n,
                    clear_fast_seconds=ours_seconds,
                    bisection_seconds=theirs_seconds,
                    speedup=theirs_seconds / ours_seconds,
                    utility_ratio=ours.utility / theirs_utility if theirs_utility > 0 else float("inf"),
                    gap_percent=100.0 * ours.gap / ours.upper_bound if ours.upper_bound > 0 else 0.0,
                )
            )
    return rows


def ratio_table(rows: Sequence[BenchRow]):
    """The rows as a rich Table: ratios first, times for reference."""
    from rich import box
    from rich.table import Table

    import clear_fast as cf

    table = Table(
        title=f"clear_fast.allocate ({cf.IMPLEMENTATION} kernel) beside the paper's price bisection (numpy + scipy)",
        box=box.SIMPLE_HEAD,
    )
    for name in ("form", "parameters", "queries", "speedup", "utility ratio", "gap %", "clear_fast ms", "bisection ms"):
        table.add_column(name, justify="left" if name in ("form", "parameters") else "right")
    for r in rows:
        table.add_row(
            r.form, r.parameters, f"{r.queries:,}", f"{r.speedup:.1f}x", f"{r.utility_ratio:.5f}",
            f"{r.gap_percent:.4f}", f"{1e3 * r.clear_fast_seconds:.2f}", f"{1e3 * r.bisection_seconds:.2f}",
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark with default settings (or ``clear-fast bench`` options) and print the ratios."""
    from . import main as cli_main

    return cli_main(["bench", *(argv or [])])
