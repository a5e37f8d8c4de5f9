"""Solver speed and memory, side by side in one run: clear_fast.allocate, a NumPy/SciPy bisection, argsort.

For each case (curve form x shared or per-query parameters) and size n, on
the same machine and in the same process:

* ``clear_fast.allocate(curves, 300 * n)`` (a scarce budget: many queries abandoned);
* the straightforward NumPy/SciPy implementation of the same allocation that a
  user would write without this library: bisection on the price, best responses
  from ``scipy.special.lambertw`` (``clear_fast.cli.bisection_baseline``);
* ``numpy.argsort`` of n floats: the sorting floor of any exact O(n log n) method.

Times are medians of ``--repeats`` runs; the figures that carry over to
another machine are the ratios. Peak extra memory of one allocate call is
measured in a fresh child process from the kernel's own accounting (VmHWM
after resetting it), so allocations outside Python's tracing count too.

Run: ``python benchmarks/bench_solver.py`` (about 3 minutes at n = 1,000,000;
``--sizes 10000 100000`` for a quick look). Prints a table and writes
benchmarks/results/bench_solver.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import clear_fast as cf
from clear_fast.cli.bisection_baseline import bisection_allocate

CASES = (("surge", "shared"), ("surge", "per-query"), ("cumulative", "shared"), ("cumulative", "per-query"))
BUDGET_PER_QUERY = 300
RESULTS = Path(__file__).resolve().parent / "results" / "bench_solver.json"


def make_curves(form: str, parameters: str, n: int, seed: int = 0) -> cf.SurgeCurves:
    """Thresholds spread like a mixed stream (lognormal around 400 tokens).

    Shared: one width (200 tokens) and peak for all, the paper's case. Per
    query: widths 100-300 tokens, peaks 0.3-0.9 and value weights 0.5-2, so
    every query has its own alpha, beta and weight.
    """
    rng = np.random.default_rng(seed)
    tau = rng.lognormal(np.log(400.0), 0.8, n)
    if parameters == "shared":
        return cf.SurgeCurves.from_peak(tau, 0.8, 200.0, form=form)
    return cf.SurgeCurves.from_peak(
        tau, rng.uniform(0.3, 0.9, n), rng.uniform(100.0, 300.0, n), weight=rng.uniform(0.5, 2.0, n), form=form
    )


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


_MEMORY_CHILD = """
import sys, numpy as np
sys.path.insert(0, {here!r})
from bench_solver import make_curves
import clear_fast as cf
curves = make_curves({form!r}, {parameters!r}, {n})
cf.allocate(curves.subset(np.arange(100)), 30000)
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
before = status('VmRSS')
open('/proc/self/clear_refs', 'w').write('5')  # reset the high-water mark to the current size
result = cf.allocate(curves, {budget})
print(status('VmHWM') - before)
"""


def peak_extra_bytes(form: str, parameters: str, n: int) -> float:
    """Peak memory one allocate call adds above its inputs, in a fresh process."""
    code = _MEMORY_CHILD.format(
        here=str(Path(__file__).resolve().parent), form=form, parameters=parameters, n=n,
        budget=BUDGET_PER_QUERY * n,
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def run(sizes: list[int], repeats: int, baseline_repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        floats = np.random.default_rng(1).random(n)
        sort_seconds = median_seconds(lambda: np.argsort(floats), repeats)
        for form, parameters in CASES:
            curves = make_curves(form, parameters, n)
            budget = BUDGET_PER_QUERY * n
            cf.allocate(curves.subset(np.arange(min(n, 100))), 30000)  # warm-up
            ours = cf.allocate(curves, budget)
            ours_seconds = median_seconds(lambda: cf.allocate(curves, budget), repeats)
            grants, _ = bisection_allocate(form, curves.tau, curves.scale, curves.beta, budget)
            baseline_seconds = median_seconds(
                lambda: bisection_allocate(form, curves.tau, curves.scale, curves.beta, budget), baseline_repeats
            )
            baseline_utility = float(cf.utility(curves, grants).sum())
            memory = peak_extra_bytes(form, parameters, n)
            row = {
                "form": form,
                "parameters": parameters,
                "n": n,
                "allocate_s": ours_seconds,
                "bisection_s": baseline_seconds,
                "argsort_s": sort_seconds,
                "allocate_over_argsort": ours_seconds / sort_seconds,
                "bisection_over_allocate": baseline_seconds / ours_seconds,
                "peak_extra_bytes_per_query": memory / n,
                "utility_over_bisection": ours.utility / baseline_utility if baseline_utility > 0 else float("inf"),
                "certified_gap_percent": 100.0 * ours.gap / ours.upper_bound if ours.upper_bound else 0.0,
            }
            rows.append(row)
            print(
                f"{form:10s} {parameters:9s} n={n:>9,}  allocate/argsort {row['allocate_over_argsort']:5.2f}x  "
                f"bisection/allocate {row['bisection_over_allocate']:6.1f}x  "
                f"memory {row['peak_extra_bytes_per_query']:6.1f} B/query  "
                f"utility vs bisection {row['utility_over_bisection']:.5f}  gap {row['certified_gap_percent']:.5f}%",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"clear_fast {cf.__version__} ({cf.IMPLEMENTATION} kernel), numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, budget {BUDGET_PER_QUERY} tokens per query")
    rows = run(args.sizes, args.repeats, args.baseline_repeats)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"budget_per_query": BUDGET_PER_QUERY, "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
