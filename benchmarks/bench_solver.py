"""Solver speed and memory, side by side in one run: clear_fast.allocate, a NumPy/SciPy bisection, argsort.

For each case (curve form x shared or per-query parameters) and size n, on
the same machine and in the same process: ``clear_fast.allocate(curves, 300 * n)``
(a scarce budget: many queries abandoned); the straightforward NumPy/SciPy
implementation a user would write without this library (bisection on the price,
best responses from ``scipy.special.lambertw``); and ``numpy.argsort`` of n floats,
the sorting floor of any exact O(n log n) method. Times are medians; what carries
over to another machine are the ratios. Peak extra memory of one allocate call is
read in a fresh child process from the kernel's own accounting (VmHWM after
resetting it), so allocations outside Python's tracing count too.

The measuring code is ``clear_fast.experiments.solver_benchmark`` (also behind ``clear-fast bench``);
this script runs it at the sizes of the targets and writes
benchmarks/results/bench_solver.json.

Run: ``python benchmarks/bench_solver.py`` (about 6 minutes with n = 1,000,000;
``--sizes 10000 100000`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

import clear_fast as cf
from clear_fast.experiments.solver_benchmark import BUDGET_PER_QUERY, memory_is_measurable, run_benchmark

RESULTS = Path(__file__).resolve().parent / "results" / "bench_solver.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    args = parser.parse_args()
    print(
        f"clear_fast {cf.__version__} ({cf.IMPLEMENTATION} kernel), numpy {np.__version__}, "
        f"{platform.machine()}, budget {BUDGET_PER_QUERY} tokens per query",
        flush=True,
    )

    def show(row) -> None:
        print(
            f"{row.form:10s} {row.parameters:9s} n={row.n:>9,}  allocate/argsort {row.allocate_over_argsort:5.2f}x  "
            f"bisection/allocate {row.bisection_over_allocate:6.1f}x  "
            f"memory {row.peak_extra_bytes_per_query:6.1f} B/query  "
            f"utility vs bisection {row.utility_over_bisection:.5f}  gap {row.certified_gap_percent:.5f}%",
            flush=True,
        )

    rows = run_benchmark(
        args.sizes, args.repeats, args.baseline_repeats, memory=memory_is_measurable(), progress=show
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"budget_per_query": BUDGET_PER_QUERY, "rows": [row.as_dict() for row in rows]}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
