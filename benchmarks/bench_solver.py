"""Solver speed and memory, side by side in one run: clear_fast.allocate, a NumPy/SciPy bisection, argsort.

For each case (curve form x shared or per-query parameters) and size n, on
the same machine and in the same process: ``clear_fast.allocate(curves, 300 * n)``
(a scarce budget: many queries abandoned); a tight NumPy/SciPy bisection a user
would write without this library (60 halvings on the price, each query's best
response from ``scipy.special.lambertw``, no rounding until the end); and
``numpy.argsort`` of the n thresholds, the sorting floor of any exact O(n log n) method,
timed interleaved with allocate. Times are medians of CPU time of the calling thread (on
a shared machine wall time also counts the waits for a core); what carries over to
another machine are the ratios. Peak extra memory of one allocate call is
read in a fresh child process from the kernel's own accounting (VmHWM after
resetting it), so allocations outside Python's tracing count too.

The exact step (``clear_fast.experiments.exact_benchmark``): small scarce
batches (10, 30 and 100 queries at 30-150 tokens per query: median and worst
time, beside the market clearing alone), the adversarial regime (a million
queries, a budget of one or five median thresholds, at the default tolerance and
at rtol=0: proven optimal or with what gap, and how fast), and what certifying costs at a million queries (``allocate``
over the clearing alone, calls interleaved).

The measuring code is ``clear_fast.experiments.solver_benchmark`` (also behind ``clear-fast bench``)
and ``clear_fast.experiments.exact_benchmark``; this script runs them at the sizes of the targets and
writes benchmarks/results/bench_solver.json and benchmarks/results/bench_exact.json.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_solver.py`` (about 15 minutes with n = 1,000,000;
``--sizes 10000 100000 --scale 100000`` for a quick look, ``--only exact`` or ``--only solver`` for one part).
It prints the targets met or missed: per-query parameters at least 50x faster than the tight bisection at
200,000 and 1,000,000 queries, shared parameters within 1.5 sorts at 1,000,000, and allocate within 1.05x
of the clearing alone at 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np

import clear_fast as cf
from clear_fast.experiments import exact_benchmark
from clear_fast.experiments.solver_benchmark import BUDGET_PER_QUERY, TARGET_SIZES, memory_is_measurable, run_benchmark

RESULTS = Path(__file__).resolve().parent / "results" / "bench_solver.json"
EXACT_RESULTS = Path(__file__).resolve().parent / "results" / "bench_exact.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(TARGET_SIZES))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=20, help="instances per small scarce case")
    parser.add_argument("--scale", type=int, default=1_000_000, help="queries of the adversarial and scale cases")
    parser.add_argument("--only", choices=["solver", "exact"], help="run one part only")
    args = parser.parse_args()
    print(
        f"clear_fast {cf.__version__} ({cf.IMPLEMENTATION} kernel), numpy {np.__version__}, "
        f"{platform.machine()}, budget {BUDGET_PER_QUERY} tokens per query",
        flush=True,
    )
    if args.only != "solver":
        run_exact(args.seeds, args.scale)
    if args.only != "exact":
        run_solver(args.sizes, args.repeats, args.baseline_repeats)


def run_exact(seeds: int, scale: int) -> None:
    """The exact step's three parts, printed as they are measured and written to EXACT_RESULTS."""

    def scarce(row) -> None:
        print(
            f"scarce {row.form:10s} n={row.n:>4} {row.per_query:>4} tokens/query  median {row.median_ms:7.2f} ms  "
            f"worst {row.worst_ms:8.2f} ms  (clearing alone {row.clearing_median_ms:6.2f} / "
            f"{row.clearing_worst_ms:6.2f} ms)  searched {row.searched_share:4.0%}  optimal {row.optimal_share:4.0%}  "
            f"utility over clearing {row.utility_over_clearing:.4f} (clearing alone down to {row.clearing_worst_share:.3f})",
            flush=True,
        )

    def hard(row) -> None:
        print(
            f"adversarial {row.form:10s} {row.parameters:9s} n={row.n:,} budget {row.budget} rtol {row.rtol:g}  "
            f"{row.seconds:6.3f} s  "
            f"funded {row.funded}  optimal {row.optimal}  search {row.search!r}  gap {row.gap_percent:.5f}%",
            flush=True,
        )

    def cost(row) -> None:
        print(
            f"scale {row.form:10s} {row.parameters:9s} n={row.n:,}  allocate/clearing alone "
            f"{row.allocate_over_clearing:5.3f}x  ({1e3 * row.allocate_s:.1f} / {1e3 * row.clearing_s:.1f} ms, "
            f"search {row.search!r})",
            flush=True,
        )

    document = {
        "scarce": exact_benchmark.as_dicts(exact_benchmark.scarce_batches(seeds=seeds, progress=scarce)),
        "adversarial": exact_benchmark.as_dicts(exact_benchmark.adversarial(scale, progress=hard)),
        "scale": exact_benchmark.as_dicts(exact_benchmark.certificate_cost(scale, repeats=15, progress=cost)),
    }
    worst = max(row["allocate_over_clearing"] for row in document["scale"])
    print(f"target: allocate / the clearing alone <= 1.05 at n={scale:,}: worst case {worst:.3f}x "
          f"({'met' if worst <= 1.05 else 'missed'})", flush=True)
    document["load_average_after"] = os.getloadavg()
    EXACT_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    EXACT_RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {EXACT_RESULTS}")


def run_solver(sizes: list[int], repeats: int, baseline_repeats: int) -> None:
    """allocate beside the bisection and argsort, written to RESULTS."""

    def show(row) -> None:
        print(
            f"{row.form:10s} {row.parameters:9s} n={row.n:>9,}  allocate/argsort {row.allocate_over_argsort:5.2f}x  "
            f"bisection/allocate {row.bisection_over_allocate:6.1f}x  "
            f"memory {row.peak_extra_bytes_per_query:6.1f} B/query  "
            f"utility vs bisection {row.utility_over_bisection:.5f}  gap {row.certified_gap_percent:.5f}%",
            flush=True,
        )

    load_before = os.getloadavg()
    rows = run_benchmark(sizes, repeats, baseline_repeats, memory=memory_is_measurable(), progress=show)
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    targets = speed_targets(rows)
    for target in targets:
        print(f"target: {target['what']}: {target['measured']:.2f}x ({'met' if target['met'] else 'missed'})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "budget_per_query": BUDGET_PER_QUERY,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "targets": targets,
        "rows": [row.as_dict() for row in rows],
    }
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def speed_targets(rows) -> list[dict]:
    """The speed targets at the sizes measured: per-query parameters at least 50x faster than the tight
    bisection (200,000 and 1,000,000 queries), shared parameters within 1.5 sorts of n floats (1,000,000)."""
    targets = []
    for row in rows:
        if row.parameters == "per-query" and row.n in (200_000, 1_000_000):
            targets.append({
                "what": f"{row.form} per-query n={row.n:,}: tight bisection / allocate >= 50",
                "measured": row.bisection_over_allocate, "met": row.bisection_over_allocate >= 50.0,
            })
        if row.parameters == "shared" and row.n == 1_000_000:
            targets.append({
                "what": f"{row.form} shared n={row.n:,}: allocate / argsort <= 1.5",
                "measured": row.allocate_over_argsort, "met": row.allocate_over_argsort <= 1.5,
            })
    return targets


if __name__ == "__main__":
    main()
